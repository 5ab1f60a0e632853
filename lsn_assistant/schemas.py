"""Response shapes shared by the service's edges (the HTTP API and the MCP
server): a passage as search returns it, a citation and an indexed document.
Built to match ``ScoredChunk.to_dict()``, ``Citation.to_dict()`` (types.py)
and ``Assistant.documents()``."""

from __future__ import annotations

from pydantic import BaseModel, Field


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


class CitationOut(BaseModel):
    n: int
    chunk_id: str
    doc: str
    title: str
    page: int | None
    section: str
    quote: str = Field(..., description="the supporting sentence, verbatim in text")
    text: str = Field(..., description="the whole passage")
    lang: str = ""


class DocumentOut(BaseModel):
    doc: str
    title: str
    year: int | None = None
    langs: list[str]
    chunks: int
    pages: int | None = None
    source: str = Field(..., description="corpus | upload | index (only the index knows it)")
