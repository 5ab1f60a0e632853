"""The assistant's search and embedders as llama-index components.

``LSNRetriever`` is a llama-index ``BaseRetriever`` over the hybrid search
(``Assistant.search``: dense e5 + dense USE + BM25 across German and English,
fused, twins collapsed), so a llama-index pipeline can use it where it would
use ``index.as_retriever()``::

    from llama_index.core.query_engine import RetrieverQueryEngine
    from lsn_assistant.integrations.llama_index import LSNRetriever

    engine = RetrieverQueryEngine.from_args(LSNRetriever(k=5), llm=my_llm)
    response = engine.query("Wie viele Akteure vereint Life Science Nord?")
    for hit in response.source_nodes:
        print(hit.score, hit.node.node_id, hit.node.metadata["doc"], hit.node.metadata["page"])

``LSNEmbedding("e5")`` embeds exactly as ingest and search do, through the
same shared engine (a ``VectorStoreIndex`` over the same Chroma collection:
the benchmarks' reference path).

Importing llama-index costs seconds, so only code that wants it imports this
module; the library never does.
"""

from __future__ import annotations

from typing import Any

import anyio
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.embeddings import BaseEmbedding
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode
from pydantic import PrivateAttr

from ..assistant import Assistant
from ..config import Settings
from ..embeddings import get_embedder
from ..types import ScoredChunk

# what a response synthesizer's prompt shows of each passage (besides its text);
# the rest stays in metadata for code
LLM_METADATA = ("title", "doc", "page", "section")


def to_node(hit: ScoredChunk) -> NodeWithScore:
    """A search hit as a llama-index node: the chunk id is the node id, the
    document (file name) its source document."""
    c = hit.chunk
    metadata = {"doc": c.doc, "title": c.title, "page": c.page, "section": c.section, "lang": c.lang,
                "year": c.year, "rank": hit.rank}
    hidden = [k for k, v in metadata.items() if k not in LLM_METADATA or v in (None, "")]
    node = TextNode(
        id_=c.chunk_id,
        text=c.text,
        metadata=metadata,
        excluded_llm_metadata_keys=hidden,
        excluded_embed_metadata_keys=hidden,
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=c.doc)},
    )
    return NodeWithScore(node=node, score=float(hit.score))


class LSNRetriever(BaseRetriever):
    """The assistant's hybrid search behind llama-index's retriever interface.

    ``assistant``: an open ``Assistant`` (default: ``Assistant.open(settings)``,
    i.e. the configured index). ``k``: passages per query (1-100).
    ``filters``: as ``Assistant.search`` takes them, ``{"doc": [...], "lang":
    [...], "year": [...]}``. Nodes carry ``doc``, ``title``, ``page``,
    ``section``, ``lang``, ``year`` and ``rank`` metadata; scores are the
    fused reciprocal-rank scores (higher is better, not a cosine).
    """

    def __init__(
        self,
        assistant: Assistant | None = None,
        k: int = 10,
        filters: dict | None = None,
        settings: Settings | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
    ):
        self.assistant = assistant or Assistant.open(settings)
        self.k = k
        self.filters = filters
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.assistant.search(query_bundle.query_str, k=self.k, filters=self.filters)
        return [to_node(h) for h in hits]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        # search is CPU work of tens of milliseconds: off the event loop
        return await anyio.to_thread.run_sync(self._retrieve, query_bundle)


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
