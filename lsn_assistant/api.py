"""The HTTP API (FastAPI) and, mounted at ``/``, the Gradio UI: one app.

Routes stay thin over ``Assistant``. Read endpoints are open; write endpoints
(upload, delete) need ``Authorization: Bearer <LSN_API_KEY>``. Every error is a
JSON ``{"detail": ...}`` with a 4xx (bad input, key, missing document) or 503
(no index, store unreachable) status; an unexpected failure is a 500 with a
generic message, never a stack trace, and the connection stays usable for the
next request. Text fields are checked by ``text.clean_text`` in the request
models: invalid characters are a 400 before anything runs.
``/v1/chat/completions`` speaks the OpenAI protocol so existing chat clients
can use the assistant."""

from __future__ import annotations

import json
import logging
import time
import uuid
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .assistant import Assistant
from .auth import bearer, check_api_key
from .config import Settings, get_settings
from .errors import (
    BadQuery,
    ConfigError,
    Conflict,
    Forbidden,
    IndexEmpty,
    IngestError,
    LSNError,
    NotFound,
    StoreUnavailable,
    UploadRejected,
)
from .schemas import CitationOut, SearchResult
from .text import clean_text

log = logging.getLogger(__name__)


def _checked(what: str, visible: bool = True) -> AfterValidator:
    """A request field's text through ``clean_text``; a refusal becomes an
    ``invalid_text`` validation error, answered with 400 and its message."""

    def check(value: str) -> str:
        try:
            return clean_text(value, what, require_visible=visible)
        except BadQuery as exc:
            raise PydanticCustomError("invalid_text", "{reason}", {"reason": str(exc)}) from None

    return AfterValidator(check)


FilterValue = Annotated[str, _checked("filter value", visible=False)]


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc: list[FilterValue] | None = None
    lang: list[FilterValue] | None = None
    year: list[Annotated[int, Field(ge=0, le=9999)]] | None = None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, _checked("query")] = Field(..., description="What to look for, German or English")
    k: int = Field(10, ge=1, le=100)
    filters: Filters | None = None


class SearchResponse(BaseModel):
    results: list[SearchResult]


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: Annotated[str, _checked("history content", visible=False)] = Field(..., max_length=20000)
    citations: list[dict[str, Any]] | None = Field(
        None, description="An assistant turn's citations as /api/ask returned them (their docs scope a follow-up)"
    )
    docs: list[str] | None = None


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Annotated[str, _checked("question")] = Field(..., description="The question, German or English")
    history: list[HistoryTurn] = Field(default_factory=list, max_length=50)
    filters: Filters | None = None
    k: int | None = Field(None, ge=1, le=20, description="Passages the answer may draw from")

    def args(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "history": [t.model_dump(exclude_none=True) for t in self.history],
            "filters": self.filters.model_dump(exclude_none=True) if self.filters else None,
            "k": self.k,
        }


class AskResponse(BaseModel):
    answer_id: str = Field("", description="names this answer for POST /api/feedback")
    answer: str
    language: str
    abstained: bool
    citations: list[CitationOut]
    timings_ms: dict[str, float]
    mode: str
    notice: str | None = None
    related: list[SearchResult] = []
    question: str = ""
    standalone: str = ""
    evidence: dict[str, Any] = {}


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    rating: Literal["up", "down"]
    comment: Annotated[str, StringConstraints(max_length=2000), _checked("comment", visible=False)] | None = None


class DocumentOut(BaseModel):
    doc: str
    title: str
    year: int | None = None
    langs: list[str]
    chunks: int
    pages: int | None = None
    source: str = Field(..., description="corpus | upload | index (only the index knows it)")


class DocumentsResponse(BaseModel):
    documents: list[DocumentOut]
    index_size: int


# ---- OpenAI-compatible chat

class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # [{"type": "text", "text": ...}, ...]
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The fields an OpenAI chat client sends; sampling options are accepted and ignored."""

    model: str = "lsn-assistant"
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=100)
    stream: bool = False
    filters: Filters | None = None
    k: int | None = Field(None, ge=1, le=20)

    def args(self) -> dict[str, Any]:
        turns = [m for m in self.messages if m.role in ("user", "assistant")]
        if not turns or turns[-1].role != "user":
            raise BadQuery("the last message must be the user's question")
        return {
            "question": turns[-1].text(),
            "history": [{"role": m.role, "content": m.text()} for m in turns[:-1]],
            "filters": self.filters.model_dump(exclude_none=True) if self.filters else None,
            "k": self.k,
        }


MODEL_ID = "lsn-assistant"


def with_sources(answer: dict) -> str:
    """The answer text with its sources appended, for clients that only show text."""
    text = answer["answer"]
    if answer.get("notice"):
        text = f"{text}\n\n_{answer['notice']}_"
    if not answer["citations"]:
        return text
    head = "Quellen" if answer["language"] == "de" else "Sources"
    page = "S." if answer["language"] == "de" else "p."
    lines = []
    for c in answer["citations"]:
        where = c["title"] + (f", {page} {c['page']}" if c.get("page") else "") + (f", {c['section']}" if c.get("section") else "")
        quote = " ".join(c["quote"].split())
        lines.append(f"[{c['n']}] {where}: \"{quote}\"")
    return f"{text}\n\n{head}:\n" + "\n".join(lines)


def _usage(question: str, text: str) -> dict[str, int]:
    # words, not model tokens: there is no tokenizer in the extractive path
    p, c = len(question.split()), len(text.split())
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _status(exc: LSNError) -> int:
    if isinstance(exc, UploadRejected):
        return exc.status
    for cls, status in ((BadQuery, 400), (Forbidden, 403), (NotFound, 404), (Conflict, 409), (IngestError, 422),
                        (StoreUnavailable, 503), (IndexEmpty, 503), (ConfigError, 503)):
        if isinstance(exc, cls):
            return status
    return 500


UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "pdf, docx, txt or md"},
                        "title": {"type": "string"},
                        "year": {"type": "integer"},
                        "lang": {"type": "string", "enum": ["de", "en"]},
                    },
                }
            }
        },
    }
}
FORM_OVERHEAD = 64 * 1024  # multipart headers and the small fields around the file


class InternalErrors:
    """An unexpected exception becomes the generic 500 here, and ends here.

    Starlette's outermost ServerErrorMiddleware sends its 500 and then
    re-raises the exception for the server to log; uvicorn, seeing an
    exception after the response started, closes the connection, so a
    client's next request on that keep-alive connection was reset. Caught
    inside it, the exception is logged, the 500 sent and the connection kept.
    A response already under way (a stream) cannot be mended: that one still
    ends the connection (the SSE endpoints report their errors in-stream)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            response = JSONResponse(
                {"detail": f"internal error ({type(exc).__name__}); the server log has the details"}, status_code=500
            )
            await response(scope, receive, send)


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    settings = settings or get_settings()
    state: dict[str, Any] = {"assistant": assistant}

    def get_assistant() -> Assistant:
        if state["assistant"] is None:
            state["assistant"] = Assistant.open(settings)
        return state["assistant"]

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            a = get_assistant()
        except LSNError:
            a = None  # served as 503 per request, with the reason
        if a is not None:
            try:
                # an ingest killed mid-way (this server, or `lsn ingest`) is finished or rolled back
                # before the first request: no document is served half there
                for r in a.recover():
                    log.warning("recovered an interrupted ingest: %s %s (%s)", r["action"], r["doc"], r["detail"])
            except LSNError as exc:
                log.warning("could not check for interrupted ingests: %s", exc)
            try:
                a.warm_up()  # load models and indexes before the first request
            except LSNError:
                pass  # served as 503 per request, with the reason
        yield

    app = FastAPI(
        title="LSN Assistant",
        version="0.1.0",
        lifespan=lifespan,
        description="Questions about the Life Science Nord strategy documents, answered from the documents "
        "with citations. Write endpoints need `Authorization: Bearer <LSN_API_KEY>`.",
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )

    @app.exception_handler(LSNError)
    async def _lsn_error(request: Request, exc: LSNError):
        status = _status(exc)
        if status >= 500:
            log.exception("request failed: %s", exc)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        # a text field with characters nothing downstream can take: a 400 saying which
        for error in exc.errors():
            if error.get("type") == "invalid_text":
                return JSONResponse({"detail": error["msg"]}, status_code=400)
            if error.get("type") == "string_unicode":  # pydantic's own check, on fields with a length limit
                where = ".".join(str(p) for p in error.get("loc", ())[1:]) or "the body"
                return JSONResponse({"detail": f"{where} contains an invalid character (an unpaired surrogate): "
                                               "send text as valid UTF-8"}, status_code=400)
        # the usual 422, with any input it quotes escaped: a surrogate in it cannot be encoded as UTF-8
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's "error parsing the body"
            return JSONResponse({"detail": f"the request body is not valid UTF-8 ({exc.__cause__.reason} at byte "
                                           f"{exc.__cause__.start}); send JSON encoded as UTF-8"}, status_code=400)
        return await http_exception_handler(request, exc)

    # inside Starlette's ServerErrorMiddleware, which would close the connection (InternalErrors)
    app.add_middleware(InternalErrors)

    def authorize(request: Request) -> None:
        check_api_key(settings, bearer(request.headers.get("authorization")))

    # ---- search and answers

    @app.post("/api/search", response_model=SearchResponse, tags=["answers"])
    def search(req: SearchRequest) -> SearchResponse:
        filters = req.filters.model_dump(exclude_none=True) if req.filters else None
        results = get_assistant().search(req.query, k=req.k, filters=filters)
        return SearchResponse(results=[SearchResult(**r.to_dict()) for r in results])

    def given(answer: dict, history: list[dict] | None) -> dict:
        """An answer shown to someone is kept for a later rating; a failing
        feedback store must not cost the answer."""
        try:
            get_assistant().record_answer(answer, history)
        except Exception:  # noqa: BLE001 - logged; the answer still goes out
            log.exception("could not keep the answer for feedback")
        return answer

    @app.post("/api/ask", response_model=AskResponse, tags=["answers"])
    def ask(req: AskRequest) -> AskResponse:
        args = req.args()
        return AskResponse(**given(get_assistant().ask(**args).to_dict(), args.get("history")))

    def sse(events, encode) -> StreamingResponse:
        def body():
            try:
                for event in events:
                    yield from encode(event)
            except LSNError as exc:
                yield f"data: {json.dumps({'type': 'error', 'detail': str(exc)}, ensure_ascii=False)}\n\n"
            except Exception as exc:  # noqa: BLE001 - the status line is sent; say it in the stream
                log.exception("stream failed")
                yield f"data: {json.dumps({'type': 'error', 'detail': f'internal error ({type(exc).__name__})'})}\n\n"

        return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.post("/api/ask/stream", tags=["answers"])
    def ask_stream(req: AskRequest):
        """Server-sent events: ``data: {json}`` per event (delta…, [reset], citations, done)."""
        args = req.args()
        events = get_assistant().ask_stream(**args)  # bad input raises here: a 4xx, not a stream

        def encode(event: dict):
            if event["type"] == "done":
                given(event["answer"], args.get("history"))
            return [f"data: {json.dumps(event, ensure_ascii=False)}\n\n"]

        return sse(events, encode)

    # ---- feedback

    @app.post("/api/feedback", status_code=201, tags=["feedback"])
    def feedback(req: FeedbackRequest):
        """Rate an answer given earlier (its ``answer_id``): ``up`` or ``down``,
        with an optional comment. Stored with the question, answer, citations,
        mode and index fingerprint; 404 for an unknown answer id."""
        return {"id": get_assistant().rate(req.answer_id, req.rating, req.comment)}

    @app.get("/api/feedback", tags=["feedback"])
    def feedback_list(request: Request, rating: Literal["up", "down"] | None = None, limit: int = Query(200, ge=1, le=10_000)):
        """The ratings with what they rate, newest first (needs the API key)."""
        authorize(request)
        store = get_assistant().feedback
        return {"counts": store.counts(), "feedback": store.list(rating=rating, limit=limit)}

    # ---- documents

    @app.get("/api/documents", response_model=DocumentsResponse, tags=["documents"])
    def documents() -> DocumentsResponse:
        a = get_assistant()
        return DocumentsResponse(documents=[DocumentOut(**d) for d in a.documents()], index_size=a.retriever.size)

    @app.post("/api/documents", tags=["documents"], openapi_extra=UPLOAD_SCHEMA)
    async def upload(request: Request):
        """Add or update a document (pdf, docx, txt, md; the type is checked by
        content). Returns the ingest report. Needs the API key."""
        authorize(request)  # before reading a byte of the body
        limit = int(settings.max_upload_mb * 1024 * 1024)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
            raise UploadRejected(f"the upload is {int(declared) / 1e6:.1f} MB; the limit is {settings.max_upload_mb:g} MB", 413)
        try:
            form = await request.form(max_files=1, max_fields=10)
        except Exception as exc:  # noqa: BLE001 - starlette's parse errors vary by version
            raise BadQuery(f"send the document as multipart/form-data with a 'file' field ({exc})") from exc
        try:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise BadQuery("send the document as multipart/form-data with a 'file' field")
            data = await upload.read(limit + 1)
            year = form.get("year")
            if year not in (None, "") and not str(year).strip().isdigit():
                raise BadQuery("year must be a whole number")
            args = {
                "title": str(form.get("title") or "") or None,
                "year": int(year) if year not in (None, "") else None,
                "lang": str(form.get("lang") or "") or None,
            }
            if len(data) > limit:
                raise UploadRejected(f"the file is larger than {settings.max_upload_mb:g} MB; the limit is {settings.max_upload_mb:g} MB", 413)
            report = await run_in_threadpool(get_assistant().add_document, upload.filename or "", data, **args)
        finally:
            await form.close()
        status = 422 if report["counts"].get("failed") else 200
        return JSONResponse(report, status_code=status)

    @app.get("/api/documents/{doc}/file", tags=["documents"], response_class=FileResponse,
             responses={200: {"content": {"application/pdf": {}, "text/plain": {}}}, 404: {"description": "not indexed"}})
    def document_file(doc: str):
        """The original file of an indexed document (uploaded, or in the corpus
        folder), as it was ingested: the UI opens a PDF at a cited page from
        here. Only names the index holds are served (404 otherwise, also when
        only the index knows the document); range requests work."""
        path, media_type = get_assistant().document_file(doc)
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
        if not media_type.startswith("application/pdf"):
            # text and HTML of the corpus are shown, never run, on this origin;
            # a PDF goes to the browser's viewer or pdf.js (fetched), where a sandbox would block it
            headers["Content-Security-Policy"] = "sandbox"
        inline = media_type.startswith(("application/pdf", "text/"))
        return FileResponse(path, media_type=media_type, filename=doc, headers=headers,
                            content_disposition_type="inline" if inline else "attachment")

    @app.delete("/api/documents/{doc}", tags=["documents"])
    def delete(doc: str, request: Request):
        """Remove a document from the index (and an uploaded file from disk). Needs the API key."""
        authorize(request)
        return get_assistant().delete_document(doc)

    # ---- OpenAI-compatible chat

    @app.get("/v1/models", tags=["openai"])
    def models():
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "lsn"}]}

    @app.post("/v1/chat/completions", tags=["openai"])
    def chat_completions(req: ChatRequest):
        """OpenAI chat completions: the last user message is the question, the
        earlier turns its history. The reply's text carries the sources; the
        structured citations are in ``citations`` (and in the last stream chunk)."""
        args = req.args()
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        if not req.stream:
            answer = given(get_assistant().ask(**args).to_dict(), args.get("history"))
            text = with_sources(answer)
            return {
                "id": cid, "object": "chat.completion", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": _usage(args["question"], text),
                "citations": answer["citations"],
                "abstained": answer["abstained"],
                "answer_id": answer["answer_id"],
            }
        events = get_assistant().ask_stream(**args)

        def chunk(delta: dict, finish: str | None = None, **extra) -> str:
            obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"

        sent = {"text": ""}

        def encode(event: dict):
            if event["type"] == "delta":
                if not sent["text"]:
                    yield chunk({"role": "assistant", "content": ""})
                sent["text"] += event["text"]
                yield chunk({"content": event["text"]})
            elif event["type"] == "done":
                answer = given(event["answer"], args.get("history"))
                # a chat client cannot take text back: a withdrawn LLM draft is followed by the final answer
                tail = with_sources(answer)
                tail = tail[len(answer["answer"]):] if sent["text"].strip() == answer["answer"].strip() else "\n\n" + tail
                yield chunk({"content": tail}, None)
                yield chunk({}, "stop", citations=answer["citations"], abstained=answer["abstained"], answer_id=answer["answer_id"])
                yield "data: [DONE]\n\n"

        return sse(events, encode)

    @app.get("/health", tags=["service"])
    def health():
        try:
            return get_assistant().health()
        except LSNError as exc:
            return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)

    api_paths = [r for r in app.routes if getattr(r, "path", "").startswith(("/api/", "/v1/"))]

    def unknown(rest: str, request: Request):
        """Under /api and /v1 a wrong path or method is a JSON 404/405, not the UI's page."""
        from starlette.routing import Match

        if any(r.matches(request.scope)[0] == Match.PARTIAL for r in api_paths):
            return JSONResponse({"detail": f"{request.method} is not allowed here"}, status_code=405)
        return JSONResponse({"detail": f"no such endpoint: {request.url.path}"}, status_code=404)

    for prefix in ("/api", "/v1"):
        app.add_api_route(f"{prefix}/{{rest:path}}", unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                          include_in_schema=False)

    from .mcp_server import mount_mcp  # the MCP tools at /mcp (before the UI's catch-all mount at /)

    mount_mcp(app, get_assistant, settings)

    if settings.ui:
        try:
            from ui.app import mount_ui
        except ImportError as exc:  # the UI is optional for API-only deployments
            log.warning("UI not mounted: %s", exc)
        else:
            app = mount_ui(app, get_assistant, settings)
    return app
