"""LSNRetriever inside llama-index: a query engine with llama-index's MockLLM
over the small answer index (tests/ask_index.py). No model is downloaded:
MockLLM echoes its prompt, which shows the passages that reached it."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode

from ask_index import STRATEGY_DE, STRATEGY_EN, build
from lsn_assistant import Assistant
from lsn_assistant.errors import BadQuery
from lsn_assistant.integrations.llama_index import LSNRetriever

QUESTION = "Wie viele Akteure vereint der Life Science Nord e. V.?"


@pytest.fixture(scope="module")
def assistant():
    return Assistant.open(build())


def test_retriever_returns_the_hybrid_search_as_nodes(assistant):
    hits = assistant.search(QUESTION, k=4)
    nodes = LSNRetriever(assistant, k=4).retrieve(QUESTION)
    assert all(isinstance(n, NodeWithScore) and isinstance(n.node, TextNode) for n in nodes)
    assert [n.node.node_id for n in nodes] == [h.chunk.chunk_id for h in hits]
    assert [n.score for n in nodes] == pytest.approx([h.score for h in hits])
    for n, h in zip(nodes, hits):
        c = h.chunk
        assert n.node.text == c.text and n.node.ref_doc_id == c.doc
        assert n.node.metadata == {"doc": c.doc, "title": c.title, "page": c.page, "section": c.section,
                                   "lang": c.lang, "year": c.year, "rank": h.rank}
    top = nodes[0].node
    assert top.metadata["doc"] == STRATEGY_DE and "rund 250 Akteure" in top.text
    # a prompt shows title and document, not the bookkeeping nor empty fields
    shown = top.get_content(metadata_mode=MetadataMode.LLM)
    assert f"title: {top.metadata['title']}" in shown and f"doc: {STRATEGY_DE}" in shown
    assert "rank:" not in shown and "None" not in shown


def test_retriever_filters_and_settings():
    nodes = LSNRetriever(settings=build(), k=5, filters={"lang": ["en"]}).retrieve(QUESTION)
    assert nodes and {n.node.metadata["lang"] for n in nodes} == {"en"}
    assert nodes[0].node.metadata["doc"] == STRATEGY_EN


def test_retriever_query_engine_with_mock_llm(assistant):
    engine = RetrieverQueryEngine.from_args(LSNRetriever(assistant, k=3), llm=MockLLM())
    response = engine.query(QUESTION)
    ids = [h.chunk.chunk_id for h in assistant.search(QUESTION, k=3)]
    assert [n.node.node_id for n in response.source_nodes] == ids
    # MockLLM answers with its prompt: the question and the retrieved passages reached it
    assert QUESTION in str(response) and "rund 250 Akteure" in str(response)
    assert response.source_nodes[0].node.metadata["page"] is None  # text files have no pages

    async_response = asyncio.run(engine.aquery(QUESTION))
    assert [n.node.node_id for n in async_response.source_nodes] == ids


def test_retriever_bad_query(assistant):
    with pytest.raises(BadQuery, match="the query is empty"):
        LSNRetriever(assistant).retrieve("  ")
