"""The assistant as an MCP server (the official ``mcp`` SDK's FastMCP).

Four read-only tools over the ``Assistant`` facade: ``search``, ``ask``,
``list_documents`` and ``get_passage``. Two transports: stdio (``lsn mcp``,
for clients that start the server themselves, e.g. Claude Desktop) and
streamable HTTP at ``/mcp`` of ``lsn serve`` (``mount_mcp``).

Each tool returns readable text for the model (what most clients show it) and
the same data as ``structuredContent`` with an output schema. Bad input and an
unusable index come back as MCP tool errors (``isError``) with the library's
message; nothing a client sends stops the server.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from .answer import labels
from .assistant import MAX_ASK_K, Assistant
from .config import Settings, get_settings
from .errors import LSNError
from .i18n import place
from .schemas import CitationOut, DocumentOut
from .schemas import SearchResult as Passage

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)
INSTRUCTIONS = (
    "Questions about the Life Science Nord strategy documents (the life-science cluster of Hamburg and "
    "Schleswig-Holstein), German or English, answered from the documents only. `ask` gives an answer whose "
    "[n] markers are numbered sources with verbatim quotes; `search` gives ranked passages; `get_passage` "
    "reads one passage by its chunk_id; `list_documents` lists what is indexed. Cite document and page "
    "as the tools give them; when `ask` abstains, the documents do not answer the question."
)


# ---- input and output models (the tools' JSON schemas)

class Filters(BaseModel):
    """Restrict results; a single value or a list each."""

    model_config = ConfigDict(extra="forbid")

    doc: str | list[str] | None = Field(None, description="document file name(s), as list_documents gives them")
    lang: str | list[str] | None = Field(None, description="passage language(s): de, en")
    year: int | list[int] | None = Field(None, description="publication year(s)")

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class HistoryTurn(BaseModel):
    role: Literal["user", "assistant"]
    content: str
    citations: list[dict[str, Any]] | None = Field(
        None, description="an assistant turn's citations as ask returned them (their documents scope a follow-up)"
    )


class SearchOutput(BaseModel):
    results: list[Passage]


class AskOutput(BaseModel):
    answer: str = Field(..., description="the answer; every [n] is a citation")
    language: str
    abstained: bool = Field(..., description="true: the documents do not answer this; related holds the closest passages")
    citations: list[CitationOut]
    mode: str = Field(..., description="extractive (verbatim quotes) or llm")
    notice: str | None = None
    related: list[Passage] = []
    standalone: str = Field("", description="what was searched (a follow-up with the carried-over topic)")


class DocumentsOutput(BaseModel):
    documents: list[DocumentOut]
    index_size: int


class PassageOut(BaseModel):
    chunk_id: str
    doc: str
    title: str
    page: int | None
    section: str
    lang: str
    year: int | None = None
    position: int = Field(..., description="order of the passage within its document")
    text: str
    previous: str | None = Field(None, description="chunk_id of the passage before it in the document")
    next: str | None = Field(None, description="chunk_id of the passage after it in the document")


# ---- the text a model reads

def _where(lang: str, title: str, doc: str, page: int | None, section: str) -> str:
    return place(lang, title or doc, page, section)


def search_text(out: SearchOutput) -> str:
    if not out.results:
        return "No passages found."
    blocks = []
    for r in out.results:
        where = _where("en", r.title, r.doc, r.page, r.section)
        blocks.append(f"[{r.rank}] {where} ({r.doc}, {r.lang}; chunk_id {r.chunk_id})\n{' '.join(r.text.split())}")
    return "\n\n".join(blocks)


def ask_text(out: AskOutput) -> str:
    """The answer followed by its numbered sources (as /v1/chat/completions
    gives them), each with the chunk_id that get_passage reads."""
    lab = labels(out.language)
    parts = [out.answer]
    if out.notice:
        parts.append(f"({out.notice})")
    if out.citations:
        lines = [f"{lab['sources']}:"]
        for c in out.citations:
            quote = " ".join(c.quote.split())
            lines.append(f"[{c.n}] {_where(out.language, c.title, c.doc, c.page, c.section)} "
                         f"(chunk_id {c.chunk_id}): \"{quote}\"")
        parts.append("\n".join(lines))
    if out.abstained and out.related:
        lines = [f"{lab['related']}:"]
        for r in out.related:
            text = " ".join(r.text.split())
            lines.append(f"- {_where(out.language, r.title, r.doc, r.page, r.section)} (chunk_id {r.chunk_id}): "
                         f"{text[:300]}{' …' if len(text) > 300 else ''}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def documents_text(out: DocumentsOutput) -> str:
    lines = [f"{len(out.documents)} documents, {out.index_size} passages:"]
    for d in out.documents:
        meta = ", ".join(x for x in (str(d.year) if d.year else "", "/".join(d.langs),
                                     f"{d.pages} pages" if d.pages else "", f"{d.chunks} passages") if x)
        lines.append(f"- {d.doc}: {d.title} ({meta})")
    return "\n".join(lines)


def passage_text(out: PassageOut) -> str:
    head = f"{_where('en', out.title, out.doc, out.page, out.section)} ({out.doc}, {out.lang}; chunk_id {out.chunk_id})"
    return f"{head}\n\n{out.text}"


def _result(text: str, data: BaseModel) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structuredContent=data.model_dump(mode="json"))


def passage(assistant: Assistant, chunk_id: str) -> PassageOut:
    """One indexed passage by id, with its neighbours in the document."""
    if not chunk_id.strip():
        raise ToolError("chunk_id is empty; passages' ids come from search or ask")
    index = assistant.retriever.index  # one generation of the index for the passage and its neighbours
    chunk = index.by_id.get(chunk_id.strip())
    if chunk is None:
        raise ToolError(f"no passage with chunk_id {chunk_id.strip()!r} in the index; "
                        "ids come from search or ask (an ingest may have replaced it)")
    # Neighbours are passages; an entry (one line of a passage, indexed on
    # its own too) sits right after the passage it comes from.
    siblings = sorted(
        (c for c in index.chunks if c.doc == chunk.doc and (c.kind == "passage" or c.chunk_id == chunk.chunk_id)),
        key=lambda c: (c.position, c.kind != "passage"),
    )
    i = next(j for j, c in enumerate(siblings) if c.chunk_id == chunk.chunk_id)
    return PassageOut(
        chunk_id=chunk.chunk_id, doc=chunk.doc, title=chunk.title, page=chunk.page, section=chunk.section,
        lang=chunk.lang, year=chunk.year, position=chunk.position, text=chunk.text,
        previous=siblings[i - 1].chunk_id if i > 0 else None,
        next=siblings[i + 1].chunk_id if i + 1 < len(siblings) else None,
    )


# ---- the server

def build_server(get_assistant: Callable[[], Assistant], settings: Settings | None = None) -> FastMCP:
    """A FastMCP server whose tools call ``get_assistant()`` (opened lazily
    by the caller). Stateless HTTP with JSON responses: a read-only server has
    nothing to keep between requests, and ``lsn serve --workers N`` may send
    consecutive requests of one client to different processes."""
    settings = settings or get_settings()
    # FastMCP sets up the root logger (a Rich handler, level INFO) when it has no
    # handler yet; the process's logging belongs to `lsn serve` or `lsn mcp`
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    try:
        # FastMCP checks Host and Origin headers (DNS rebinding) when bound to a loopback address
        server = FastMCP("LSN Assistant", instructions=INSTRUCTIONS, host=settings.host,
                         streamable_http_path=MCP_PATH, stateless_http=True, json_response=True)
    finally:
        root.removeHandler(guard)

    async def call(fn: Callable[..., Any], *args: Any) -> Any:
        """Run library work in a worker thread (answers take up to seconds;
        the event loop serves the rest of the app meanwhile) and turn the
        library's errors into tool errors with its message."""
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        except (ToolError, LSNError) as exc:
            raise ToolError(str(exc)) from exc
        except Exception as exc:
            log.exception("MCP tool failed")
            raise ToolError(f"internal error ({type(exc).__name__}); the server log has the details") from exc

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def search(
        query: Annotated[str, Field(description="what to look for, German or English")],
        k: Annotated[int, Field(ge=1, le=100, description="number of passages")] = 5,
        filters: Filters | None = None,
    ) -> Annotated[CallToolResult, SearchOutput]:
        """Find the passages of the documents that best match a query (hybrid
        dense + keyword search, across German and English). Each result has
        its document, page, section and a chunk_id for get_passage."""

        def run() -> SearchOutput:
            hits = get_assistant().search(query, k=k, filters=filters.as_dict() if filters else None)
            return SearchOutput(results=[Passage(**h.to_dict()) for h in hits])

        out = await call(run)
        return _result(search_text(out), out)

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def ask(
        question: Annotated[str, Field(description="the question, German or English")],
        history: Annotated[list[HistoryTurn] | None, Field(
            max_length=50, description="earlier turns of the conversation, oldest first (for follow-up questions)"
        )] = None,
        filters: Filters | None = None,
        k: Annotated[int | None, Field(ge=1, le=MAX_ASK_K, description="passages the answer may draw from")] = None,
    ) -> Annotated[CallToolResult, AskOutput]:
        """Answer a question from the documents: the answer's [n] markers are
        numbered sources (document, page, section, the verbatim quote), or the
        answer abstains when the documents do not say."""

        def run() -> AskOutput:
            turns = [t.model_dump(exclude_none=True) for t in history or []]
            answer = get_assistant().ask(question, history=turns, filters=filters.as_dict() if filters else None, k=k)
            return AskOutput(**answer.to_dict())

        out = await call(run)
        return _result(ask_text(out), out)

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def list_documents() -> Annotated[CallToolResult, DocumentsOutput]:
        """The indexed documents: file name (what filters.doc takes), title,
        year, languages, pages and passages."""

        def run() -> DocumentsOutput:
            a = get_assistant()
            return DocumentsOutput(documents=[DocumentOut(**d) for d in a.documents()], index_size=a.retriever.size)

        out = await call(run)
        return _result(documents_text(out), out)

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def get_passage(
        chunk_id: Annotated[str, Field(description="a passage's id from search or ask")],
    ) -> Annotated[CallToolResult, PassageOut]:
        """One whole passage by its chunk_id, with its document, page and
        section and the ids of the passages before and after it."""
        out = await call(lambda: passage(get_assistant(), chunk_id))
        return _result(passage_text(out), out)

    return server


def mount_mcp(app, get_assistant: Callable[[], Assistant], settings: Settings | None = None) -> FastMCP:
    """Serve the MCP server at ``/mcp`` of an existing Starlette/FastAPI app.

    Mount before a catch-all mount at "/" (the UI), which would otherwise
    take the path. The session manager's task group must run for as long as
    the app does, so it is entered in the app's lifespan (wrapped here, as
    Gradio's mount does)."""
    server = build_server(get_assistant, settings)
    app.router.routes.extend(server.streamable_http_app().routes)  # the one route at MCP_PATH
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        async with server.session_manager.run():
            async with inner(a) as state:
                yield state

    app.router.lifespan_context = lifespan
    return server


class LazyAssistant:
    """``get_assistant`` for the stdio server: the Assistant opened (and its
    models loaded) once, on first use or by ``start()`` in the background; a
    failure (store unreachable) is retried on the next call."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._assistant: Assistant | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Assistant:
        with self._lock:
            if self._assistant is None:
                assistant = Assistant.open(self.settings)
                try:
                    assistant.warm_up()
                except LSNError:
                    pass  # the tool call says why
                self._assistant = assistant
            return self._assistant

    def start(self) -> None:
        def warm() -> None:
            try:
                self()
            except Exception as exc:  # noqa: BLE001 - reported again by the first tool call
                log.warning("opening the index failed: %s", exc)

        threading.Thread(target=warm, name="lsn-mcp-warm-up", daemon=True).start()


def run_stdio(settings: Settings | None = None) -> None:
    """Serve MCP over stdin/stdout until the client closes stdin."""
    from mcp.server.stdio import stdio_server

    settings = settings or get_settings()
    get_assistant = LazyAssistant(settings)
    server = build_server(get_assistant, settings)
    # stdout carries the protocol alone: a stray print of a library or a C
    # extension would corrupt it. The protocol gets a private copy of fd 1,
    # and fd 1 and sys.stdout go to stderr.
    protocol = io.TextIOWrapper(os.fdopen(os.dup(sys.stdout.fileno()), "wb"), encoding="utf-8")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    get_assistant.start()

    async def main() -> None:
        async with stdio_server(stdout=anyio.wrap_file(protocol)) as (read, write):
            # FastMCP.run_stdio_async does the same with the process's stdout
            lowlevel = server._mcp_server
            await lowlevel.run(read, write, lowlevel.create_initialization_options())

    anyio.run(main)
