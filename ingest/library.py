"""The document library: the corpus folder as shipped, plus the documents staff
upload through the API or UI (``data_dir/uploads``, with their own manifest).

``lsn ingest`` without arguments syncs the index with both folders. Deleting an
uploaded document deletes its file; deleting a corpus document only takes it
out of the index (its name is kept in ``data_dir/removed.json`` so the next
sync does not bring it back) and leaves the shipped file alone, so nothing is
lost: ``lsn ingest corpus/<file>`` brings it back.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from lsn_assistant.config import Settings
from lsn_assistant.errors import Conflict, IngestError, NotFound, UploadRejected

from .load import MANIFEST_NAME, SUPPORTED, load_document, read_manifest, sniff
from .prepare import prepare

# What an upload may be, by name and by content.
UPLOAD_KINDS = {".pdf": "pdf", ".docx": "docx", ".txt": "text", ".md": "text", ".markdown": "text"}
REMOVED_FILE = "removed.json"
MAX_NAME = 120


def sources(settings: Settings) -> list[Path]:
    """The folders a default ingest syncs."""
    folders = [settings.corpus_dir]
    if settings.upload_dir.is_dir():
        folders.append(settings.upload_dir)
    return folders


def removed(settings: Settings) -> set[str]:
    """Corpus documents taken out of the index through the API or UI."""
    path = settings.data_dir / REMOVED_FILE
    try:
        return set(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return set()
    except (ValueError, TypeError, OSError):
        return set()  # unreadable: nothing stays removed rather than losing documents


def _write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def set_removed(settings: Settings, names: set[str]) -> None:
    _write_json(settings.data_dir / REMOVED_FILE, sorted(names))


def safe_name(filename: str) -> str:
    """A plain file name from whatever a client sent: no folders, no leading
    dots, no control or shell-special characters; the extension kept."""
    name = unicodedata.normalize("NFC", str(filename or "")).replace("\\", "/").split("/")[-1]
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(" .")
    name = re.sub(r"[ _]{2,}", "_", name)
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        raise UploadRejected(f"the file name {filename!r} has no usable name and extension")
    if len(name) > MAX_NAME:
        name = stem[: MAX_NAME - len(ext) - 1] + "." + ext
    return name


def origins(settings: Settings, docs: Iterable[str]) -> dict[str, str | None]:
    """For each name, "upload" or "corpus" when it is a document file of the
    library, else None (also for the manifest and the files it excludes).
    Each folder's manifest is read once, however many names are asked."""
    excluded: dict[Path, frozenset[str]] = {}

    def exclude(folder: Path) -> frozenset[str]:
        if folder not in excluded:
            try:
                excluded[folder] = read_manifest(folder).exclude
            except IngestError:
                excluded[folder] = frozenset()
        return excluded[folder]

    out: dict[str, str | None] = {}
    for doc in docs:
        out[doc] = None
        if not doc.lower().endswith(SUPPORTED) or doc.startswith("."):
            continue
        for where, folder in (("upload", settings.upload_dir), ("corpus", settings.corpus_dir)):
            if (folder / doc).is_file():
                out[doc] = None if doc in exclude(folder) else where
                break
    return out


def origin(settings: Settings, doc: str) -> str | None:
    """``origins`` of one name."""
    return origins(settings, [doc])[doc]


# What a library file is served as (``original``): the type was checked by
# content when it was ingested (a ``.pdf`` holds a PDF, a ``.docx`` a Word file).
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".html": "text/html",
    ".htm": "text/html",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
}


def plain_name(doc: str) -> bool:
    """Whether ``doc`` can name a library file: a bare file name, no folders,
    not hidden (so no ``..``)."""
    return bool(doc) and doc == Path(doc).name and not doc.startswith(".") and "\\" not in doc


def original(settings: Settings, doc: str) -> tuple[Path, str] | None:
    """The file of a library document and its media type (text with its
    charset: UTF-8, else Windows-1252, as the loader reads it); None when
    ``doc`` is no document file of the upload or corpus folder."""
    if not plain_name(doc):
        return None
    where = origin(settings, doc)
    if where is None:
        return None
    path = (settings.upload_dir if where == "upload" else settings.corpus_dir) / doc
    media = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    if media.startswith("text/"):
        try:
            path.read_bytes().decode("utf-8")
            media += "; charset=utf-8"
        except UnicodeDecodeError:
            media += "; charset=windows-1252"
        except OSError:
            return None
    return path, media


def check_upload(settings: Settings, filename: str, data: bytes) -> str:
    """The name the upload will be stored under; UploadRejected (with an HTTP
    status) when it is too big, empty, or not what its name says."""
    limit = int(settings.max_upload_mb * 1024 * 1024)
    if len(data) > limit:
        raise UploadRejected(f"the file is {len(data) / 1e6:.1f} MB; the limit is {settings.max_upload_mb:g} MB", 413)
    name = safe_name(filename)
    ext = "." + name.rpartition(".")[2].lower()
    if ext not in UPLOAD_KINDS:
        raise UploadRejected(f"{ext} files are not accepted; upload {', '.join(sorted(UPLOAD_KINDS))}", 415)
    if not data.strip():
        raise UploadRejected("the file is empty", 400)
    kind = sniff(data, name)
    if kind != UPLOAD_KINDS[ext]:
        found = "unrecognised binary data" if kind == "unknown" else f"{kind} content"
        raise UploadRejected(f"{name} is named {ext} but holds {found}", 415)
    if (settings.corpus_dir / name).is_file():
        raise Conflict(f"the corpus folder already has a document named {name}; rename the file")
    return name


def _manifest_entry(title: str | None, year: int | None, lang: str | None) -> dict:
    entry: dict = {}
    if title and title.strip():
        entry["title"] = title.strip()[:300]
    if year is not None:
        entry["year"] = int(year)
    if lang:
        entry["lang"] = lang
    return entry


def _write_manifest(folder: Path, entries: dict[str, dict]) -> None:
    lines = ["# Facts of uploaded documents (written by LSN Assistant).", ""]
    for name in sorted(entries):
        lines.append(f"[documents.{json.dumps(name, ensure_ascii=False)}]")
        for key, value in entries[name].items():
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        lines.append("")
    tmp = folder / (MANIFEST_NAME + ".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST_NAME)


def store_upload(
    settings: Settings,
    filename: str,
    data: bytes,
    title: str | None = None,
    year: int | None = None,
    lang: str | None = None,
) -> Path:
    """Check an upload, make sure it loads and yields text (a corrupt or
    encrypted file is refused before anything is replaced), then put it in the
    upload folder.
    Returns its path, ready to ingest."""
    if lang not in (None, "", "de", "en"):
        raise UploadRejected("lang must be de or en")
    name = check_upload(settings, filename, data)
    folder = settings.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    entry = _manifest_entry(title, year, lang)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix="." + name.rpartition(".")[2])
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            chunks = prepare(load_document(tmp, entry, data=data), settings)
        except IngestError as exc:
            raise UploadRejected(f"{name}: {exc.reason}", 422) from exc
        if not chunks:
            raise UploadRejected(f"{name}: no text left after cleaning", 422)
        entries = read_manifest(folder).entries
        entries[name] = entry
        os.replace(tmp, folder / name)
        _write_manifest(folder, {k: v for k, v in entries.items() if (folder / k).is_file()})
    finally:
        tmp.unlink(missing_ok=True)
    return folder / name


def forget(settings: Settings, doc: str, indexed: bool) -> str:
    """Take a document out of the library: delete an uploaded file, or mark a
    corpus document removed. Returns its origin; NotFound when it is neither a
    library file nor in the index."""
    if not plain_name(doc):
        raise NotFound(f"no document named {doc!r}")
    where = origin(settings, doc)
    if where == "upload":
        (settings.upload_dir / doc).unlink()
        folder = settings.upload_dir
        entries = read_manifest(folder).entries
        if entries.pop(doc, None) is not None:
            _write_manifest(folder, entries)
    elif where == "corpus":
        set_removed(settings, removed(settings) | {doc})
    elif not indexed:
        raise NotFound(f"no document named {doc!r}")
    return where or "index"
