"""The app: ``create_app`` builds it from the routers (routes/), with the error
handling every route shares, the MCP tools at /mcp and the UI at /.

Every error is a JSON ``{"detail": ...}`` with a 4xx (bad input, key, missing
document) or 503 (no index, store unreachable) status; an unexpected failure is
a 500 with a generic message, never a stack trace, and the connection stays
usable for the next request (``InternalErrors``)."""

from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..assistant import Assistant
from ..config import Settings, get_settings
from ..errors import (
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
from ..mcp_server import mount_mcp
from .deps import AssistantSlot
from .routes import answers, documents, feedback, health, openai

log = logging.getLogger("lsn_assistant.api")

# in this order: the OpenAPI document lists the routes as the routers add them
ROUTERS = (answers.router, feedback.router, documents.router, openai.router, health.router)


def _status(exc: LSNError) -> int:
    if isinstance(exc, UploadRejected):
        return exc.status
    for cls, status in ((BadQuery, 400), (Forbidden, 403), (NotFound, 404), (Conflict, 409), (IngestError, 422),
                        (StoreUnavailable, 503), (IndexEmpty, 503), (ConfigError, 503)):
        if isinstance(exc, cls):
            return status
    return 500


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


async def _lsn_error(request: Request, exc: LSNError):
    status = _status(exc)
    if status >= 500:
        log.exception("request failed: %s", exc)
    return JSONResponse({"detail": str(exc)}, status_code=status)


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


async def _http_error(request: Request, exc: StarletteHTTPException):
    if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's "error parsing the body"
        return JSONResponse({"detail": f"the request body is not valid UTF-8 ({exc.__cause__.reason} at byte "
                                       f"{exc.__cause__.start}); send JSON encoded as UTF-8"}, status_code=400)
    return await http_exception_handler(request, exc)


@asynccontextmanager
async def lifespan(app: FastAPI):
    try:
        a = app.state.assistant_slot()
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


def _unknown_endpoints(app: FastAPI) -> None:
    """Under /api and /v1 a wrong path or method is a JSON 404/405, not the UI's page."""
    api_paths = [r for router in ROUTERS for r in router.routes if r.path.startswith(("/api/", "/v1/"))]

    def unknown(rest: str, request: Request):
        if any(r.matches(request.scope)[0] == Match.PARTIAL for r in api_paths):
            return JSONResponse({"detail": f"{request.method} is not allowed here"}, status_code=405)
        return JSONResponse({"detail": f"no such endpoint: {request.url.path}"}, status_code=404)

    for prefix in ("/api", "/v1"):
        app.add_api_route(f"{prefix}/{{rest:path}}", unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                          include_in_schema=False)


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """The API (and, unless ``settings.ui`` is off, the UI at /) over one
    ``Assistant``: the one given, or one opened on first use."""
    settings = settings or get_settings()
    slot = AssistantSlot(settings, assistant)

    app = FastAPI(
        title="LSN Assistant",
        version="0.1.0",
        lifespan=lifespan,
        description="Questions about the Life Science Nord strategy documents, answered from the documents "
        "with citations. Write endpoints need `Authorization: Bearer <LSN_API_KEY>`.",
    )
    app.state.settings = settings
    app.state.assistant_slot = slot
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_exception_handler(LSNError, _lsn_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # inside Starlette's ServerErrorMiddleware, which would close the connection (InternalErrors)
    app.add_middleware(InternalErrors)

    for router in ROUTERS:
        app.include_router(router)
    _unknown_endpoints(app)

    mount_mcp(app, slot, settings)  # the MCP tools at /mcp (before the UI's catch-all mount at /)

    if settings.ui:
        try:
            from ui.app import mount_ui  # defers gradio: the UI is optional for API-only deployments
        except ImportError as exc:
            log.warning("UI not mounted: %s", exc)
        else:
            app = mount_ui(app, slot, settings)
    return app
