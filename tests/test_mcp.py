"""The MCP server through the official SDK's own client, over both transports:
stdio (`lsn mcp` spawned by the client) and streamable HTTP (`/mcp` of a
running `lsn serve`), on the small answer index (tests/ask_index.py). The
same checks run over each: the four tools, search, ask (a follow-up too),
list_documents, get_passage, and bad input answered as tool errors by a server
that goes on serving."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from ask_index import STRATEGY_DE, STRATEGY_EN, build
from conftest import lsn_serve

LSN = Path(sys.executable).parent / "lsn"
TOOLS = {"search", "ask", "list_documents", "get_passage"}
QUESTION = "Wie viele Akteure vereint der Life Science Nord e. V.?"


def server_env(settings) -> dict[str, str]:
    """The environment of a server process over the test index (and nothing
    of this process's LSN_* settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSN_")}
    env.update(LSN_DATA_DIR=str(settings.data_dir), LSN_CORPUS_DIR=str(settings.corpus_dir),
               GRADIO_ANALYTICS_ENABLED="False")
    return env


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


async def exercise(session: ClientSession) -> None:
    await session.initialize()

    tools = (await session.list_tools()).tools
    assert {t.name for t in tools} == TOOLS
    for t in tools:
        assert t.description and t.outputSchema and t.annotations.readOnlyHint, t.name
    schema = {t.name: t.inputSchema for t in tools}
    assert schema["search"]["required"] == ["query"] and {"k", "filters"} <= set(schema["search"]["properties"])
    assert schema["ask"]["required"] == ["question"] and "history" in schema["ask"]["properties"]
    assert schema["get_passage"]["required"] == ["chunk_id"]

    # search: ranked passages with their provenance, as text and as structured content
    r = await session.call_tool("search", {"query": QUESTION, "k": 3})
    assert not r.isError, text_of(r)
    results = r.structuredContent["results"]
    assert 1 <= len(results) <= 3 and [x["rank"] for x in results] == list(range(1, len(results) + 1))
    assert {"chunk_id", "doc", "title", "page", "section", "lang", "text", "score"} <= set(results[0])
    assert any("250" in x["text"] for x in results)
    assert all(x["chunk_id"] in text_of(r) for x in results)
    r = await session.call_tool("search", {"query": QUESTION, "k": 5, "filters": {"lang": "en"}})
    assert not r.isError and {x["lang"] for x in r.structuredContent["results"]} == {"en"}

    # ask: the answer text with numbered sources, and the structured citations
    r = await session.call_tool("ask", {"question": QUESTION})
    assert not r.isError, text_of(r)
    answer = r.structuredContent
    assert answer["abstained"] is False and answer["language"] == "de" and "rund 250 Akteure" in answer["answer"]
    assert answer["citations"] and STRATEGY_DE in {c["doc"] for c in answer["citations"]}
    text = text_of(r)
    assert text.startswith(answer["answer"]) and "\n\nQuellen:\n[1] " in text
    for c in answer["citations"]:
        assert c["quote"] in c["text"] and f"[{c['n']}]" in answer["answer"]
        assert c["chunk_id"] in text and " ".join(c["quote"].split()) in text

    r = await session.call_tool("ask", {
        "question": "Und aus welchen Bereichen kommen sie?",
        "history": [{"role": "user", "content": QUESTION},
                    {"role": "assistant", "content": answer["answer"], "citations": answer["citations"]}],
    })
    assert not r.isError, text_of(r)
    assert "Akteure" in r.structuredContent["standalone"] and not r.structuredContent["abstained"]

    r = await session.call_tool("ask", {"question": "How much does the platinum partner programme cost per year?"})
    assert not r.isError and r.structuredContent["abstained"] is True and r.structuredContent["related"]
    assert text_of(r).startswith("The documents do not answer this.")

    # list_documents and get_passage
    r = await session.call_tool("list_documents", {})
    assert not r.isError
    docs = {d["doc"]: d for d in r.structuredContent["documents"]}
    assert {STRATEGY_DE, STRATEGY_EN} <= set(docs) and r.structuredContent["index_size"] >= 6
    assert all(doc in text_of(r) for doc in docs)

    cited = answer["citations"][0]
    r = await session.call_tool("get_passage", {"chunk_id": cited["chunk_id"]})
    assert not r.isError, text_of(r)
    p = r.structuredContent
    assert p["chunk_id"] == cited["chunk_id"] and p["text"] == cited["text"] and p["doc"] == cited["doc"]
    assert p["text"] in text_of(r)
    if p["next"]:  # the neighbours are passages of the same document
        r = await session.call_tool("get_passage", {"chunk_id": p["next"]})
        assert r.structuredContent["doc"] == p["doc"] and r.structuredContent["previous"] == p["chunk_id"]

    # bad input: tool errors with the reason, never a crash
    for name, args, reason in [
        ("search", {"query": "   "}, "the query is empty"),
        ("search", {"query": QUESTION, "k": 0}, "k"),
        ("search", {"query": QUESTION, "filters": {"colour": "red"}}, "colour"),
        ("search", {"query": QUESTION, "filters": {"year": "last year"}}, "year"),
        ("ask", {"question": ""}, "the question is empty"),
        ("ask", {"question": QUESTION, "history": [{"role": "system", "content": "x"}]}, "role"),
        ("ask", {"question": QUESTION, "k": 99}, "k"),
        ("get_passage", {"chunk_id": "no-such-chunk"}, "no passage with chunk_id 'no-such-chunk'"),
        ("get_passage", {"chunk_id": " "}, "chunk_id is empty"),
        ("search", {}, "query"),
    ]:
        r = await session.call_tool(name, args)
        assert r.isError, (name, args, text_of(r))
        assert reason in text_of(r), (name, args, text_of(r))
    r = await session.call_tool("no_such_tool", {})
    assert r.isError and "no_such_tool" in text_of(r)

    r = await session.call_tool("list_documents", {})  # still serving
    assert not r.isError and r.structuredContent["documents"]


def test_stdio(tmp_path):
    """`lsn mcp` spawned by the SDK's stdio client."""
    settings = build()
    params = StdioServerParameters(command=str(LSN), args=["mcp"], env=server_env(settings), cwd=str(tmp_path))
    log = tmp_path / "mcp.log"

    async def main():
        with log.open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    await exercise(session)

    try:
        anyio.run(main)
    except BaseException:
        print(log.read_text()[-3000:])  # the server's stderr, for the failure report
        raise


@pytest.fixture(scope="module")
def serve_url(tmp_path_factory):
    """`lsn serve` (API and UI) over the test index on a free loopback port."""
    settings = build()
    root = tmp_path_factory.mktemp("mcp-serve")
    # generous: the machine may be busy with other tests
    with lsn_serve(root, server_env(settings), seconds=300, args=("--host", "127.0.0.1")) as url:
        yield url


def test_streamable_http(serve_url):
    """The same tools at /mcp of `lsn serve`, next to the API and the UI."""

    async def main():
        async with streamable_http_client(f"{serve_url}/mcp") as (read, write, _):
            async with ClientSession(read, write) as session:
                await exercise(session)

    anyio.run(main)
    # the rest of the app is untouched by the mount
    assert httpx.post(f"{serve_url}/api/search", json={"query": QUESTION, "k": 1}).status_code == 200
    assert httpx.get(f"{serve_url}/", timeout=30).status_code == 200


def test_http_refuses_foreign_hosts(serve_url):
    """Bound to loopback, /mcp checks the Host header (DNS rebinding)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream", "Host": "evil.example"}
    assert httpx.post(f"{serve_url}/mcp", json=body, headers=headers).status_code == 421
