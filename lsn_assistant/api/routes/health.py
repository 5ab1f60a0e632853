"""/health: the index, the models, the LLM and what start-up recovery did;
503 with the reason when the Assistant cannot open."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ...errors import LSNError
from ..deps import AssistantSlotDep

router = APIRouter(tags=["service"])


@router.get("/health")
def health(assistant: AssistantSlotDep):
    try:
        return assistant().health()
    except LSNError as exc:
        return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
