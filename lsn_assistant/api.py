"""The HTTP API (FastAPI). One router per resource is overkill for now; the
routes stay thin over ``Assistant``."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
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
            get_assistant()  # load models and the lexical index before the first request
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

    @app.get("/health")
    def health():
        try:
            return get_assistant().health()
        except LSNError as exc:
            return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)

    return app
