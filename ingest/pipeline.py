"""Ingestion: files -> documents -> cleaned pages -> chunks -> embedded, in the store.

Incremental and idempotent:
- chunk ids are content hashes (document + text), so a chunk whose text did not
  change keeps its id and its vectors: nothing is embedded twice;
- every chunk records its document's ``doc_hash`` (raw bytes + manifest entry +
  recipe) and the document's chunk count; a document is complete when all its
  chunks carry the current hash and the count matches. An unchanged, complete
  document is skipped without reading past its bytes;
- a document's new version is written under a pending record of the store's
  ledger and published in one write once all its chunks are in every
  collection; only then are the chunks it no longer uses deleted. Searches see
  the old version (or nothing) until then, never a mix, and a run killed
  half-way leaves invisible chunks that the next run reuses, or that
  ``recover`` (at ``lsn serve`` start-up) finishes or rolls back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from tqdm import tqdm

from lsn_assistant.config import Settings, get_settings
from lsn_assistant.embeddings import get_embedder, passage_text
from lsn_assistant.errors import IngestError
from lsn_assistant.store import ChunkStore, Publication
from lsn_assistant.types import Chunk

from . import library
from .clean import recipe as clean_recipe
from .load import SUPPORTED, load_document, read_manifest
from .prepare import prepare

# Bump when cleaning or chunking changes what a file turns into.
RECIPE_VERSION = "5"  # 5: structured entries (ingest/structure.py)
EMBED_BATCH = 16
# A pending version whose writer runs on another host counts as abandoned when
# the writer has not written a batch for this long (on this host the process
# table says whether it is alive).
WRITER_SILENT_S = 600.0

log = logging.getLogger(__name__)


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


def _clean_recipe(entry: dict) -> str:
    """The cleaning recipe of a manifest entry; a bad ``clean`` value is
    reported by ``load_document``, so here it only has to hash."""
    try:
        return clean_recipe(entry.get("clean", []))
    except (ValueError, TypeError):
        return f"invalid {entry.get('clean')!r}"


def doc_hash(data: bytes, entry: dict, settings: Settings) -> str:
    h = hashlib.sha256()
    h.update(data)
    recipe = {
        "recipe": RECIPE_VERSION,
        # the cleaning rules in order and the document's profiles: a rule
        # added, removed or reordered re-cleans what it touches
        "clean": _clean_recipe(entry),
        "entry": entry,
        "chunk": [settings.chunk_words, settings.chunk_max_words, settings.chunk_overlap_sentences],
    }
    h.update(json.dumps(recipe, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


# ---------------------------------------------------------------- writers and recovery


def _start_ticks(pid: int) -> str:
    """When a process started (clock ticks since boot, /proc): a pid the
    system gave to a new process since does not pass for the old one."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]  # field 22; the name in parentheses may hold spaces


def writer_id() -> str:
    """This process as the ledger names a writer: host, pid, start time."""
    return f"{socket.gethostname()} {os.getpid()} {_start_ticks(os.getpid())}"


def writer_alive(pub: Publication, now: float | None = None) -> bool:
    """Whether the writer of a pending version may still be at work."""
    host, _, rest = pub.writer.partition(" ")
    pid, _, started = rest.partition(" ")
    if host == socket.gethostname() and pid.isdigit():
        if Path("/proc/self/stat").exists():
            return bool(started) and _start_ticks(int(pid)) == started
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return (now or time.time()) - pub.heartbeat < WRITER_SILENT_S


@dataclass
class Recovery:
    """What ``recover`` did about one interrupted write."""

    doc: str
    action: str  # finished | rolled_back
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


def recover(store: ChunkStore, keep: set[str] = frozenset()) -> list[Recovery]:
    """Finish or roll back the document versions whose writer died mid-way
    (SIGKILL, power loss): a version with all its chunks in every collection
    is published (finished); any other loses the chunks only it had, and the
    document stays as it was before (its previous version, or absent). Docs
    in ``keep`` are left to the caller, an ingest about to rewrite them (it
    reuses what was written). Also makes the ledger of an index that
    predates it. Returns what was done, for the log and /health."""
    ledger = store.ensure_ledger()
    now = time.time()
    done: list[Recovery] = []
    for doc, pub in sorted(ledger.items()):
        if not pub.pending or doc in keep or writer_alive(pub, now):
            continue
        held = [store.ids_of_doc(emb, doc) for emb in store.embedders]
        complete = all(pub.pending_ids <= ids for ids in held)
        if complete:
            _publish(store, pub)
            for emb, ids in zip(store.embedders, held):
                store.delete(emb, ids - pub.pending_ids)
            done.append(Recovery(doc, "finished", f"all {len(pub.pending_ids)} chunks were written; published"))
        else:
            have = min(len(pub.pending_ids & ids) for ids in held)
            for emb, ids in zip(store.embedders, held):
                store.delete(emb, (ids & pub.pending_ids) - pub.ids)
            if pub.published:
                store.write_publication(replace(pub, pending_hash="", pending_ids=frozenset(), writer="", written=0))
                what = "the previous version stays"
            else:
                store.forget(doc)
                what = "the document is not in the index; ingest its file again to add it"
            done.append(Recovery(doc, "rolled_back", f"{have} of {len(pub.pending_ids)} chunks were written; {what}"))
        log.warning("interrupted ingest of %s (writer %s): %s, %s", doc, pub.writer, done[-1].action, done[-1].detail)
    if done:
        store.bump_generation()
    return done


def _publish(store: ChunkStore, pub: Publication) -> None:
    """The pending version becomes the one searches see (one record write)."""
    store.write_publication(Publication(pub.doc, doc_hash=pub.pending_hash, ids=pub.pending_ids))
    store.bump_generation()  # other processes sharing the store reload


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
    (``ingest.library``). Naming a removed document's file brings it back.

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

    # an interrupted write of a document this run rewrites is resumed (its
    # chunks are reused), any other is finished or rolled back
    recover(store, keep={f.name for f, _ in files})
    ledger = store.ledger() or {}
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
        pub = ledger.get(path.name)
        published = pub is not None and pub.doc_hash == h and not pub.pending
        if published and all(st is not None and st.complete_for(h) for st in known):
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
    writer = writer_id()
    try:
        for fr, chunks, per_emb in plan:
            n_chunks = {fr.doc: len(chunks)}
            # the new version is pending until every collection holds all its chunks
            old = ledger.get(fr.doc) or Publication(fr.doc)
            pending = replace(old, pending_hash=chunks[0].doc_hash, pending_ids=frozenset(c.chunk_id for c in chunks),
                              writer=writer, heartbeat=time.time(), written=0)
            store.write_publication(pending)
            for emb, (missing, kept, _stale) in per_emb.items():
                embedder = get_embedder(emb, settings.embed_threads)
                for i in range(0, len(missing), EMBED_BATCH):
                    batch = missing[i : i + EMBED_BATCH]
                    vectors = embedder.embed_passages([passage_text(c) for c in batch])
                    store.upsert(emb, batch, vectors, n_chunks)
                    bar.update(len(batch))
                    fr.embedded += len(batch)
                    # progress (for /health) and a sign of life for other hosts' recovery
                    pending = replace(pending, heartbeat=time.time(), written=fr.embedded)
                    store.write_publication(pending)
                store.update_metadata(emb, kept, n_chunks)
            _publish(store, pending)
            # only now may what the old version alone used go
            for emb, (_missing, _kept, stale) in per_emb.items():
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
