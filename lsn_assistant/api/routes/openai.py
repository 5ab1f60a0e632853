"""The OpenAI-compatible chat: /v1/models and /v1/chat/completions (plain and
streamed), so that existing chat clients can use the assistant."""

from __future__ import annotations

import json
import time
import uuid

from fastapi import APIRouter

from ..deps import AssistantDep
from ..schemas import ChatRequest
from ...i18n import labels, place
from ...types import Delta, Done, StreamEvent
from ..shared import given, sse

router = APIRouter(tags=["openai"])

MODEL_ID = "lsn-assistant"


def with_sources(answer: dict) -> str:
    """The answer text with its sources appended, for clients that only show text."""
    text = answer["answer"]
    if answer.get("notice"):
        text = f"{text}\n\n_{answer['notice']}_"
    if not answer["citations"]:
        return text
    head = labels("answer", answer["language"])["sources"]
    lines = []
    for c in answer["citations"]:
        where = place(answer["language"], c["title"], c.get("page"), c.get("section") or "")
        quote = " ".join(c["quote"].split())
        lines.append(f"[{c['n']}] {where}: \"{quote}\"")
    return f"{text}\n\n{head}:\n" + "\n".join(lines)


def _usage(question: str, text: str) -> dict[str, int]:
    # words, not model tokens: there is no tokenizer in the extractive path
    p, c = len(question.split()), len(text.split())
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


@router.get("/v1/models")
def models():
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "lsn"}]}


@router.post("/v1/chat/completions")
def chat_completions(req: ChatRequest, assistant: AssistantDep):
    """OpenAI chat completions: the last user message is the question, the
    earlier turns its history. The reply's text carries the sources; the
    structured citations are in ``citations`` (and in the last stream chunk)."""
    args = req.args()
    cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    if not req.stream:
        answer = given(assistant, assistant.ask(**args).to_dict(), args.get("history"))
        text = with_sources(answer)
        return {
            "id": cid, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": _usage(args["question"], text),
            "citations": answer["citations"],
            "abstained": answer["abstained"],
            "answer_id": answer["answer_id"],
        }
    events = assistant.ask_stream(**args)

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"

    sent = {"text": ""}

    def encode(event: StreamEvent):
        if isinstance(event, Delta):
            if not sent["text"]:
                yield chunk({"role": "assistant", "content": ""})
            sent["text"] += event.text
            yield chunk({"content": event.text})
        elif isinstance(event, Done):
            answer = given(assistant, event.answer.to_dict(), args.get("history"))
            # a chat client cannot take text back: a withdrawn LLM draft is followed by the final answer
            tail = with_sources(answer)
            tail = tail[len(answer["answer"]):] if sent["text"].strip() == answer["answer"].strip() else "\n\n" + tail
            yield chunk({"content": tail}, None)
            yield chunk({}, "stop", citations=answer["citations"], abstained=answer["abstained"], answer_id=answer["answer_id"])
            yield "data: [DONE]\n\n"

    return sse(events, encode)
