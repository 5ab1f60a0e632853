"""The chat's logic. A conversation is the list of its exchanges, kept per
user in ``gr.State``::

    {"question": str, "text": str (the answer so far), "answer": dict | None
     (Answer.to_dict() once done), "error": str | None}

The Chatbot's messages, the history the assistant continues from and the
sources panel are all made from that list, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import gradio as gr

from lsn_assistant.assistant import Assistant
from lsn_assistant.errors import LSNError

from .render import answer_markdown, copy_text, escape_markdown, sources_panel

PENDING = "…"


def new_exchange(question: str) -> dict:
    return {"question": question, "text": "", "answer": None, "error": None}


def history(exchanges: list[dict]) -> list[dict]:
    """The turns of the answered exchanges, for ``Assistant.ask_stream``; the
    assistant turns carry their citations (a follow-up keeps their documents)."""
    turns = []
    for x in exchanges:
        if x["answer"] is not None:
            turns.append({"role": "user", "content": x["question"]})
            turns.append({"role": "assistant", "content": x["answer"]["answer"], "citations": x["answer"]["citations"]})
    return turns


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
            if event["type"] == "delta":
                x["text"] += event["text"]
            elif event["type"] == "reset":  # what was streamed is withdrawn; the final text follows
                x["text"] = ""
            elif event["type"] == "done":
                x["answer"] = event["answer"]
                x["text"] = event["answer"]["answer"]
            else:
                continue
            yield gr.skip(), messages(exchanges), gr.skip(), gr.skip(), gr.skip()
    except LSNError as exc:
        x["error"] = str(exc)
    yield gr.skip(), messages(exchanges), exchanges, sources_panel(exchanges, lang), copy_text(x["answer"])


def clear(lang: str) -> tuple:
    """A new conversation: (chatbot, state, sources panel, copy text)."""
    return [], [], sources_panel([], lang), ""
