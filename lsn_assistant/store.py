"""The vector store: the only module that imports chromadb.

One Chroma collection per embedder (``{prefix}_{embedder}``), each holding every
chunk's text, metadata and that embedder's vector, so each is usable on its own
(also by llama-index's ChromaVectorStore). Embedded PersistentClient by default;
``LSN_CHROMA_URL`` switches to a Chroma server through HttpClient. Collections are
created with ``embedding_function=None``: Chroma's default one downloads a model.

A document becomes visible only when all its chunks are in every collection.
Chroma has no transaction across collections, so a ledger collection
(``{prefix}_documents``, one record per document) says which chunk ids make up
the published version of each document, and which version a writer is
writing (pending): a writer records the pending version, writes its chunks,
then publishes it in one record write, and only then deletes what the new
version no longer uses. Readers (``visible_chunks``) show published chunk ids
only, so a killed writer leaves at most invisible chunks, which
``ingest.pipeline.recover`` finishes or rolls back. An index written before the
ledger existed has none: all its chunks count as published until the first
write adopts them (``ensure_ledger``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping
from urllib.parse import urlparse

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb  # noqa: E402
from chromadb.config import Settings as ChromaSettings  # noqa: E402

from .config import Settings  # noqa: E402
from .errors import ConfigError, StoreUnavailable  # noqa: E402
from .types import Chunk, Filters  # noqa: E402

_log = logging.getLogger(__name__)
_PAGE_SIZE = 2000  # Chroma caps the number of records per get/add call
# What SQLite and the OS say when the data directory cannot take a write.
_UNWRITABLE = re.compile(
    r"disk is full|no space left|readonly database|read-only file system|permission denied|disk I/O error", re.I
)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:200]


@dataclass
class DocState:
    """What one collection holds of one document."""

    hashes: set[str] = field(default_factory=set)
    count: int = 0
    expected: int = 0  # n_chunks the last writer announced

    def complete_for(self, doc_hash: str) -> bool:
        return self.hashes == {doc_hash} and self.count == self.expected


LEDGER = "documents"  # the ledger collection is {prefix}_documents
# Written last when a ledger is made: without it the ledger is unfinished and
# the index is read as it was before the ledger existed.
LEDGER_MARK = "__ledger__"
_NO_VECTOR = [0.0]  # ledger records are looked up by id, never by similarity


@dataclass(frozen=True)
class Publication:
    """The ledger's record of one document: the version searches see, and the
    version a writer is writing while it is at it."""

    doc: str
    doc_hash: str = ""  # the published version ("": none yet)
    ids: frozenset[str] = frozenset()
    pending_hash: str = ""  # the version being written ("": none)
    pending_ids: frozenset[str] = frozenset()
    writer: str = ""  # who writes the pending version ("host pid start", ingest.pipeline.writer_id)
    heartbeat: float = 0.0  # time.time() of the writer's last batch
    written: int = 0  # chunks of the pending version written so far (progress, for /health)

    @property
    def published(self) -> bool:
        return bool(self.doc_hash)

    @property
    def pending(self) -> bool:
        return bool(self.pending_hash)


def _publication_record(pub: Publication) -> tuple[str, dict[str, Any]]:
    document = json.dumps({"ids": sorted(pub.ids), "pending_ids": sorted(pub.pending_ids)})
    meta = {"doc": pub.doc, "doc_hash": pub.doc_hash, "pending_hash": pub.pending_hash, "writer": pub.writer,
            "heartbeat": float(pub.heartbeat), "written": int(pub.written)}
    return document, meta


def _publication_from_record(doc: str, document: str | None, meta: dict[str, Any] | None) -> Publication:
    meta = meta or {}
    try:
        ids = json.loads(document or "{}")
    except ValueError:
        ids = {}
    return Publication(
        doc=doc,
        doc_hash=str(meta.get("doc_hash", "")),
        ids=frozenset(ids.get("ids", ())),
        pending_hash=str(meta.get("pending_hash", "")),
        pending_ids=frozenset(ids.get("pending_ids", ())),
        writer=str(meta.get("writer", "")),
        heartbeat=float(meta.get("heartbeat", 0.0)),
        written=int(meta.get("written", 0)),
    )


def chunk_metadata(chunk: Chunk, n_chunks: int) -> dict[str, Any]:
    meta = {
        "doc": chunk.doc,
        "title": chunk.title,
        "page": chunk.page,
        "section": chunk.section,
        "lang": chunk.lang,
        "year": chunk.year,
        "position": chunk.position,
        "doc_hash": chunk.doc_hash,
        "n_chunks": n_chunks,
        "kind": chunk.kind,
    }
    # Chroma rejects None in some versions; an absent key reads back as None.
    return {k: v for k, v in meta.items() if v is not None}


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    meta = meta or {}
    return Chunk(
        chunk_id=chunk_id,
        doc=meta.get("doc", ""),
        text=text or "",
        title=meta.get("title", ""),
        page=meta.get("page"),
        section=meta.get("section", ""),
        lang=meta.get("lang", ""),
        year=meta.get("year"),
        position=int(meta.get("position", 0)),
        doc_hash=meta.get("doc_hash", ""),
        kind=meta.get("kind", "passage"),  # indexes from before entries hold passages only
    )


def where_clause(filters: Filters | Mapping | None) -> dict | None:
    """Search filters as a Chroma where."""
    filters = Filters.of(filters)
    if not filters:
        return None
    parts = []
    for key in Filters.KEYS:
        values = getattr(filters, key)
        if values:
            parts.append({key: {"$in": list(values)}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


_resets = 0  # how often this process reset the embedded store (ChunkStore.client reopens after one)


def _reset_embedded() -> None:
    """Drop this process's embedded Chroma systems after a write failed on a
    full or read-only disk: in Chroma 1.5 every later write in the same
    process can then hang for good (tests/test_faults.py saw it when the
    failing write was not the first of a run); a system opened afresh writes
    normally. Every ChunkStore reopens its client on its next call."""
    global _resets
    from chromadb.api.shared_system_client import SharedSystemClient

    for system in list(SharedSystemClient._identifier_to_system.values()):
        try:
            system.stop()
        except Exception:  # noqa: BLE001 - it is being thrown away
            pass
    SharedSystemClient.clear_system_cache()
    _resets += 1


def _connect(settings: Settings):
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"LSN_CHROMA_URL must look like http://host:port, got {settings.chroma_url!r}")
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # the client pings the server on creation
            raise StoreUnavailable(
                f"Chroma server at {settings.chroma_url} is not reachable ({exc}); "
                "start it (`chroma run`) or unset LSN_CHROMA_URL to use the embedded store"
            ) from exc
    path = settings.chroma_path
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise StoreUnavailable(f"cannot open the index at {path}: {exc}") from exc


class ChunkStore:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.embedders = list(settings.embedders)
        self._open()

    def _open(self) -> None:
        self._client = _connect(self.settings)
        self._epoch = _resets
        self._collections: dict[str, Any] = {}
        self._ledger = None  # the ledger collection, once it exists

    @property
    def client(self):
        """The Chroma client; opened again after a failed write reset the embedded store (``_reset_embedded``)."""
        if self._epoch != _resets:
            self._open()
        return self._client

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.chroma_path)

    def collection(self, embedder: str):
        client = self.client  # first: a reopened client empties the cache
        if embedder not in self._collections:
            name = f"{self.settings.collection_prefix}_{embedder}"
            ef = self.settings.hnsw_ef_search
            try:
                # get first: after a write failed on a full disk, Chroma's (1.5)
                # get_or_create hangs even for a collection that exists
                collection = self._call(client.get_collection, name=name)
            except StoreUnavailable:
                raise
            except Exception:  # noqa: BLE001 - not there yet
                collection = self._call(
                    client.get_or_create_collection,
                    name=name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "ef_search": ef}},
                    metadata={"embedder": embedder},
                )
            else:
                self._search_breadth(collection, ef)
            self._collections[embedder] = collection
        return self._collections[embedder]

    def _search_breadth(self, collection, ef: int) -> None:
        """An index made with another ef_search (Chroma's default, 100) gets
        this one: with ef_search near the number of candidates asked for, HNSW
        returns a slightly different tail of the list in different processes.
        A store that refuses the change (a read-only one) is searched as it is."""
        try:
            current = ((collection.configuration_json or {}).get("hnsw") or {}).get("ef_search")
            if current is not None and current != ef:
                collection.modify(configuration={"hnsw": {"ef_search": ef}})
        except Exception as exc:  # noqa: BLE001 - a query-time setting; searching still works
            _log.warning("could not set ef_search of %s to %d: %s", collection.name, ef, _first_line(exc))

    def _call(self, fn, *args, **kwargs):
        """Run a Chroma call; a lost server becomes StoreUnavailable with a clear message."""
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, KeyError):
            raise
        except Exception as exc:
            name = exc.__class__.__name__
            if "Connect" in name or "Timeout" in name or "Network" in name or "Remote" in name:
                raise StoreUnavailable(f"the vector store at {self.location} is not reachable: {exc}") from exc
            if _UNWRITABLE.search(str(exc)):
                if not self.settings.chroma_url:
                    _reset_embedded()
                raise StoreUnavailable(
                    f"the index at {self.location} cannot be written ({_first_line(exc)}); free disk space or make "
                    "the data directory writable, then run the command again: what was written stays consistent"
                ) from exc
            raise

    # ---- the index generation: lets every process see another's writes

    def generation(self) -> str:
        """A token that changes whenever a writer changed the index, in any
        process sharing the store (kept in the first collection's metadata)."""
        name = f"{self.settings.collection_prefix}_{self.embedders[0]}"
        try:
            col = self._call(self.client.get_collection, name=name)
        except StoreUnavailable:
            raise
        except Exception:  # noqa: BLE001 - no collection yet: nothing ingested
            return ""
        return str((col.metadata or {}).get("generation", ""))

    def bump_generation(self) -> None:
        emb = self.embedders[0]
        self._call(self.collection(emb).modify, metadata={"embedder": emb, "generation": uuid.uuid4().hex})

    # ---- reading

    def count(self, embedder: str | None = None) -> int:
        return self._call(self.collection(embedder or self.embedders[0]).count)

    def _get_all(self, embedder: str, include: list[str], where: dict | None = None) -> dict[str, list]:
        col = self.collection(embedder)
        out: dict[str, list] = {"ids": [], **{k: [] for k in include}}
        offset = 0
        while True:
            page = self._call(col.get, where=where, include=include, limit=_PAGE_SIZE, offset=offset)
            out["ids"].extend(page["ids"])
            for k in include:
                out[k].extend(page[k] if page.get(k) is not None else [None] * len(page["ids"]))
            if len(page["ids"]) < _PAGE_SIZE:
                return out
            offset += _PAGE_SIZE

    def doc_states(self, embedder: str) -> dict[str, DocState]:
        states: dict[str, DocState] = {}
        got = self._get_all(embedder, ["metadatas"])
        for meta in got["metadatas"]:
            meta = meta or {}
            st = states.setdefault(meta.get("doc", ""), DocState())
            st.hashes.add(meta.get("doc_hash", ""))
            st.count += 1
            st.expected = max(st.expected, int(meta.get("n_chunks", 0)))
        return states

    def ids_of_doc(self, embedder: str, doc: str) -> set[str]:
        return set(self._get_all(embedder, [], where={"doc": doc})["ids"])

    def all_chunks(self) -> list[Chunk]:
        got = self._get_all(self.embedders[0], ["documents", "metadatas"])
        chunks = [chunk_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        chunks.sort(key=lambda c: (c.doc, c.position))
        return chunks

    def vectors(self, embedder: str, ids: list[str]):
        if not ids:
            return {}
        got = self._call(self.collection(embedder).get, ids=list(ids), include=["embeddings"])
        return dict(zip(got["ids"], got["embeddings"]))

    def query(self, embedder: str, vector, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        col = self.collection(embedder)
        res = self._call(col.query, query_embeddings=[list(map(float, vector))], n_results=n, where=where, include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]

    # ---- writing

    def upsert(self, embedder: str, chunks: list[Chunk], vectors, n_chunks: dict[str, int]) -> None:
        if not chunks:
            return
        self._call(
            self.collection(embedder).upsert,
            ids=[c.chunk_id for c in chunks],
            documents=[c.text for c in chunks],
            metadatas=[chunk_metadata(c, n_chunks[c.doc]) for c in chunks],
            embeddings=[list(map(float, v)) for v in vectors],
        )

    def update_metadata(self, embedder: str, chunks: list[Chunk], n_chunks: dict[str, int]) -> None:
        for start in range(0, len(chunks), _PAGE_SIZE):
            part = chunks[start : start + _PAGE_SIZE]
            self._call(
                self.collection(embedder).update,
                ids=[c.chunk_id for c in part],
                metadatas=[chunk_metadata(c, n_chunks[c.doc]) for c in part],
            )

    def delete(self, embedder: str, ids: Iterable[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), _PAGE_SIZE):
            self._call(self.collection(embedder).delete, ids=ids[start : start + _PAGE_SIZE])

    def delete_doc(self, doc: str) -> int:
        """Take a document out of the index: unpublished first, so that a
        reader never sees it with some of its chunks gone."""
        if self.ledger() is not None:
            self.forget(doc)
        removed = 0
        for emb in self.embedders:
            ids = self.ids_of_doc(emb, doc)
            self.delete(emb, ids)
            removed = max(removed, len(ids))
        return removed

    # ---- the ledger: which version of each document searches see

    def _ledger_collection(self, create: bool = False):
        client = self.client
        if self._ledger is not None:
            return self._ledger
        name = f"{self.settings.collection_prefix}_{LEDGER}"
        try:
            self._ledger = self._call(client.get_collection, name=name)
        except StoreUnavailable:
            raise
        except Exception:  # noqa: BLE001 - no ledger yet: an index from before it, or none at all
            if not create:
                return None
            # only when it is missing (see ``collection``)
            self._ledger = self._call(client.get_or_create_collection, name=name, embedding_function=None,
                                      metadata={"role": "ledger"})
        return self._ledger

    def ledger(self) -> dict[str, Publication] | None:
        """Every document's publication record, or None when the index has no
        (finished) ledger: then all its chunks count as published."""
        col = self._ledger_collection()
        if col is None:
            return None
        out: dict[str, Publication] = {}
        marked = False
        offset = 0
        while True:
            page = self._call(col.get, include=["documents", "metadatas"], limit=_PAGE_SIZE, offset=offset)
            for rid, document, meta in zip(page["ids"], page["documents"] or [], page["metadatas"] or []):
                if rid == LEDGER_MARK:
                    marked = True
                else:
                    out[rid] = _publication_from_record(rid, document, meta)
            if len(page["ids"]) < _PAGE_SIZE:
                break
            offset += _PAGE_SIZE
        return out if marked else None

    def publication(self, doc: str) -> Publication | None:
        col = self._ledger_collection()
        if col is None:
            return None
        got = self._call(col.get, ids=[doc], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return _publication_from_record(doc, (got["documents"] or [None])[0], (got["metadatas"] or [None])[0])

    def write_publication(self, pub: Publication) -> None:
        document, meta = _publication_record(pub)
        col = self._ledger_collection(create=True)
        self._call(col.upsert, ids=[pub.doc], documents=[document], metadatas=[meta], embeddings=[_NO_VECTOR])

    def forget(self, doc: str) -> None:
        """Drop a document's record: it is no longer visible."""
        col = self._ledger_collection()
        if col is not None:
            self._call(col.delete, ids=[doc])

    def ensure_ledger(self) -> dict[str, Publication]:
        """The ledger, made first if the index predates it: every document
        there is adopted as published with the chunks every collection holds
        (what readers saw until now). The mark goes in last, so a writer
        killed half-way leaves an index still read as before."""
        ledger = self.ledger()
        if ledger is not None:
            return ledger
        held: dict[str, set[str]] | None = None
        hashes: dict[str, set[str]] = {}
        for emb in self.embedders:
            got = self._get_all(emb, ["metadatas"])
            per_doc: dict[str, set[str]] = {}
            for cid, meta in zip(got["ids"], got["metadatas"]):
                meta = meta or {}
                per_doc.setdefault(meta.get("doc", ""), set()).add(cid)
                hashes.setdefault(meta.get("doc", ""), set()).add(meta.get("doc_hash", ""))
            held = per_doc if held is None else {d: ids & per_doc.get(d, set()) for d, ids in held.items()}
        adopted: dict[str, Publication] = {}
        for doc, ids in (held or {}).items():
            if ids:
                # a document with chunks of two versions gets no hash: the next ingest redoes it
                only = hashes.get(doc, set())
                adopted[doc] = Publication(doc, doc_hash=next(iter(only)) if len(only) == 1 else "legacy",
                                           ids=frozenset(ids))
        for pub in adopted.values():
            self.write_publication(pub)
        col = self._ledger_collection(create=True)
        self._call(col.upsert, ids=[LEDGER_MARK], documents=["{}"], metadatas=[{"doc": "", "created": time.time()}],
                   embeddings=[_NO_VECTOR])
        return adopted

    def visible_chunks(self) -> tuple[list[Chunk], list[str]]:
        """The chunks searches may see (those of published versions) and the
        documents whose new version is still being written. The chunks are
        read before the ledger: a version published in between has all its
        chunks written before it was published, so the read holds them; a
        document that still looks incomplete (re-published in between) is
        read again, and left out if it keeps changing."""
        for _ in range(3):
            chunks = self.all_chunks()
            ledger = self.ledger()
            if ledger is None:
                return chunks, []
            visible = [c for c in chunks if c.doc in ledger and c.chunk_id in ledger[c.doc].ids]
            seen: dict[str, int] = {}
            for c in visible:
                seen[c.doc] = seen.get(c.doc, 0) + 1
            torn = {doc for doc, pub in ledger.items() if pub.published and seen.get(doc, 0) != len(pub.ids)}
            pending = sorted(doc for doc, pub in ledger.items() if pub.pending)
            if not torn:
                return visible, pending
        return [c for c in visible if c.doc not in torn], pending
