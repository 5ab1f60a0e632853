"""The Documents tab's logic: the corpus as a table, and upload and delete
behind the API key (``lsn_assistant.auth.check_api_key``, as the API does).

Each write returns a status line for the tab; a refused key or a rejected
file is a readable message there (in German for a German UI,
``i18n.error_message``), not an exception.

The file input's value is a path the browser sends back, and a caller can
send any path: only a file inside Gradio's upload cache (resolved, links
followed) is read (``uploaded_file``), never another file of the server.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lsn_assistant.assistant import Assistant
from lsn_assistant.auth import check_api_key
from lsn_assistant.config import Settings
from lsn_assistant.errors import LSNError, UploadRejected

from .i18n import error_message, text, word
from .render import escape_markdown

UPLOAD_TYPES = [".pdf", ".docx", ".txt", ".md", ".markdown"]
COLUMNS = ("doc", "title", "year", "langs", "chunks", "source")
# Fixed shares of the width: measured from their content, a long file name or
# title pushed the right-hand columns out of a 1400-px window.
COLUMN_WIDTHS = ("26%", "36%", "7%", "9%", "9%", "13%")


def corpus_table(docs: list[dict], lang: str) -> dict:
    """The documents as a ``gr.Dataframe`` value, sorted by title."""
    rows = [
        [
            d["doc"],
            d.get("title") or "",
            d.get("year") or "",
            ", ".join(d.get("langs") or []),
            d.get("chunks", 0),
            word(lang, "source", d.get("source")),
        ]
        for d in sorted(docs, key=lambda d: ((d.get("title") or d["doc"]).lower(), d["doc"]))
    ]
    return {"headers": [text(lang, f"col_{c}") for c in COLUMNS], "data": rows}


def doc_choices(docs: list[dict]) -> list[tuple[str, str]]:
    """(label, doc id) pairs for the document dropdowns."""
    pairs = [(f"{d.get('title') or d['doc']} ({d['doc']})", d["doc"]) for d in docs]
    return sorted(pairs, key=lambda p: p[0].lower())


def report_text(report: dict, lang: str) -> str:
    """An ingest report as Markdown lines: one per file, then the index size."""
    lines = []
    for f in report.get("files", []):
        line = f"**{escape_markdown(f.get('doc', ''))}**: {word(lang, 'status', f.get('status'))}"
        if f.get("chunks"):
            line += f", {text(lang, 'passages', n=f['chunks'])}"
        if f.get("error"):
            line += f": {escape_markdown(error_message(lang, f['error']))}"
        lines.append(line)
    if report.get("index_size") is not None:
        lines.append(text(lang, "index_size", n=report["index_size"]))
    return "  \n".join(lines)


def error_text(exc: LSNError, lang: str) -> str:
    return f"⚠ {escape_markdown(error_message(lang, exc))}"


def uploaded_file(path: str, cache_dir: str | Path, max_bytes: int) -> Path:
    """The file the browser uploaded for this event: ``path`` only when it
    resolves to a regular file inside Gradio's upload cache (``cache_dir``)
    and is no bigger than a document may be; UploadRejected otherwise."""
    cache = Path(cache_dir).resolve()
    try:
        real = Path(path).resolve(strict=True)
    except (OSError, RuntimeError):  # gone (the cache is emptied by age), or a link loop
        raise UploadRejected("the uploaded file is no longer there; choose it again") from None
    if not real.is_relative_to(cache) or not real.is_file():
        raise UploadRejected("only a file uploaded through this page can be added (the path is outside the upload cache)")
    if real.stat().st_size > max_bytes:
        raise UploadRejected(f"the file is larger than {max_bytes / 1e6:.1f} MB", 413)
    return real


def upload(
    get_assistant: Callable[[], Assistant],
    settings: Settings,
    key: str | None,
    path: str | None,
    lang: str,
    cache_dir: str | Path,
) -> tuple[str, bool]:
    """Check the key, then that the file is an upload in ``cache_dir``, then
    add it to the library and the index: the status line, and whether the
    file went in (then it leaves the cache: the library holds it now)."""
    if not path:
        return text(lang, "no_file"), False
    try:
        check_api_key(settings, key or None)  # first: without the key, nothing about the path is revealed
        real = uploaded_file(path, cache_dir, int(settings.max_upload_mb * 1024 * 1024))
        report = get_assistant().add_document(real.name, real.read_bytes())
    except LSNError as exc:
        return error_text(exc, lang), False
    stored = not any(f.get("status") == "failed" for f in report.get("files", []))
    if stored:
        real.unlink(missing_ok=True)
    return report_text(report, lang), stored


def delete(get_assistant: Callable[[], Assistant], settings: Settings, key: str | None, doc: str | None, lang: str) -> str:
    """Check the key, then take the document out of the library and the index."""
    if not doc:
        return text(lang, "no_doc")
    try:
        check_api_key(settings, key or None)
        report = get_assistant().delete_document(doc)
    except LSNError as exc:
        return error_text(exc, lang)
    lines = [escape_markdown(text(lang, "deleted", doc=doc))]
    if isinstance(report, dict) and report.get("index_size") is not None:
        lines.append(text(lang, "index_size", n=report["index_size"]))
    return "  \n".join(lines)
