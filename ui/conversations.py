"""The conversations a browser keeps, to reopen, continue or delete after a
reload. They live in the browser (``gr.BrowserState``: its localStorage);
the server stores none of them.

The stored value is a list, newest first, of::

    {"id": str, "title": str (the first question, shortened),
     "created": str, "updated": str (ISO 8601, UTC),
     "exchanges": [{"question": str, "answer": dict | None, "error": str | None}]}

An exchange is the chat's (``ui/chat.py``) without its streaming text, and
its answer keeps what the chat, the sources panel and a follow-up use (the
answer, its citations with their passages, the related passages of an
abstention, the answer id a rating names), not its timings and evidence.

The list is bounded: ``MAX_CONVERSATIONS``, and ``MAX_CHARS`` of JSON, the
oldest going first: a site's localStorage holds about 5 MB, and the list
travels to the server with each event that reads it. What the browser sends
back is checked (``saved_list``): a conversation that is not of this shape
(an older format, an edited storage) is left out, never an error.

Pure functions of their arguments; ``ui.app`` wires them to the events.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from .render import RELATED_CHARS, shorten

STORAGE_KEY = "lsn-conversations"  # the browser's localStorage key
MAX_CONVERSATIONS = 20
MAX_CHARS = 1_000_000  # of the list as JSON
TITLE_CHARS = 80
_ID = re.compile(r"[0-9a-f]{8,32}")
_TIME_FORMAT = {"de": "%d.%m.%Y %H:%M", "en": "%Y-%m-%d %H:%M"}

_ANSWER_TEXTS = ("answer_id", "language", "mode", "notice")
_CITATION_TEXTS = ("title", "section", "quote", "text", "lang")
_RELATED_TEXTS = ("chunk_id", "doc", "title", "section", "lang", "text")


# ---------------------------------------------------------------- what is kept


def compact_answer(answer: dict) -> dict:
    """An answer dict (``Answer.to_dict()``) with what a reopened
    conversation shows and continues from."""
    kept = {key: answer.get(key) for key in _ANSWER_TEXTS if isinstance(answer.get(key), str)}
    kept["answer"] = str(answer.get("answer") or "")
    kept["abstained"] = bool(answer.get("abstained"))
    kept["citations"] = [
        {"n": c["n"], "chunk_id": c["chunk_id"], "doc": c["doc"], "page": c.get("page"),
         **{key: str(c.get(key) or "") for key in _CITATION_TEXTS}}
        for c in answer.get("citations") or []
    ]
    kept["related"] = [
        {"page": r.get("page"), **{key: str(r.get(key) or "") for key in _RELATED_TEXTS},
         "text": shorten(str(r.get("text") or ""), RELATED_CHARS)}
        for r in answer.get("related") or []
    ]
    return kept


def compact(exchanges: list[dict]) -> list[dict]:
    return [
        {"question": x["question"], "answer": compact_answer(x["answer"]) if x.get("answer") else None,
         "error": x.get("error")}
        for x in exchanges
    ]


# ---------------------------------------------------------------- what comes back from the browser


def _is_page(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _citation(c: object) -> dict | None:
    if not isinstance(c, dict) or not isinstance(c.get("n"), int) or isinstance(c.get("n"), bool):
        return None
    if not isinstance(c.get("chunk_id"), str) or not isinstance(c.get("doc"), str) or not _is_page(c.get("page")):
        return None
    if not all(isinstance(c.get(key, ""), str) for key in _CITATION_TEXTS):
        return None
    return {"n": c["n"], "chunk_id": c["chunk_id"], "doc": c["doc"], "page": c.get("page"),
            **{key: c.get(key, "") for key in _CITATION_TEXTS}}


def _related(r: object) -> dict | None:
    if not isinstance(r, dict) or not _is_page(r.get("page")):
        return None
    if not all(isinstance(r.get(key, ""), str) for key in _RELATED_TEXTS):
        return None
    return {"page": r.get("page"), **{key: r.get(key, "") for key in _RELATED_TEXTS}}


def _answer(a: object) -> dict | None:
    if not isinstance(a, dict) or not isinstance(a.get("answer"), str) or not isinstance(a.get("abstained"), bool):
        return None
    if not all(isinstance(a.get(key), str) for key in _ANSWER_TEXTS if a.get(key) is not None):
        return None
    if not isinstance(a.get("citations", []), list) or not isinstance(a.get("related", []), list):
        return None
    citations = [_citation(c) for c in a.get("citations", [])]
    related = [_related(r) for r in a.get("related", [])]
    if None in citations or None in related:
        return None
    return {**{key: a[key] for key in _ANSWER_TEXTS if a.get(key) is not None}, "answer": a["answer"],
            "abstained": a["abstained"], "citations": citations, "related": related}


def _exchange(x: object) -> dict | None:
    """A stored exchange in the chat's shape, or None when it is not one."""
    if not isinstance(x, dict) or not isinstance(x.get("question"), str) or not x["question"].strip():
        return None
    error = x.get("error")
    if error is not None and not isinstance(error, str):
        return None
    answer = None
    if x.get("answer") is not None:
        answer = _answer(x["answer"])
        if answer is None:
            return None
    return {"question": x["question"], "text": answer["answer"] if answer else "", "answer": answer, "error": error}


def _conversation(c: object) -> dict | None:
    if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not _ID.fullmatch(c["id"]):
        return None
    if not all(isinstance(c.get(key), str) for key in ("title", "created", "updated")):
        return None
    if not isinstance(c.get("exchanges"), list) or not c["exchanges"]:
        return None
    exchanges = [_exchange(x) for x in c["exchanges"]]
    if None in exchanges:
        return None
    return {"id": c["id"], "title": c["title"], "created": c["created"], "updated": c["updated"],
            "exchanges": compact(exchanges)}


def saved_list(value: object) -> list[dict]:
    """The well-formed conversations of what the browser sent, in order."""
    if not isinstance(value, list):
        return []
    seen, out = set(), []
    for c in value:
        checked = _conversation(c)
        if checked is not None and checked["id"] not in seen:
            seen.add(checked["id"])
            out.append(checked)
    return out[:MAX_CONVERSATIONS]


def find(saved: object, conversation_id: str | None) -> dict | None:
    return next((c for c in saved_list(saved) if c["id"] == conversation_id), None)


def exchanges_of(conversation: dict) -> list[dict]:
    """A saved conversation's exchanges in the chat's shape (``gr.State``)."""
    return [_exchange(x) for x in conversation["exchanges"]]


# ---------------------------------------------------------------- changes


def title_of(exchanges: list[dict]) -> str:
    """The first question that was answered (one refused as too long or
    empty would make a poor title), shortened."""
    first = next((x for x in exchanges if x.get("answer")), exchanges[0])
    return shorten(" ".join(first["question"].split()), TITLE_CHARS)


def _bounded(saved: list[dict]) -> list[dict]:
    """At most MAX_CONVERSATIONS and MAX_CHARS: the oldest conversations go
    first, then the oldest exchanges of the one left."""
    saved = saved[:MAX_CONVERSATIONS]
    while len(saved) > 1 and len(json.dumps(saved, ensure_ascii=False)) > MAX_CHARS:
        saved = saved[:-1]
    if saved and len(json.dumps(saved, ensure_ascii=False)) > MAX_CHARS:
        only = dict(saved[0])
        while len(only["exchanges"]) > 1 and len(json.dumps([only], ensure_ascii=False)) > MAX_CHARS:
            only["exchanges"] = only["exchanges"][1:]
        saved = [only]
    return saved


def save(saved: object, conversation_id: str | None, exchanges: list[dict], now: datetime) -> tuple[list[dict], str | None]:
    """The list with this conversation saved at its top (a new one gets an
    id) and its id; a conversation with no answer yet is not saved."""
    saved = saved_list(saved)
    if not any(x.get("answer") for x in exchanges):
        return saved, conversation_id
    stamp = now.astimezone(UTC).isoformat(timespec="seconds")
    old = next((c for c in saved if c["id"] == conversation_id), None)
    conversation = {
        "id": old["id"] if old else uuid.uuid4().hex[:16],
        "title": title_of(exchanges),
        "created": old["created"] if old else stamp,
        "updated": stamp,
        "exchanges": compact(exchanges),
    }
    rest = [c for c in saved if c["id"] != conversation["id"]]
    return _bounded([conversation, *rest]), conversation["id"]


def delete(saved: object, conversation_id: str | None) -> list[dict]:
    return [c for c in saved_list(saved) if c["id"] != conversation_id]


# ---------------------------------------------------------------- the list as the user sees it


def zone(name: str | None) -> ZoneInfo:
    """The browser's time zone (an IANA name it reports), UTC when unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except Exception:  # noqa: BLE001 - anything a browser sends: not a zone we know
        return ZoneInfo("UTC")


def when(stamp: str, lang: str, tz: str | None) -> str:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(tz)).strftime(_TIME_FORMAT.get(lang, _TIME_FORMAT["en"]))


def choices(saved: object, lang: str, tz: str | None) -> list[tuple[str, str]]:
    """(label, id) per saved conversation, newest first: its first question
    and when it was last continued, in the browser's time zone."""
    return [(f"{c['title']} · {when(c['updated'], lang, tz)}", c["id"]) for c in saved_list(saved)]
