"""The public face of the library: ``Assistant.open()`` then ``.search()``.

API, UI, CLI and eval all go through this one object.
"""

from __future__ import annotations

import threading
from importlib import metadata

from .config import Settings, get_settings
from .errors import BadQuery
from .retrieve import Retriever
from .store import ChunkStore
from .types import ScoredChunk

FILTER_KEYS = ("doc", "lang", "year")


def normalize_filters(filters: dict | None) -> dict | None:
    """Accept {"doc": "x"} or {"doc": ["x"]}; reject unknown keys clearly."""
    if not filters:
        return None
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise BadQuery(f"unknown filter(s) {sorted(unknown)}; use {', '.join(FILTER_KEYS)}")
    out = {}
    for key in FILTER_KEYS:
        value = filters.get(key)
        if value in (None, "", []):
            continue
        values = value if isinstance(value, (list, tuple, set)) else [value]
        if key == "year":
            try:
                values = [int(v) for v in values]
            except (TypeError, ValueError):
                raise BadQuery("year filter values must be whole numbers") from None
        else:
            values = [str(v) for v in values]
        out[key] = values
    return out or None


class Assistant:
    def __init__(self, settings: Settings, store: ChunkStore):
        self.settings = settings
        self.store = store
        self.retriever = Retriever(store, settings)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings | None = None) -> "Assistant":
        settings = settings or get_settings()
        return cls(settings, ChunkStore(settings))

    def refresh(self) -> None:
        """Pick up what an ingest changed."""
        self.retriever.reload()

    def search(self, query: str, k: int = 10, filters: dict | None = None) -> list[ScoredChunk]:
        return self.retriever.search(query, k=k, filters=normalize_filters(filters))

    def documents(self) -> list[dict]:
        docs: dict[str, dict] = {}
        for c in self.retriever.chunks:
            d = docs.setdefault(c.doc, {"doc": c.doc, "title": c.title, "year": c.year, "langs": set(), "chunks": 0})
            d["chunks"] += 1
            if c.lang:
                d["langs"].add(c.lang)
        return [{**d, "langs": sorted(d["langs"])} for d in docs.values()]

    def health(self) -> dict:
        return {
            "status": "ok",
            "index_size": self.store.count(),  # asks the store: a lost server shows here
            "store": "server" if self.settings.chroma_url else "embedded",
            "embedders": self.store.embedders,
            "version": metadata.version("lsn-assistant"),
        }
