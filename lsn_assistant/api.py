"""The HTTP API (FastAPI). One router per resource is overkill for now; the
routes stay thin over ``Assistant``."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from .assistant import Assistant
from .config import Settings, get_settings
from .errors import BadQuery, ConfigError, IndexEmpty, LSNError, StoreUnavailable


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc: list[str] | None = None
    lang: list[str] | None = None
    year: list[int] | None = None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(..., description="What to look for, German or English")
    k: int = Field(10, ge=1, le=100)
    filters: Filters | None = None


class SearchResult(BaseModel):
    rank: int
    score: float
    chunk_id: str
    doc: str
    title: str
    page: int | None
    section: str
    lang: str
    year: int | None = None
    text: str


class SearchResponse(BaseModel):
    results: list[SearchResult]


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=20000)
    citations: list[dict[str, Any]] | None = Field(
        None, description="An assistant turn's citations as /api/ask returned them (their docs scope a follow-up)"
    )
    docs: list[str] | None = None


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., description="The question, German or English")
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


class CitationOut(BaseModel):
    n: int
    chunk_id: str
    doc: str
    title: str
    page: int | None
    section: str
    quote: str
    text: str
    lang: str = ""


class AskResponse(BaseModel):
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
            get_assistant().warm_up()  # load models and indexes before the first request
        except LSNError:
            pass  # served as 503 per request, with the reason
        yield

    app = FastAPI(title="LSN Assistant", version="0.1.0", lifespan=lifespan)

    @app.exception_handler(LSNError)
    async def _lsn_error(request: Request, exc: LSNError):
        status = 400 if isinstance(exc, BadQuery) else 503 if isinstance(exc, (StoreUnavailable, IndexEmpty)) else 500
        if isinstance(exc, ConfigError):
            status = 503
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.post("/api/search", response_model=SearchResponse)
    def search(req: SearchRequest) -> SearchResponse:
        filters = req.filters.model_dump(exclude_none=True) if req.filters else None
        results = get_assistant().search(req.query, k=req.k, filters=filters)
        return SearchResponse(results=[SearchResult(**r.to_dict()) for r in results])

    @app.post("/api/ask", response_model=AskResponse)
    def ask(req: AskRequest) -> AskResponse:
        return AskResponse(**get_assistant().ask(**req.args()).to_dict())

    @app.post("/api/ask/stream")
    def ask_stream(req: AskRequest):
        """Server-sent events: ``data: {json}`` per event (delta…, citations, done)."""
        events = get_assistant().ask_stream(**req.args())  # bad input raises here: a 4xx, not a stream

        def sse():
            try:
                for event in events:
                    yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
            except LSNError as exc:
                yield f"data: {json.dumps({'type': 'error', 'detail': str(exc)}, ensure_ascii=False)}\n\n"

        return StreamingResponse(sse(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/health")
    def health():
        try:
            return get_assistant().health()
        except LSNError as exc:
            return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)

    return app
