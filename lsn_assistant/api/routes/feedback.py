"""Ratings of answers: POST /api/feedback, and GET for the operators (API key)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from ..deps import AssistantDep, RequireKey
from ..schemas import FeedbackRequest

router = APIRouter(tags=["feedback"])


@router.post("/api/feedback", status_code=201)
def feedback(req: FeedbackRequest, assistant: AssistantDep):
    """Rate an answer given earlier (its ``answer_id``): ``up`` or ``down``,
    with an optional comment. Stored with the question, answer, citations,
    mode and index fingerprint; 404 for an unknown answer id."""
    return {"id": assistant.rate(req.answer_id, req.rating, req.comment)}


@router.get("/api/feedback")
def feedback_list(_: RequireKey, assistant: AssistantDep, rating: Literal["up", "down"] | None = None,
                  limit: int = Query(200, ge=1, le=10_000)):
    """The ratings with what they rate, newest first (needs the API key)."""
    store = assistant.feedback
    return {"counts": store.counts(), "feedback": store.list(rating=rating, limit=limit)}
