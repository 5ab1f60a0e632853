"""The API key of write operations (upload, delete), shared by API and UI."""

from __future__ import annotations

import secrets

from .config import Settings
from .errors import Forbidden


def check_api_key(settings: Settings, presented: str | None) -> None:
    """Raise Forbidden unless a key is configured and ``presented`` is it."""
    if not settings.api_key:
        raise Forbidden("write operations are disabled: no API key is configured (set LSN_API_KEY)")
    if not presented or not secrets.compare_digest(presented.encode(), settings.api_key.encode()):
        raise Forbidden("wrong or missing API key")


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
