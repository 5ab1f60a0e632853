"""What the routes share, as FastAPI dependencies: the app's one ``Assistant``
(``AssistantDep``), its settings (``SettingsDep``) and the API key check of the
write and admin endpoints (``RequireKey``, declared before the other
dependencies of a route so that a refused key is answered before anything is
opened or read)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..assistant import Assistant
from ..auth import bearer, check_api_key
from ..config import Settings


class AssistantSlot:
    """The app's one Assistant, opened on first use. A failed open (store
    unreachable, no index) raises for that request, answered 503 with the
    reason, and is tried again on the next one. The UI and the MCP tools call
    the same slot."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None):
        self.settings = settings
        self.assistant = assistant

    def __call__(self) -> Assistant:
        if self.assistant is None:
            self.assistant = Assistant.open(self.settings)
        return self.assistant


def slot(request: Request) -> AssistantSlot:
    return request.app.state.assistant_slot


def get_assistant(request: Request) -> Assistant:
    return slot(request)()


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def require_key(request: Request) -> None:
    """``Authorization: Bearer <LSN_API_KEY>`` (Forbidden, 403, otherwise)."""
    check_api_key(request.app.state.settings, bearer(request.headers.get("authorization")))


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
# for a route that opens the Assistant only after it has read its request (an upload)
AssistantSlotDep = Annotated[AssistantSlot, Depends(slot)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RequireKey = Annotated[None, Depends(require_key)]
