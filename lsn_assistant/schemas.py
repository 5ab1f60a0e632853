"""Response shapes shared by the service's edges (the HTTP API and the MCP
server): a passage as search returns it, and a citation. Built to match
``ScoredChunk.to_dict()`` and ``Citation.to_dict()`` in types.py."""

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
