"""The Draft tab: a topic and optional points -> a skeleton for a position
paper with cited evidence (lsn_assistant/draft.py), edited as Markdown,
downloaded as .md and .docx.

``draft_tab(get_assistant, settings)`` builds its components inside the
current ``gr.Blocks``/``gr.Tab``. Per user, a ``gr.State`` holds a
``Session``: the draft as built (its sources are what the markers of the
edited text may name) and the folder the downloads are written to, removed
with the state. Every edit rewrites both downloads from the edited text, so
what is downloaded is what the user sees in the preview.
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

LANGUAGES = [("Topic's language", "auto"), ("Deutsch", "de"), ("English", "en")]

INTRO = """Give a topic, and if you like the points you want to make (one per line).
The draft has one section per point, or, without points, background, goals,
measures and figures. Each section brings the passages of the documents that
bear on it as verbatim quotes with their source. Edit the Markdown freely: the
downloads are the edited text; markers are renumbered and the reference list is
rebuilt from the `[n]` that remain."""


@dataclass(frozen=True)
class Session:
    draft: Draft  # as built
    folder: str  # where this user's downloads are written


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
    docx_path.write_bytes(to_docx(draft))
    return draft, str(md_path), str(docx_path)


def status(draft: Draft) -> str:
    prose = "drafted by the LLM" if draft.mode == "llm" else "the documents' own sentences (extractive)"
    lines = [f"{len(draft.sections)} sections, {len(draft.sources)} sources; prose: {prose}."]
    lines += [f"- {note}" for note in draft.notes]
    return "\n".join(lines)


def on_build(
    get_assistant: Callable[[], Assistant],
    topic: str,
    points: str,
    docs: list[str] | None,
    lang: str,
    session: Session | None,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple:
    """Outputs: session, editor, preview, .md file, .docx file, status. A
    problem with the input or the index is a message, the rest unchanged."""
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
        gr.Warning(str(exc))
        return (gr.skip(),) * 5 + (f"Could not build the draft: {exc}",)
    if session is None:
        session = Session(draft, tempfile.mkdtemp(prefix="lsn-draft-"))
    else:
        session = dataclasses.replace(session, draft=draft)
    markdown = to_markdown(draft)
    _, md_path, docx_path = export(session, markdown)
    return session, markdown, markdown, md_path, docx_path, status(draft)


def on_edit(markdown: str, session: Session | None) -> tuple:
    """Outputs: preview, .md file, .docx file, status; the preview shows what
    the downloads hold (markers renumbered, the reference list rebuilt)."""
    if session is None:
        return markdown, gr.skip(), gr.skip(), gr.skip()
    draft, md_path, docx_path = export(session, markdown)
    return to_markdown(draft), md_path, docx_path, status(draft)


def document_choices(get_assistant: Callable[[], Assistant]):
    """The filter's choices, (title, file name) per indexed document."""
    try:
        docs = get_assistant().documents()
    except LSNError as exc:
        gr.Warning(f"The document list is not available: {exc}")
        return gr.update(choices=[])
    return gr.update(choices=sorted((d["title"] or d["doc"], d["doc"]) for d in docs))


def draft_tab(get_assistant: Callable[[], Assistant], settings: Settings) -> None:
    """The Draft tab's components and events, in the current Blocks context."""
    llm = (
        f"Prose: drafted by the LLM ({settings.llm_provider}, {settings.llm_model_name})."
        if settings.llm_provider != "none"
        else "No LLM is configured: each section's prose is the extractive answer."
    )
    gr.Markdown(f"{INTRO}\n\n{llm}")
    session = gr.State(None, delete_callback=remove_session)
    with gr.Row():
        with gr.Column(scale=2):
            topic = gr.Textbox(label="Topic", placeholder="e.g. Internationalisierung des Clusters")
            points = gr.Textbox(label="Points (optional, one per line)", lines=4)
        with gr.Column(scale=1):
            docs = gr.Dropdown(label="Only these documents (optional)", choices=[], multiselect=True)
            lang = gr.Radio(LANGUAGES, value="auto", label="Language of the draft")
            build = gr.Button("Build draft", variant="primary")
    message = gr.Markdown()
    with gr.Row():
        editor = gr.Textbox(label="Draft (Markdown, editable)", lines=24, max_lines=80)
        preview = gr.Markdown(label="Preview", latex_delimiters=[])
    with gr.Row():
        md_file = gr.DownloadButton("Download .md")
        docx_file = gr.DownloadButton("Download .docx")

    def build_draft_event(topic_text, points_text, doc_names, language, state, progress=gr.Progress()):
        def report(done: int, total: int, heading: str) -> None:
            progress((done, total), desc=heading)

        return on_build(get_assistant, topic_text, points_text, doc_names, language, state, report)

    build.click(
        build_draft_event,
        inputs=[topic, points, docs, lang, session],
        outputs=[session, editor, preview, md_file, docx_file, message],
        concurrency_id="answer",  # a draft is a few answers: it shares the chat's limit where there is one
        api_visibility="private",
    )
    editor.input(
        on_edit,
        inputs=[editor, session],
        outputs=[preview, md_file, docx_file, message],
        show_progress="hidden",
        trigger_mode="always_last",  # the last keystroke's text is always exported
        api_visibility="private",
    )
    gr.on(None, lambda: document_choices(get_assistant), outputs=docs, api_visibility="private")
