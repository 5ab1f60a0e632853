"""The vector store: the only module that imports chromadb.

One Chroma collection per embedder (``{prefix}_{embedder}``), each holding every
chunk's text, metadata and that embedder's vector, so each is usable on its own
(also by llama-index's ChromaVectorStore). Embedded PersistentClient by default;
``LSN_CHROMA_URL`` switches to a Chroma server through HttpClient. Collections are
created with ``embedding_function=None``: Chroma's default one downloads a model.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import urlparse

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb  # noqa: E402
from chromadb.config import Settings as ChromaSettings  # noqa: E402

from .config import Settings  # noqa: E402
from .errors import ConfigError, StoreUnavailable  # noqa: E402
from .types import Chunk  # noqa: E402

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
    )


def where_clause(filters: dict[str, list] | None) -> dict | None:
    """Search filters ({"doc": [...], "lang": [...], "year": [...]}) as a Chroma where."""
    if not filters:
        return None
    parts = []
    for key in ("doc", "lang", "year"):
        values = filters.get(key)
        if values:
            parts.append({key: {"$in": list(values)}})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


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
        self.client = _connect(settings)
        self._collections: dict[str, Any] = {}

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.chroma_path)

    def collection(self, embedder: str):
        if embedder not in self._collections:
            name = f"{self.settings.collection_prefix}_{embedder}"
            self._collections[embedder] = self._call(
                self.client.get_or_create_collection,
                name=name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": embedder},
            )
        return self._collections[embedder]

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
        removed = 0
        for emb in self.embedders:
            ids = self.ids_of_doc(emb, doc)
            self.delete(emb, ids)
            removed = max(removed, len(ids))
        return removed
