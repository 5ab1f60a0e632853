"""Ingestion: files -> documents -> cleaned pages -> chunks -> embedded, in the store.

Incremental and idempotent:
- chunk ids are content hashes (document + text), so a chunk whose text did not
  change keeps its id and its vectors: nothing is embedded twice;
- every chunk records its document's ``doc_hash`` (raw bytes + manifest entry +
  recipe) and the document's chunk count; a document is complete when all its
  chunks carry the current hash and the count matches. An unchanged, complete
  document is skipped without reading past its bytes;
- new chunks are written batch by batch before stale ones are deleted, so an
  interrupted run leaves every document searchable, and the next run completes
  what is missing.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from tqdm import tqdm

from lsn_assistant.config import Settings, get_settings
from lsn_assistant.embeddings import get_embedder, passage_text
from lsn_assistant.errors import IngestError
from lsn_assistant.store import ChunkStore
from lsn_assistant.types import Chunk, Document

from .chunk import chunk_document
from .clean import clean_pages
from lsn_assistant.language import detect_language
from lsn_assistant import library
from .load import SUPPORTED, load_document, read_manifest

# Bump when cleaning or chunking changes what a file turns into.
RECIPE_VERSION = "4"
EMBED_BATCH = 16


@dataclass
class FileReport:
    doc: str
    path: str
    status: str  # added | updated | unchanged | failed | removed
    chunks: int = 0
    embedded: int = 0
    deleted: int = 0
    error: str | None = None


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0
    embedded: int = 0
    index_size: int = 0
    location: str = ""
    prepared: int = 0  # answer sentences embedded after the ingest (lsn ingest)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    def to_dict(self) -> dict:
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.status] = counts.get(f.status, 0) + 1
        return {
            "files": [asdict(f) for f in self.files],
            "counts": counts,
            "embedded": self.embedded,
            "index_size": self.index_size,
            "seconds": round(self.seconds, 3),
            "location": self.location,
            "prepared_sentences": self.prepared,
        }


def discover(paths: list[Path]) -> tuple[list[tuple[Path, dict]], list[FileReport]]:
    """Files to ingest with their manifest entries; problems as failed reports."""
    found: list[tuple[Path, dict]] = []
    problems: list[FileReport] = []
    for path in paths:
        folder = path if path.is_dir() else path.parent
        try:
            manifest = read_manifest(folder)
        except IngestError as exc:
            problems.append(FileReport(doc=exc.path, path=exc.path, status="failed", error=exc.reason))
            continue
        if path.is_dir():
            files = sorted(
                p for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in SUPPORTED and p.name not in manifest.exclude
                and not p.name.startswith(".")
            )
        elif path.is_file():
            files = [path]
        else:
            problems.append(FileReport(doc=path.name, path=str(path), status="failed", error="no such file or folder"))
            continue
        found.extend((f, manifest.entries.get(f.name, {})) for f in files)
    # Documents are keyed by file name: the last of two same-named files would win silently.
    names: dict[str, Path] = {}
    unique = []
    for f, entry in found:
        if f.name in names and names[f.name] != f:
            problems.append(FileReport(doc=f.name, path=str(f), status="failed",
                                       error=f"another file with the same name is ingested ({names[f.name]})"))
            continue
        names[f.name] = f
        unique.append((f, entry))
    return unique, problems


def doc_hash(data: bytes, entry: dict, settings: Settings) -> str:
    h = hashlib.sha256()
    h.update(data)
    recipe = {
        "recipe": RECIPE_VERSION,
        "entry": entry,
        "chunk": [settings.chunk_words, settings.chunk_max_words, settings.chunk_overlap_sentences],
    }
    h.update(json.dumps(recipe, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def prepare(doc: Document, settings: Settings) -> list[Chunk]:
    """Clean, chunk and language-tag one loaded document."""
    cleaned = clean_pages([p.text for p in doc.pages])
    if not doc.lang:
        doc = replace(doc, lang=detect_language(" ".join(cleaned)[:5000], default="de"))
    chunks = chunk_document(
        doc,
        [(p.number, text) for p, text in zip(doc.pages, cleaned)],
        target_words=settings.chunk_words,
        max_words=settings.chunk_max_words,
        overlap_sentences=settings.chunk_overlap_sentences,
    )
    return [replace(c, lang=detect_language(c.text, default=doc.lang)) for c in chunks]


def ingest(
    paths: list[Path] | None = None,
    settings: Settings | None = None,
    store: ChunkStore | None = None,
    prune: bool | None = None,
    progress: bool = True,
) -> IngestReport:
    """Bring the index in line with the given files (default: the corpus folder).

    Without paths it syncs the document library: the corpus folder and the
    uploads folder, without the corpus documents removed through the API or UI
    (``lsn_assistant.library``). Naming a removed document's file brings it back.

    ``prune`` removes documents of the index that are not among the files found;
    it defaults to True when syncing the library.
    """
    start = time.perf_counter()
    settings = settings or get_settings()
    store = store or ChunkStore(settings)
    gone = library.removed(settings)
    if not paths:
        paths = library.sources(settings)
        prune = True if prune is None else prune
    else:
        named = {Path(p).name for p in paths if Path(p).is_file()}
        if gone & named:
            gone -= named
            library.set_removed(settings, gone)
    report = IngestReport(location=store.location)
    files, problems = discover([Path(p) for p in paths])
    files = [(f, entry) for f, entry in files if f.name not in gone]
    report.files.extend(problems)

    states = {emb: store.doc_states(emb) for emb in store.embedders}
    work: list[tuple[FileReport, list[Chunk]]] = []
    for path, entry in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            report.files.append(FileReport(path.name, str(path), "failed", error=f"cannot read ({exc.strerror})"))
            continue
        h = doc_hash(data, entry, settings)
        known = [states[e].get(path.name) for e in store.embedders]
        if all(st is not None and st.complete_for(h) for st in known):
            report.files.append(FileReport(path.name, str(path), "unchanged", chunks=known[0].count))
            continue
        try:
            doc = replace(load_document(path, entry, data=data), content_hash=h)
            chunks = prepare(doc, settings)
            if not chunks:
                raise IngestError(str(path), "no text left after cleaning")
        except IngestError as exc:
            report.files.append(FileReport(path.name, str(path), "failed", error=exc.reason))
            continue
        status = "updated" if any(st is not None for st in known) else "added"
        fr = FileReport(path.name, str(path), status, chunks=len(chunks))
        report.files.append(fr)
        work.append((fr, chunks))

    # What each collection lacks, counted up front so the progress bar knows its length.
    plan = []
    total = 0
    for fr, chunks in work:
        per_emb = {}
        for emb in store.embedders:
            have = store.ids_of_doc(emb, fr.doc)
            missing = [c for c in chunks if c.chunk_id not in have]
            kept = [c for c in chunks if c.chunk_id in have]
            stale = have - {c.chunk_id for c in chunks}
            per_emb[emb] = (missing, kept, stale)
            total += len(missing)
        plan.append((fr, chunks, per_emb))

    bar = tqdm(total=total, unit="chunk", desc="embedding", disable=not progress or total == 0, file=sys.stderr)
    try:
        for fr, chunks, per_emb in plan:
            n_chunks = {fr.doc: len(chunks)}
            for emb, (missing, kept, stale) in per_emb.items():
                embedder = get_embedder(emb, settings.embed_threads)
                for i in range(0, len(missing), EMBED_BATCH):
                    batch = missing[i : i + EMBED_BATCH]
                    vectors = embedder.embed_passages([passage_text(c) for c in batch])
                    store.upsert(emb, batch, vectors, n_chunks)
                    bar.update(len(batch))
                fr.embedded += len(missing)
                store.update_metadata(emb, kept, n_chunks)
                store.delete(emb, stale)
                fr.deleted = max(fr.deleted, len(stale))
            report.embedded += fr.embedded
    finally:
        bar.close()

    if prune:
        wanted = {p.name for p, _ in files} | {f.doc for f in report.files if f.status == "failed"}
        present = set()
        for emb in store.embedders:
            present |= set(states[emb])
        for doc in sorted(present - wanted):
            removed = store.delete_doc(doc)
            report.files.append(FileReport(doc, "", "removed", deleted=removed))

    if any(f.embedded or f.deleted or f.status in ("updated", "removed") for f in report.files):
        store.bump_generation()  # other processes sharing the store reload
    report.index_size = store.count()
    report.seconds = time.perf_counter() - start
    return report
