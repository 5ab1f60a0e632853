"""The chat's logic. A conversation is the list of its exchanges, kept per
user in ``gr.State``::

    {"question": str, "text": str (the answer so far), "answer": dict | None
     (Answer.to_dict() once done), "error": str | None}

The Chatbot's messages, the history the assistant continues from and the
sources panel are all made from that list, so they cannot disagree. The
browser keeps the list too (``ui/conversations.py``), so that a conversation
can be reopened after a reload and continued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import gradio as gr

from lsn_assistant.assistant import Assistant
from lsn_assistant.conversation import MAX_TURNS
from lsn_assistant.errors import LSNError
from lsn_assistant.types import Delta, Done, Reset

from . import conversations
from .i18n import error_message, text
from .render import answer_markdown, copy_text, escape_markdown, sources_panel

log = logging.getLogger(__name__)

PENDING = "…"


def new_exchange(question: str) -> dict:
    return {"question": question, "text": "", "answer": None, "error": None}


def history(exchanges: list[dict]) -> list[dict]:
    """The turns of the answered exchanges, for ``Assistant.ask_stream``; the
    assistant turns carry their citations (a follow-up keeps their documents).
    Only the latest ``MAX_TURNS``, as many as the assistant takes: a long
    conversation, continued after a reload, goes on from its recent turns."""
    turns = []
    for x in exchanges:
        if x["answer"] is not None:
            turns.append({"role": "user", "content": x["question"]})
            turns.append({"role": "assistant", "content": x["answer"]["answer"], "citations": x["answer"]["citations"]})
    return turns[-MAX_TURNS:] if len(turns) > MAX_TURNS else turns


def filters(docs: list[str] | None, langs: list[str] | None) -> dict | None:
    """The chat's filter choices as ``ask_stream`` filters (none chosen: none)."""
    chosen = {key: list(values) for key, values in (("doc", docs), ("lang", langs)) if values}
    return chosen or None


def assistant_message(turn: int, x: dict) -> str:
    if x["error"]:
        return f'<span class="lsn-error">⚠ {escape_markdown(x["error"])}</span>'
    if x["answer"] is not None and x["answer"]["abstained"]:
        return f'<span class="lsn-abstained">{escape_markdown(x["answer"]["answer"])}</span>'
    return answer_markdown(x["text"], turn) if x["text"] else PENDING


def messages(exchanges: list[dict]) -> list[dict]:
    """The Chatbot's value (messages format)."""
    out = []
    for turn, x in enumerate(exchanges, start=1):
        out.append({"role": "user", "content": escape_markdown(x["question"])})
        out.append({"role": "assistant", "content": assistant_message(turn, x)})
    return out


def respond(
    get_assistant: Callable[[], Assistant],
    question: str,
    exchanges: list[dict],
    docs: list[str] | None,
    langs: list[str] | None,
    lang: str,
) -> Iterator[tuple]:
    """Ask, streaming. Yields (question box, chatbot, state, sources panel,
    copy text); what did not change is ``gr.skip()``. A bad question or an
    unavailable index becomes the exchange's error message, shown in the chat."""
    question = (question or "").strip()
    if not question:
        yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    exchanges = [*exchanges, new_exchange(question)]
    x = exchanges[-1]
    yield "", messages(exchanges), gr.skip(), gr.skip(), gr.skip()
    try:
        for event in get_assistant().ask_stream(question, history(exchanges[:-1]), filters(docs, langs)):
            if isinstance(event, Delta):
                x["text"] += event.text
            elif isinstance(event, Reset):  # what was streamed is withdrawn; the final text follows
                x["text"] = ""
            elif isinstance(event, Done):
                x["answer"] = event.answer.to_dict()
                x["text"] = x["answer"]["answer"]
                keep_for_rating(get_assistant, x["answer"], history(exchanges[:-1]))
            else:
                continue
            yield gr.skip(), messages(exchanges), gr.skip(), gr.skip(), gr.skip()
    except LSNError as exc:
        x["error"] = error_message(lang, exc)
    yield gr.skip(), messages(exchanges), exchanges, sources_panel(exchanges, lang), copy_text(x["answer"])


def respond_and_keep(
    get_assistant: Callable[[], Assistant],
    question: str,
    exchanges: list[dict],
    docs: list[str] | None,
    langs: list[str] | None,
    lang: str,
    saved: object,
    conversation_id: str | None,
    tz: str | None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Iterator[tuple]:
    """``respond``, its outputs followed by (the browser's saved list, the
    conversation's id, the list's choices): the conversation is saved with
    the answer's last output, in the same update, so that a reload right
    after an answer finds it (saved by a later event, it could be lost)."""
    for out in respond(get_assistant, question, exchanges, docs, langs, lang):
        state = out[2]
        if not isinstance(state, list):
            yield *out, gr.skip(), gr.skip(), gr.skip()
            continue
        kept, conversation_id = conversations.save(saved, conversation_id, state, now())
        listed = gr.update(choices=conversations.choices(kept, lang, tz), value=conversation_id)
        yield *out, kept, conversation_id, listed


def keep_for_rating(get_assistant: Callable[[], Assistant], answer: dict, turns: list[dict]) -> None:
    """An answer shown in the chat is kept so that its 👍/👎 can be stored with
    it; a failing feedback store must not cost the answer."""
    try:
        get_assistant().record_answer(answer, turns)
    except Exception:  # noqa: BLE001 - logged; the chat goes on
        log.exception("could not keep the answer for feedback")


def rate(get_assistant: Callable[[], Assistant], exchanges: list[dict], index: object, liked: object, comment: str,
         lang: str) -> tuple[str, str]:
    """A 👍/👎 on the chatbot's message ``index``: stored with its answer.
    Returns (status message, comment box); a rating of no answer is ignored."""
    position = index[0] if isinstance(index, (list, tuple)) else index
    if not isinstance(position, int) or position % 2 != 1 or not isinstance(liked, bool):
        return "", comment  # the user's own message, or a rating taken back
    turn = position // 2
    answer = exchanges[turn]["answer"] if 0 <= turn < len(exchanges) else None
    if not answer or not answer.get("answer_id"):
        return "", comment
    rating = "up" if liked else "down"
    try:
        get_assistant().rate(answer["answer_id"], rating, comment)
    except LSNError as exc:
        return text(lang, "feedback_failed", error=error_message(lang, exc)), comment
    return text(lang, f"feedback_thanks_{rating}"), ""


def clear(lang: str) -> tuple:
    """A new conversation: (chatbot, state, sources panel, copy text)."""
    return [], [], sources_panel([], lang), ""


def reopen(saved: object, conversation_id: str | None, lang: str) -> tuple:
    """A conversation the browser kept, shown as it was left: (chatbot,
    state, sources panel, copy text, its id); one no longer there (deleted
    in another tab) starts a new conversation."""
    found = conversations.find(saved, conversation_id)
    if found is None:
        return *clear(lang), None
    exchanges = conversations.exchanges_of(found)
    answered = [x["answer"] for x in exchanges if x["answer"]]
    return messages(exchanges), exchanges, sources_panel(exchanges, lang), copy_text(answered[-1] if answered else None), found["id"]
