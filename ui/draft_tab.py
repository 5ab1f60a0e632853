"""The Draft tab: a topic and optional points -> a skeleton for a position
paper with cited evidence (lsn_assistant/draft.py), edited as Markdown,
downloaded as .md and .docx.

``draft_tab(get_assistant, settings)`` builds its components inside the
current ``gr.Blocks``/``gr.Tab``. Per user, a ``gr.State`` holds a
``Session``: the draft as built (its sources are what the markers of the
edited text may name) and the folder the downloads are written to, removed
with the state. Every edit rewrites both downloads from the edited text, so
what is downloaded is what the user sees in the preview.

Its words are in ``ui/i18n.py``: the labels as ``gr.I18n`` keys, the messages
in the language of the request (``ui_lang``); the draft itself is in the
topic's language or the one chosen.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from lsn_assistant.assistant import Assistant
from lsn_assistant.config import Settings
from lsn_assistant.draft import Draft, build_draft, from_markdown, to_docx, to_markdown
from lsn_assistant.errors import LSNError

from .i18n import DEFAULT, I18N, error_message, request_language, text

PRIVATE = "private"  # the UI's events are not an API


def language_choices(ui_lang: str) -> list[tuple[str, str]]:
    """The draft's language: the topic's (worded in the UI's language), German, English."""
    return [(text(ui_lang, "draft_lang_auto"), "auto"), ("Deutsch", "de"), ("English", "en")]


@dataclass(frozen=True)
class Session:
    draft: Draft  # as built
    folder: str  # where this user's downloads are written
    author: str | None = None  # the signed-in user (Gradio's auth), the .docx's author


def remove_session(session: Session | None) -> None:
    """The state's delete callback: the downloads go with it."""
    if session is not None:
        shutil.rmtree(session.folder, ignore_errors=True)


def file_stem(title: str) -> str:
    return re.sub(r"[^\w\-]+", "-", title).strip("-")[:60] or "draft"


def export(session: Session, markdown: str) -> tuple[Draft, str, str]:
    """The edited draft, written as .md and .docx (replacing earlier files)."""
    draft = from_markdown(markdown, session.draft)
    folder = Path(session.folder)
    for old in folder.iterdir():
        old.unlink()
    stem = file_stem(draft.title)
    md_path, docx_path = folder / f"{stem}.md", folder / f"{stem}.docx"
    md_path.write_text(to_markdown(draft), encoding="utf-8")
    docx_path.write_bytes(to_docx(draft, author=session.author))
    return draft, str(md_path), str(docx_path)


def exported_markdown(session: Session) -> str | None:
    """The Markdown the .md download holds now."""
    return next((p.read_text(encoding="utf-8") for p in Path(session.folder).glob("*.md")), None)


def status(draft: Draft, ui_lang: str = DEFAULT) -> str:
    """What was built, in the UI's language (the sections are those with a
    heading: text above the first one is not counted); the draft's notes (in
    the draft's language) below."""
    line = text(
        ui_lang,
        "draft_status",
        sections=text(ui_lang, "draft_sections", n=sum(1 for s in draft.sections if s.heading)),
        sources=text(ui_lang, "draft_sources", n=len(draft.sources)),
        prose=text(ui_lang, "draft_prose_llm" if draft.mode == "llm" else "draft_prose_extractive"),
    )
    return "\n".join([line, *(f"- {note}" for note in draft.notes)])


def on_build(
    get_assistant: Callable[[], Assistant],
    topic: str,
    points: str,
    docs: list[str] | None,
    lang: str,
    session: Session | None,
    progress: Callable[[int, int, str], None] | None = None,
    ui_lang: str = DEFAULT,
    author: str | None = None,
) -> tuple:
    """Outputs: session, editor, preview, .md file, .docx file, status. A
    problem with the input or the index is a message (in the UI's
    language), the rest unchanged. ``author``: the user, when signed in."""
    try:
        draft = build_draft(
            get_assistant(),
            topic,
            (points or "").splitlines(),
            {"doc": list(docs)} if docs else None,
            None if lang == "auto" else lang,
            progress,
        )
    except LSNError as exc:
        message = error_message(ui_lang, exc)
        gr.Warning(message)
        return (gr.skip(),) * 5 + (text(ui_lang, "draft_failed", error=message),)
    if session is None:
        session = Session(draft, tempfile.mkdtemp(prefix="lsn-draft-"), author)
    else:
        session = dataclasses.replace(session, draft=draft, author=author)
    markdown = to_markdown(draft)
    _, md_path, docx_path = export(session, markdown)
    return session, markdown, markdown, md_path, docx_path, status(draft, ui_lang)


def on_edit(markdown: str, session: Session | None, ui_lang: str = DEFAULT) -> tuple:
    """Outputs: preview, .md file, .docx file, status; the preview shows what
    the downloads hold (markers renumbered, the reference list rebuilt). Text
    the downloads already hold (the editor's change when a build fills it)
    changes nothing, so the build's status with its notes stays."""
    if session is None:
        return markdown, gr.skip(), gr.skip(), gr.skip()
    if exported_markdown(session) == to_markdown(from_markdown(markdown, session.draft)):
        return (gr.skip(),) * 4
    draft, md_path, docx_path = export(session, markdown)
    return to_markdown(draft), md_path, docx_path, status(draft, ui_lang)


def document_choices(get_assistant: Callable[[], Assistant], ui_lang: str = DEFAULT):
    """The filter's choices, (title, file name) per indexed document."""
    try:
        docs = get_assistant().documents()
    except LSNError as exc:
        gr.Warning(text(ui_lang, "draft_no_doc_list", error=error_message(ui_lang, exc)))
        return gr.update(choices=[])
    return gr.update(choices=sorted((d["title"] or d["doc"], d["doc"]) for d in docs))


def draft_tab(
    get_assistant: Callable[[], Assistant], settings: Settings, concurrency_limit: int | None | str = "default"
) -> None:
    """The Draft tab's components and events, in the current Blocks context.
    A draft is a few answers: building one shares the concurrency group
    "answer" with the chat, whose limit the app passes as ``concurrency_limit``
    (Gradio applies the lowest limit of a group's events once they have run)."""
    gr.Markdown(I18N("draft_intro"))
    if settings.llm_provider != "none":
        gr.Markdown(I18N("draft_prose_by_llm") + f" ({settings.llm_provider}, {settings.llm_model_name}).")
    else:
        gr.Markdown(I18N("draft_no_llm"))
    session = gr.State(None, delete_callback=remove_session)
    with gr.Row():
        with gr.Column(scale=2):
            topic = gr.Textbox(
                label=I18N("draft_topic"), placeholder=I18N("draft_topic_placeholder"), elem_id="lsn-draft-topic"
            )
            points = gr.Textbox(label=I18N("draft_points"), lines=4, elem_id="lsn-draft-points")
        with gr.Column(scale=1):
            docs = gr.Dropdown(label=I18N("draft_docs"), choices=[], multiselect=True, elem_id="lsn-draft-docs")
            lang = gr.Radio(language_choices(DEFAULT), value="auto", label=I18N("draft_lang"), elem_id="lsn-draft-lang")
            build = gr.Button(I18N("draft_build"), variant="primary", elem_id="lsn-draft-build")
    message = gr.Markdown(elem_id="lsn-draft-status")
    with gr.Row():
        editor = gr.Textbox(label=I18N("draft_editor"), lines=24, max_lines=80, elem_id="lsn-draft-editor")
        preview = gr.Markdown(label=I18N("draft_preview"), latex_delimiters=[], elem_id="lsn-draft-preview")
    with gr.Row():
        md_file = gr.DownloadButton(I18N("draft_download_md"), elem_id="lsn-draft-md")
        docx_file = gr.DownloadButton(I18N("draft_download_docx"), elem_id="lsn-draft-docx")

    def build_draft_event(topic_text, points_text, doc_names, language, state, request: gr.Request, progress=gr.Progress()):
        def report(done: int, total: int, heading: str) -> None:
            progress((done, total), desc=heading)

        ui_lang = request_language(request)
        author = getattr(request, "username", None)  # set when the app is served with Gradio's auth
        return on_build(get_assistant, topic_text, points_text, doc_names, language, state, report, ui_lang, author)

    def edit_event(markdown: str, state: Session | None, request: gr.Request):
        return on_edit(markdown, state, request_language(request))

    def load_event(request: gr.Request):
        ui_lang = request_language(request)
        return document_choices(get_assistant, ui_lang), gr.update(choices=language_choices(ui_lang))

    build.click(
        build_draft_event,
        inputs=[topic, points, docs, lang, session],
        outputs=[session, editor, preview, md_file, docx_file, message],
        concurrency_id="answer",
        concurrency_limit=concurrency_limit,
        api_visibility=PRIVATE,
    )
    editor.change(  # not .input: Gradio's Textbox fires that on keys only, not when text is pasted or dropped
        edit_event,
        inputs=[editor, session],
        outputs=[preview, md_file, docx_file, message],
        show_progress="hidden",
        trigger_mode="always_last",  # the last text is always exported
        # one at a time: two edits of a session running side by side could finish out of order
        # and leave the preview of the older text (an edit takes milliseconds, so users barely wait)
        concurrency_limit=1,
        concurrency_id="draft_edit",
        api_visibility=PRIVATE,
    )
    gr.on(None, load_event, outputs=[docs, lang], api_visibility=PRIVATE)  # on page load
