"""Search and answers: /api/search, /api/ask and its stream."""

from __future__ import annotations

import json

from fastapi import APIRouter

from ..deps import AssistantDep
from ..schemas import AskRequest, AskResponse, SearchRequest, SearchResponse, SearchResult
from ...types import Done, StreamEvent
from ..shared import given, sse

router = APIRouter(tags=["answers"])


@router.post("/api/search", response_model=SearchResponse)
def search(req: SearchRequest, assistant: AssistantDep) -> SearchResponse:
    filters = req.filters.model_dump(exclude_none=True) if req.filters else None
    results = assistant.search(req.query, k=req.k, filters=filters)
    return SearchResponse(results=[SearchResult(**r.to_dict()) for r in results])


@router.post("/api/ask", response_model=AskResponse)
def ask(req: AskRequest, assistant: AssistantDep) -> AskResponse:
    args = req.args()
    return AskResponse(**given(assistant, assistant.ask(**args).to_dict(), args.get("history")))


@router.post("/api/ask/stream")
def ask_stream(req: AskRequest, assistant: AssistantDep):
    """Server-sent events: ``data: {json}`` per event (delta…, [reset], citations, done)."""
    args = req.args()
    events = assistant.ask_stream(**args)  # bad input raises here: a 4xx, not a stream

    def encode(event: StreamEvent):
        data = event.to_dict()
        if isinstance(event, Done):
            given(assistant, data["answer"], args.get("history"))
        return [f"data: {json.dumps(data, ensure_ascii=False)}\n\n"]

    return sse(events, encode)
