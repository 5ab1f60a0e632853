"""The Documents tab's logic: the corpus as a table, and upload and delete
behind the API key (``lsn_assistant.auth.check_api_key``, as the API does).

Each write returns a status line for the tab; a refused key or a rejected
file is a readable message there, not an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lsn_assistant.assistant import Assistant
from lsn_assistant.auth import check_api_key
from lsn_assistant.config import Settings
from lsn_assistant.errors import LSNError

from .i18n import text, word
from .render import escape_markdown

UPLOAD_TYPES = [".pdf", ".docx", ".txt", ".md", ".markdown"]
COLUMNS = ("doc", "title", "year", "langs", "chunks", "source")


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
            line += f": {escape_markdown(f['error'])}"
        lines.append(line)
    if report.get("index_size") is not None:
        lines.append(text(lang, "index_size", n=report["index_size"]))
    return "  \n".join(lines)


def error_text(exc: LSNError) -> str:
    return f"⚠ {escape_markdown(str(exc))}"


def upload(
    get_assistant: Callable[[], Assistant], settings: Settings, key: str | None, path: str | None, lang: str
) -> tuple[str, bool]:
    """Check the key, then add the file to the library and the index: the
    status line, and whether the file went in."""
    if not path:
        return text(lang, "no_file"), False
    try:
        check_api_key(settings, key or None)
        report = get_assistant().add_document(Path(path).name, Path(path).read_bytes())
    except LSNError as exc:
        return error_text(exc), False
    return report_text(report, lang), not any(f.get("status") == "failed" for f in report.get("files", []))


def delete(get_assistant: Callable[[], Assistant], settings: Settings, key: str | None, doc: str | None, lang: str) -> str:
    """Check the key, then take the document out of the library and the index."""
    if not doc:
        return text(lang, "no_doc")
    try:
        check_api_key(settings, key or None)
        report = get_assistant().delete_document(doc)
    except LSNError as exc:
        return error_text(exc)
    lines = [escape_markdown(text(lang, "deleted", doc=doc))]
    if isinstance(report, dict) and report.get("index_size") is not None:
        lines.append(text(lang, "index_size", n=report["index_size"]))
    return "  \n".join(lines)
