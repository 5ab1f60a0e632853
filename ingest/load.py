"""Loaders: a file on disk -> a Document with pages.

The file's type is decided by its content (magic bytes), the name only picks
between text flavours. One unreadable file raises IngestError; the caller
reports it and goes on with the others.
"""

from __future__ import annotations

import io
import re
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lsn_assistant.errors import IngestError
from lsn_assistant.types import Document, Page

from .clean import check_profiles

SUPPORTED = (".pdf", ".txt", ".md", ".markdown", ".docx", ".html", ".htm")
MANIFEST_NAME = "manifest.toml"


def sniff(data: bytes, name: str) -> str:
    """The real type of a file: pdf, docx, html or text; 'unknown' otherwise."""
    head = data[:1024].lstrip()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" in z.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            pass
        return "unknown"
    if b"\x00" in data[:8192]:
        return "unknown"
    lower = head.lower()
    if lower.startswith((b"<!doctype html", b"<html")) or name.lower().endswith((".html", ".htm")):
        return "html"
    return "text"


def load_pdf(data: bytes, path: str) -> list[Page]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Owner-password-only PDFs open with an empty user password.
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise IngestError(path, "the PDF is encrypted with a password; provide an unencrypted copy")
        pages = [Page(number=i + 1, text=page.extract_text() or "") for i, page in enumerate(reader.pages)]
    except IngestError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError, IndexError) as exc:
        raise IngestError(path, f"not a readable PDF ({exc.__class__.__name__}: {exc})") from exc
    if not any(p.text.strip() for p in pages):
        raise IngestError(path, "the PDF has no extractable text (scanned images?); run OCR first")
    return pages


# A .docx is a zip: refuse one that unpacks to far more than any real document
# (a decompression bomb) before python-docx inflates it.
MAX_UNPACKED = 200 * 1024 * 1024
MAX_RATIO = 100  # above 10 MB unpacked


def check_zip_size(data: bytes, path: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(max(i.file_size, 0) for i in z.infolist())
    except zipfile.BadZipFile as exc:
        raise IngestError(path, f"not a readable .docx ({exc})") from exc
    if unpacked > MAX_UNPACKED or (unpacked > 10 * 1024 * 1024 and unpacked > MAX_RATIO * len(data)):
        raise IngestError(path, f"the .docx is too large when unpacked ({unpacked / 1e6:.0f} MB from {len(data) / 1e6:.1f} MB)")


def load_docx(data: bytes, path: str) -> list[Page]:
    import docx

    check_zip_size(data, path)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise IngestError(path, f"not a readable .docx ({exc.__class__.__name__})") from exc
    lines = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        m = re.match(r"heading (\d)", style)
        if m or style == "title":
            level = int(m.group(1)) if m else 1
            lines.append("#" * level + " " + text)
        elif "list" in style:
            lines.append("- " + text)
        else:
            lines.append(text)
    return [Page(number=None, text="\n\n".join(lines))]


def load_html(data: bytes, path: str) -> list[Page]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data, path), "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "header", "noscript"]):
        tag.decompose()
    lines = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li"]):
        text = " ".join(el.get_text(" ").split())
        if not text:
            continue
        if el.name.startswith("h"):
            lines.append("#" * int(el.name[1]) + " " + text)
        elif el.name == "li":
            lines.append("- " + text)
        else:
            lines.append(text)
    return [Page(number=None, text="\n\n".join(lines))]


def decode_text(data: bytes, path: str) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise IngestError(path, "text file is neither UTF-8 nor Windows-1252")


@dataclass(frozen=True)
class Manifest:
    entries: dict[str, dict]
    exclude: frozenset[str]


def read_manifest(folder: Path) -> Manifest:
    """Per-file facts (title, publisher, year, lang) from manifest.toml, if any,
    and the files of the folder that are not documents (exclude)."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return Manifest({}, frozenset())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise IngestError(str(path), f"manifest is not valid TOML: {exc}") from exc
    entries = {name: dict(entry) for name, entry in data.get("documents", {}).items()}
    return Manifest(entries, frozenset(data.get("exclude", [])))


def _guess_title(pages: list[Page], fallback: str) -> str:
    for page in pages:
        for line in page.text.splitlines():
            line = line.strip().lstrip("#").strip()
            if 3 <= len(line) <= 120:
                return line
    return fallback


def load_document(path: Path, manifest_entry: dict | None = None, data: bytes | None = None) -> Document:
    """Read one file. Raises IngestError with a reason a person can act on."""
    name = path.name
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IngestError(str(path), f"cannot read the file ({exc.strerror or exc})") from exc
    if not data.strip():
        raise IngestError(str(path), "the file is empty")
    kind = sniff(data, name)
    suffix = path.suffix.lower()
    if suffix == ".pdf" and kind != "pdf":
        raise IngestError(str(path), "named .pdf but the content is not a PDF")
    if suffix == ".docx" and kind != "docx":
        raise IngestError(str(path), "named .docx but the content is not a Word document")
    if kind == "unknown" or (suffix not in SUPPORTED):
        raise IngestError(str(path), f"unsupported file type (supported: {', '.join(SUPPORTED)})")
    if kind == "pdf":
        pages = load_pdf(data, str(path))
    elif kind == "docx":
        pages = load_docx(data, str(path))
    elif kind == "html":
        pages = load_html(data, str(path))
    else:
        pages = [Page(number=None, text=decode_text(data, str(path)))]
    entry = manifest_entry or {}
    year = entry.get("year")
    profiles = entry.get("clean", [])
    if isinstance(profiles, str) or not all(isinstance(p, str) for p in profiles):
        raise IngestError(str(path), f"manifest: clean must be a list of profile names, not {profiles!r}")
    try:
        profiles = check_profiles(profiles)
    except ValueError as exc:
        raise IngestError(str(path), f"manifest: {exc}") from exc
    return Document(
        doc=name,
        path=str(path),
        pages=tuple(pages),
        title=str(entry.get("title") or _guess_title(pages, path.stem)),
        publisher=str(entry.get("publisher", "")),
        year=int(year) if isinstance(year, (int, str)) and str(year).isdigit() else None,
        lang=str(entry.get("lang", "")),
        clean=profiles,
    )
