"""The Gradio chat UI, mounted at "/" of the API's FastAPI app.

Tabs: Chat (streamed answers with inline ``[n]`` links into a sources panel,
filters, the answer mode, a copy button), Documents (the corpus; upload and
delete behind the API key), Draft (a position paper's skeleton with its
evidence, edited and downloaded as .md and .docx; ``draft_tab``) and Eval (the
stored evaluation runs and a comparison of two; ``eval_tab``).

Everything a user has is per session: the conversation lives in ``gr.State``,
and the browser keeps the earlier ones (``gr.BrowserState``, its localStorage;
``conversations``) to reopen and continue after a reload; the server keeps
none. The one shared object is the ``Assistant`` behind ``get_assistant``. Answers
run up to ``ANSWER_CONCURRENCY`` at a time, so one long answer does not hold
up the others; uploads and deletes run one at a time. Gradio's upload cache is
bounded: per file (``max_file_size``), in total and per client
(``upload_guard``), and by age (``CACHE_CLEANUP``). The sources panel links
a PDF's cited page to the viewer in ``static/viewer`` (pdf.js, vendored),
served at ``/viewer/`` next to the UI.

    mount_ui(app, get_assistant, settings)   # lsn_assistant.api.create_app, after its routes
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from gradio.utils import get_upload_folder

from lsn_assistant.assistant import Assistant
from lsn_assistant.config import Settings
from lsn_assistant.errors import LSNError

from . import chat, conversations, documents
from .draft_tab import draft_tab
from .eval_tab import eval_tab
from .i18n import DEFAULT, I18N, request_language
from .render import mode_line, problem_line, sources_panel
from .upload_guard import UploadGuard

STATIC = Path(__file__).parent / "static"
VIEWER = STATIC / "viewer"  # the PDF page viewer, at /viewer/ (render.pdf_link)
ANSWER_CONCURRENCY = 4  # answers computed at once; more wait in the queue
DEFAULT_CONCURRENCY = 8  # light events: page load, lists, clearing
LANGUAGE_CHOICES = [("Deutsch", "de"), ("English", "en")]
COPY_JS = "(text) => window.lsnCopy(text)"  # window.lsnCopy: static/app.js
PRIVATE = "private"  # the UI's events are not an API (that is /api/*, /v1/*)
# Every 10 minutes, cached files (uploads, draft downloads) older than 30 are
# deleted: an upload is added within seconds of being chosen, or not at all.
CACHE_CLEANUP = (600, 1800)
# The browser encrypts its saved conversations with this (Gradio's default is
# new at every start, which would make them unreadable after a restart). It
# reaches the browser in the page's config, so it hides nothing from the
# browser's own user: the conversations are theirs, in their browser.
BROWSER_SECRET = "lsn-assistant-conversations-v1"
TIMEZONE_JS = "() => Intl.DateTimeFormat().resolvedOptions().timeZone"  # the saved conversations' times
# Gradio's bundled Source Sans Pro SemiBold (the default theme's weight 600)
# holds a handful of glyphs ("A", "B"): headings and bold text mixed it with a
# fallback font ("LSN Assistant" with an odd small "A"). Weight 700 is the
# complete Bold file, and text asking for 600 gets it (the nearest heavier).
THEME = gr.themes.Default(
    font=(gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif", "system-ui", "sans-serif"),
    font_mono=(gr.themes.LocalFont("IBM Plex Mono", weights=(400, 700)), "ui-monospace", "Consolas", "monospace"),
)


def build_ui(get_assistant: Callable[[], Assistant], settings: Settings) -> gr.Blocks:
    """The Blocks of the UI (not mounted; ``mount_ui`` does that)."""
    with gr.Blocks(title="LSN Assistant", analytics_enabled=False, delete_cache=CACHE_CLEANUP) as blocks:
        exchanges = gr.State([])
        conversation_id = gr.State(None)  # of the conversation shown, once it is saved
        saved = gr.BrowserState([], storage_key=conversations.STORAGE_KEY, secret=BROWSER_SECRET)
        timezone = gr.Textbox(visible=False)  # the browser's, set on load
        with gr.Row(elem_id="lsn-header"):
            gr.Markdown("# LSN Assistant")
            mode = gr.HTML(mode_line(None, DEFAULT), elem_id="lsn-mode", js_on_load=None)
        gr.Markdown(I18N("subtitle"))

        with gr.Tabs():
            with gr.Tab(I18N("tab_chat"), id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label=I18N("chat_label"),
                            elem_id="lsn-chat",
                            height=520,
                            buttons=[],  # Gradio's copy buttons would copy the link markup; ours copies text
                            latex_delimiters=[],
                            feedback_options=("Like", "Dislike"),  # 👍/👎 under each answer
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                label=I18N("question_label"),
                                placeholder=I18N("question_placeholder"),
                                elem_id="lsn-question",
                                scale=5,
                                max_lines=6,
                            )
                            ask = gr.Button(I18N("ask"), variant="primary", elem_id="lsn-ask", scale=1, min_width=90)
                        with gr.Row():
                            copy = gr.Button(I18N("copy"), size="sm", elem_id="lsn-copy")
                            new_chat = gr.Button(I18N("new_chat"), size="sm", elem_id="lsn-new-chat")
                            delete_conversation = gr.Button(
                                I18N("delete_conversation"), size="sm", elem_id="lsn-delete-conversation"
                            )
                        conversation_list = gr.Dropdown(
                            choices=[], value=None, label=I18N("conversations"), info=I18N("conversations_info"),
                            elem_id="lsn-conversations",
                        )
                        rating_comment = gr.Textbox(
                            label=I18N("feedback_comment"), max_lines=3, max_length=2000, elem_id="lsn-rating-comment"
                        )
                        rating_status = gr.Markdown(elem_id="lsn-rating-status")
                        with gr.Accordion(I18N("filters"), open=False, elem_id="lsn-filters"):
                            doc_filter = gr.Dropdown(
                                choices=[], multiselect=True, label=I18N("filter_docs"), info=I18N("filter_docs_info")
                            )
                            lang_filter = gr.CheckboxGroup(LANGUAGE_CHOICES, label=I18N("filter_lang"))
                        copy_text = gr.Textbox(visible=False)
                    with gr.Column(scale=2):
                        sources = gr.HTML(
                            sources_panel([], DEFAULT),
                            label=I18N("sources_label"),
                            show_label=False,  # its heading is in the panel: Gradio's label floated over the passages
                            container=True,
                            elem_id="lsn-sources-panel",
                            max_height=640,
                            js_on_load=None,
                        )

            with gr.Tab(I18N("tab_documents"), id="documents"):
                corpus = gr.Dataframe(
                    label=I18N("corpus"), interactive=False, wrap=True, elem_id="lsn-corpus",
                    column_widths=list(documents.COLUMN_WIDTHS),
                )
                refresh = gr.Button(I18N("refresh"), size="sm")
                with gr.Accordion(I18N("manage"), open=True):
                    api_key = gr.Textbox(label=I18N("api_key"), type="password", elem_id="lsn-api-key")
                    with gr.Row():
                        with gr.Column():
                            upload_file = gr.File(
                                label=I18N("upload_file"),
                                file_types=documents.UPLOAD_TYPES,
                                type="filepath",
                                elem_id="lsn-upload-file",
                            )
                            upload = gr.Button(I18N("upload"), variant="primary", elem_id="lsn-upload")
                        with gr.Column():
                            delete_doc = gr.Dropdown(choices=[], label=I18N("delete_doc"), elem_id="lsn-delete-doc")
                            delete = gr.Button(I18N("delete"), variant="stop", elem_id="lsn-delete")
                    status = gr.Markdown(elem_id="lsn-doc-status")

            with gr.Tab(I18N("tab_draft"), id="draft"):
                draft_tab(get_assistant, settings, concurrency_limit=ANSWER_CONCURRENCY)
            with gr.Tab(I18N("tab_eval"), id="eval"):
                eval_tab(settings)

        # ---- events

        def document_lists(lang: str) -> tuple:
            """(corpus table, chat's document filter, delete dropdown)."""
            try:
                docs = get_assistant().documents()
            except LSNError:
                docs = []  # the header says why
            choices = documents.doc_choices(docs)
            return documents.corpus_table(docs, lang), gr.update(choices=choices), gr.update(choices=choices, value=None)

        def on_load(request: gr.Request):
            lang = request_language(request)
            try:
                header = mode_line(get_assistant().health().get("llm"), lang)
            except LSNError as exc:
                header = problem_line(str(exc))
            return header, sources_panel([], lang), *document_lists(lang)

        lists = [corpus, doc_filter, delete_doc]
        blocks.load(on_load, outputs=[mode, sources, *lists], show_progress="hidden", api_visibility=PRIVATE)

        def on_ask(text: str, state: list, docs: list, langs: list, kept: list, shown_id: str | None, tz: str,
                   request: gr.Request):
            yield from chat.respond_and_keep(
                get_assistant, text, state, docs, langs, request_language(request), kept, shown_id, tz
            )

        answer_io = dict(
            fn=on_ask,
            inputs=[question, exchanges, doc_filter, lang_filter, saved, conversation_id, timezone],
            outputs=[question, chatbot, exchanges, sources, copy_text, saved, conversation_id, conversation_list],
            concurrency_limit=ANSWER_CONCURRENCY,
            concurrency_id="answer",
            show_progress="minimal",
            api_visibility=PRIVATE,
        )
        ask.click(**answer_io)
        question.submit(**answer_io)

        # ---- the conversations this browser keeps (saved with each answer: on_ask)

        def on_list(kept: list, tz: str, request: gr.Request):
            return gr.update(choices=conversations.choices(kept, request_language(request), tz), value=None)

        blocks.load(None, js=TIMEZONE_JS, outputs=[timezone], api_visibility=PRIVATE).then(
            on_list, inputs=[saved, timezone], outputs=[conversation_list], show_progress="hidden",
            api_visibility=PRIVATE,
        )

        def on_reopen(kept: list, chosen: str | None, request: gr.Request):
            return chat.reopen(kept, chosen, request_language(request))

        shown = [chatbot, exchanges, sources, copy_text, conversation_id]
        conversation_list.input(on_reopen, inputs=[saved, conversation_list], outputs=shown, api_visibility=PRIVATE)

        def on_delete_conversation(kept: list, chosen: str | None, shown_id: str | None, tz: str, request: gr.Request):
            """The conversation chosen in the list (the one shown, once saved)
            leaves the browser; shown, it leaves the chat too."""
            target = chosen or shown_id
            if not target:
                return (gr.skip(),) * 7
            lang = request_language(request)
            kept = conversations.delete(kept, target)
            listed = gr.update(choices=conversations.choices(kept, lang, tz), value=None)
            cleared = (*chat.clear(lang), None) if target == shown_id else (gr.skip(),) * 5
            return kept, listed, *cleared

        delete_conversation.click(
            on_delete_conversation,
            inputs=[saved, conversation_list, conversation_id, timezone],
            outputs=[saved, conversation_list, *shown],
            api_visibility=PRIVATE,
        )

        def on_new_chat(request: gr.Request):
            """A new conversation; the one shown stays in the list."""
            return *chat.clear(request_language(request)), None, gr.update(value=None)

        cleared = [*shown, conversation_list]
        new_chat.click(on_new_chat, outputs=cleared, api_visibility=PRIVATE)
        chatbot.clear(on_new_chat, outputs=cleared, api_visibility=PRIVATE)  # its own trash button
        copy.click(None, inputs=[copy_text], js=COPY_JS)

        def on_like(state: list, comment: str, data: gr.LikeData, request: gr.Request):
            return chat.rate(get_assistant, state, data.index, data.liked, comment, request_language(request))

        chatbot.like(on_like, inputs=[exchanges, rating_comment], outputs=[rating_status, rating_comment],
                     api_visibility=PRIVATE)

        def on_refresh(request: gr.Request):
            return document_lists(request_language(request))

        refresh.click(on_refresh, outputs=lists, api_visibility=PRIVATE)

        def on_upload(key: str, path: str | None, request: gr.Request):
            lang = request_language(request)
            message, stored = documents.upload(get_assistant, settings, key, path, lang, get_upload_folder())
            return message, None if stored else gr.skip(), *document_lists(lang)

        def on_delete(key: str, doc: str | None, request: gr.Request):
            lang = request_language(request)
            message = documents.delete(get_assistant, settings, key, doc, lang)
            return message, *document_lists(lang)

        writes = dict(concurrency_limit=1, concurrency_id="write", api_visibility=PRIVATE)
        upload.click(on_upload, inputs=[api_key, upload_file], outputs=[status, upload_file, *lists], **writes)
        delete.click(on_delete, inputs=[api_key, delete_doc], outputs=[status, *lists], **writes)

    blocks.queue(default_concurrency_limit=DEFAULT_CONCURRENCY)
    return blocks


def mount_ui(app: FastAPI, get_assistant: Callable[[], Assistant], settings: Settings) -> FastAPI:
    """Mount the UI at "/" of ``app`` and the PDF viewer at "/viewer"; call it
    after the API routes are added (they keep precedence over the UI's
    catch-all mount)."""
    blocks = build_ui(get_assistant, settings)
    # pdf.js is ES modules (.mjs): a machine whose MIME table lacks the
    # extension would serve them as text/plain, which browsers refuse to run
    mimetypes.add_type("text/javascript", ".mjs")
    app.mount("/viewer", StaticFiles(directory=VIEWER, html=True), name="lsn-viewer")
    app.add_middleware(
        UploadGuard,
        max_file_bytes=int(settings.max_upload_mb * 1024 * 1024),
        budget_bytes=int(settings.ui_upload_cache_mb * 1024 * 1024),
        cached_files=lambda: _uploaded(blocks),
    )
    mounted = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        i18n=I18N,
        theme=THEME,
        css_paths=[STATIC / "app.css"],
        js=(STATIC / "app.js").read_text(encoding="utf-8"),
        footer_links=["settings"],
        run_history=False,
        max_file_size=f"{int(settings.max_upload_mb * 1024)}kb",
        ssr_mode=False,
    )
    # Gradio checks that an event's input file is one a user uploaded (in its
    # upload cache) only in an app started with launch(); mounted, it would
    # copy any server file a caller names into the cache and hand it to the
    # event. The flag turns its check on (it is read nowhere else);
    # ``documents.uploaded_file`` checks again.
    blocks.has_launched = True
    return mounted


def _uploaded(blocks: gr.Blocks) -> list[str]:
    """The cache files this app's uploads made (Gradio prunes the set from a
    worker thread: a copy taken while it changes is taken again)."""
    for _ in range(5):
        try:
            return list(blocks.upload_file_set)
        except RuntimeError:
            continue
    return []
