"""What the answer routes of both protocols (/api/ask…, /v1/chat/completions)
share: keeping an answer for a later rating, and sending server-sent events."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator

from fastapi.responses import StreamingResponse

from ..assistant import Assistant
from ..errors import LSNError

log = logging.getLogger("lsn_assistant.api")


def given(assistant: Assistant, answer: dict, history: list[dict] | None) -> dict:
    """An answer shown to someone is kept for a later rating; a failing
    feedback store must not cost the answer."""
    try:
        assistant.record_answer(answer, history)
    except Exception:  # noqa: BLE001 - logged; the answer still goes out
        log.exception("could not keep the answer for feedback")
    return answer


def sse(events: Iterable[dict], encode: Callable[[dict], Iterable[str]]) -> StreamingResponse:
    """The events as ``text/event-stream``; an error after the status line is
    sent is reported in the stream as ``{"type": "error", "detail": ...}``."""

    def body() -> Iterator[str]:
        try:
            for event in events:
                yield from encode(event)
        except LSNError as exc:
            yield f"data: {json.dumps({'type': 'error', 'detail': str(exc)}, ensure_ascii=False)}\n\n"
        except Exception as exc:  # noqa: BLE001 - the status line is sent; say it in the stream
            log.exception("stream failed")
            yield f"data: {json.dumps({'type': 'error', 'detail': f'internal error ({type(exc).__name__})'})}\n\n"

    return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
