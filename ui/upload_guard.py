"""Bounds on Gradio's upload route, which anyone can call.

The browser uploads a chosen file to ``POST /gradio_api/upload`` before any
event runs, without the API key (the Documents tab asks for it only when the
file is added), and Gradio keeps what it receives in its cache. Left alone,
anonymous callers could send files as often as they like and fill the disk.
``UploadGuard`` (an ASGI middleware in front of the whole app) lets such a
request through only when

- it declares its size (``Content-Length``; chunked bodies are refused with
  411) and that size is at most one document plus form overhead (413, before a
  byte of the body is read; Gradio's own ``max_file_size`` then holds each file
  to the document limit while it streams);
- the files this app's uploads still hold in the cache, plus the requests
  being received, stay within ``budget_bytes`` (429 with Retry-After);
- the client has not sent more than ``per_minute`` uploads in the last minute
  (429).

The cache is emptied by age (``gr.Blocks(delete_cache=...)``, ui/app.py) and a
file the Documents tab added to the library is removed from it at once, so
the budget frees up by itself. Chat needs no upload, so none of this touches it.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

GUARDED = ("/gradio_api/upload", "/gradio_api/process_recording")
FORM_OVERHEAD = 64 * 1024  # multipart headers around the file
RETRY_AFTER_S = 60


def held_bytes(paths: Iterable[str]) -> int:
    """Bytes the given cache files take on disk (files already gone count 0)."""
    total = 0
    for path in paths:
        try:
            total += os.stat(path).st_size
        except OSError:
            continue
    return total


class UploadGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_file_bytes: int,
        budget_bytes: int,
        cached_files: Callable[[], Iterable[str]],
        per_minute: int = 30,
    ):
        self.app = app
        self.max_request = max_file_bytes + FORM_OVERHEAD
        self.budget = budget_bytes
        self.cached_files = cached_files
        self.per_minute = per_minute
        self._receiving = 0  # bytes of upload bodies being received right now
        self._recent: dict[str, deque[float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not scope["path"].endswith(GUARDED):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        declared = headers.get("content-length", "")
        if not declared.isdigit():
            await _refuse(send, 411, "uploads must declare their size (Content-Length)")
            return
        size = int(declared)
        if size > self.max_request:
            await _refuse(send, 413, f"the upload is {size / 1e6:.1f} MB; the limit is "
                                     f"{(self.max_request - FORM_OVERHEAD) / 1e6:.1f} MB per document")
            return
        if not self._admit(_client(scope)):
            await _refuse(send, 429, f"too many uploads: at most {self.per_minute} a minute", retry=True)
            return
        # The check and the reservation happen without an await in between:
        # concurrent requests cannot all pass on the same free space.
        held = held_bytes(list(self.cached_files()))
        if held + self._receiving + size > self.budget:
            await _refuse(send, 429, f"the upload cache is full ({(held + self._receiving) / 1e6:.0f} of "
                                     f"{self.budget / 1e6:.0f} MB held by recent uploads); try again later", retry=True)
            return
        self._receiving += size
        try:
            await self.app(scope, receive, send)
        finally:
            self._receiving -= size

    def _admit(self, client: str) -> bool:
        now = time.monotonic()
        recent = self._recent.setdefault(client, deque())
        while recent and now - recent[0] > 60:
            recent.popleft()
        if len(recent) >= self.per_minute:
            return False
        recent.append(now)
        if len(self._recent) > 10_000:  # forget idle clients: the table must not grow without bound either
            for key in [k for k, q in self._recent.items() if not q or now - q[-1] > 60]:
                del self._recent[key]
        return True


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "?"


async def _refuse(send: Send, status: int, detail: str, retry: bool = False) -> None:
    body = json.dumps({"detail": detail}).encode()
    # the body was not read: the connection cannot carry another request
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    if retry:
        headers.append((b"retry-after", str(RETRY_AFTER_S).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
