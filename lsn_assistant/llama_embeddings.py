"""The offline embedders as llama-index embedding classes.

For llama-index code (a VectorStoreIndex over the same Chroma collection, the
benchmarks' reference path): ``LSNEmbedding("e5")`` embeds exactly as ingest
and search do, through the same shared engine.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr

from .embeddings import get_embedder


class LSNEmbedding(BaseEmbedding):
    """A registered LSN embedder ("e5" or "use") behind llama-index's interface."""

    embedder: str = "e5"
    threads: int = 2
    _engine: Any = PrivateAttr(default=None)

    def __init__(self, embedder: str = "e5", threads: int = 2, **kwargs: Any):
        super().__init__(embedder=embedder, threads=threads, model_name=embedder, **kwargs)
        self._engine = get_embedder(embedder, threads)

    @classmethod
    def class_name(cls) -> str:
        return "LSNEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._engine.embed_queries([query])[0].tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._engine.embed_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._engine.embed_passages(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)
