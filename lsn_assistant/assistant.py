"""The public face of the library: ``Assistant.open()`` then ``.search()``,
``.ask()`` and ``.ask_stream()``.

API, UI, CLI and eval all go through this one object.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Iterator
from importlib import metadata

from .answer import Answerer, ground_markers, labels
from .config import Settings, get_settings
from .conversation import Resolved, Turn, parse_history, resolve
from .errors import BadQuery, IndexEmpty
from .retrieve import MAX_QUERY_CHARS, Retriever
from .store import ChunkStore
from .types import Answer, ScoredChunk

MAX_ASK_K = 20

FILTER_KEYS = ("doc", "lang", "year")


def normalize_filters(filters: dict | None) -> dict | None:
    """Accept {"doc": "x"} or {"doc": ["x"]}; reject unknown keys clearly."""
    if not filters:
        return None
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise BadQuery(f"unknown filter(s) {sorted(unknown)}; use {', '.join(FILTER_KEYS)}")
    out = {}
    for key in FILTER_KEYS:
        value = filters.get(key)
        if value in (None, "", []):
            continue
        values = value if isinstance(value, (list, tuple, set)) else [value]
        if key == "year":
            try:
                values = [int(v) for v in values]
            except (TypeError, ValueError):
                raise BadQuery("year filter values must be whole numbers") from None
        else:
            values = [str(v) for v in values]
        out[key] = values
    return out or None


class Assistant:
    def __init__(self, settings: Settings, store: ChunkStore):
        self.settings = settings
        self.store = store
        self.retriever = Retriever(store, settings)
        self.answerer = Answerer(self.retriever, settings)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings | None = None) -> "Assistant":
        settings = settings or get_settings()
        return cls(settings, ChunkStore(settings))

    def warm_up(self) -> None:
        """Load what the first query would otherwise wait for: the embedding
        models, the lexicon and simplemma's dictionaries (seconds, once)."""
        if self.retriever.size:
            self.retriever.candidate_lists("Wie viele Mitglieder hat das Netzwerk?", 1)
            self.retriever.candidate_lists("How many members does the network have?", 1)

    def refresh(self) -> None:
        """Pick up what an ingest changed."""
        self.retriever.reload()

    def search(self, query: str, k: int = 10, filters: dict | None = None) -> list[ScoredChunk]:
        return self.retriever.search(query, k=k, filters=normalize_filters(filters))

    # ---- answers

    def _check(self, question: object, history: object, filters: dict | None, k: int | None):
        if not isinstance(question, str) or not question.strip():
            raise BadQuery("the question is empty")
        question = question.strip()
        if len(question) > MAX_QUERY_CHARS:
            raise BadQuery(f"the question is too long ({len(question)} characters; at most {MAX_QUERY_CHARS})")
        k = self.answerer.params.passages if k is None else k
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_ASK_K:
            raise BadQuery(f"k must be between 1 and {MAX_ASK_K}")
        turns = parse_history(history)
        flt = normalize_filters(filters)
        if not self.retriever.size:
            raise IndexEmpty("the index is empty: run `lsn ingest` first")
        return question, turns, flt, k

    @staticmethod
    def _known_word(word: str, lang: str) -> bool:
        """Whether the lexicon knows a word (then it is no name), for follow-ups."""
        from .translate import Lexicon

        lex = Lexicon.default()
        if lex._word_translations(word, lang, 1):
            return True
        return lang == "de" and lex.split_compound(word.lower()) is not None

    def resolve(self, question: str, turns: list[Turn]) -> Resolved:
        """The standalone form of a question in a conversation (conversation.py)."""
        r = self.retriever

        def mentioned(q: str) -> set[str]:
            return r.mentioned_docs(r.plan(q)) if r.size else set()

        doc_terms = {t for terms in r.title_terms.values() for t in terms}
        return resolve(question, turns, mentioned, self._known_word, doc_terms)

    def _llm(self):
        """The configured LLM answerer, or (None, notice). The hook for
        ``lsn_assistant.llm``: ``get_llm(settings)`` returns None when no LLM is
        configured, else an object with ``answer(question, passages, lang, history) -> str``."""
        try:
            from . import llm as llm_module
        except ImportError:
            return None, None
        try:
            return llm_module.get_llm(self.settings), None
        except Exception as exc:  # noqa: BLE001 - a broken LLM set-up must not stop answers
            return None, f"{type(exc).__name__}: {exc}"

    def _llm_answer(self, llm, resolved: Resolved, turns: list[Turn], filters: dict | None, k: int) -> Answer:
        t0 = time.perf_counter()
        lang = resolved.language
        hits = self.retriever.search(resolved.standalone, k=k, filters=filters)
        t1 = time.perf_counter()
        history = [{"role": t.role, "content": t.content} for t in turns]
        result = llm.answer(resolved.question, hits, lang, history) if hits else None
        # str(result) is the text with [n] markers; ``quotes`` (n -> sentence of
        # passage n) and ``abstained`` are used where the LLM layer gives them
        text, citations = ground_markers(str(result or ""), hits, lang, getattr(result, "quotes", None) or {})
        timings = {"retrieve": (t1 - t0) * 1000, "llm": (time.perf_counter() - t1) * 1000}
        timings["total"] = (time.perf_counter() - t0) * 1000
        if getattr(result, "abstained", False) or not citations:  # nothing grounded: the passages did not answer
            return Answer(labels(lang)["abstain"], lang, True, (), "llm", None, tuple(h.to_dict() for h in hits[:3]),
                          timings, resolved.question, resolved.standalone)
        return Answer(text, lang, False, tuple(citations), "llm", None, (), timings, resolved.question, resolved.standalone)

    def _extractive(self, resolved: Resolved, filters: dict | None, k: int) -> Answer:
        a = self.answerer
        answer = None
        if resolved.carried_docs and not (filters and filters.get("doc")):
            narrowed = {**(filters or {}), "doc": list(resolved.carried_docs)}
            answer = a.answer(resolved.intent, resolved.standalone, resolved.language, narrowed, k)
        if answer is None or answer.abstained:
            answer = a.answer(resolved.intent, resolved.standalone, resolved.language, filters, k)
        return dataclasses.replace(answer, question=resolved.question)

    def ask(self, question: str, history: list[dict] | None = None, filters: dict | None = None, k: int | None = None) -> Answer:
        """A grounded answer with ``[n]`` citations, or an abstention.

        ``history``: earlier turns, ``[{"role": "user"|"assistant", "content": str}]``
        (an assistant turn may carry the ``citations`` it was given); a
        follow-up question carries over the previous turn's topic. ``k``: the
        passages the answer may draw from (1-20). Extractive unless an LLM is
        configured (``lsn_assistant.llm``); a failing LLM falls back to the
        extractive answer with a notice.
        """
        t0 = time.perf_counter()
        question, turns, flt, k = self._check(question, history, filters, k)
        return self._ask(question, turns, flt, k, t0)

    def _ask(self, question: str, turns: list[Turn], flt: dict | None, k: int, t0: float) -> Answer:
        resolved = self.resolve(question, turns)
        llm, problem = self._llm()
        answer = None
        if llm is not None:
            try:
                answer = self._llm_answer(llm, resolved, turns, flt, k)
            except Exception as exc:  # noqa: BLE001 - unreachable, slow or failing: answer extractively
                problem = f"{type(exc).__name__}: {exc}"
        if answer is None:
            answer = self._extractive(resolved, flt, k)
        notice = labels(resolved.language)["llm_failed"].format(reason=problem) if problem else answer.notice
        timings = dict(answer.timings_ms)
        timings["total"] = (time.perf_counter() - t0) * 1000
        return dataclasses.replace(answer, notice=notice, timings_ms=timings)

    def ask_stream(
        self, question: str, history: list[dict] | None = None, filters: dict | None = None, k: int | None = None
    ) -> Iterator[dict]:
        """``ask`` as events: ``{"type": "delta", "text"}`` pieces of the answer
        text as it forms, then ``{"type": "citations", "citations": [...]}``, then
        ``{"type": "done", "answer": {...}}`` (the whole ``Answer.to_dict()``).
        Bad input raises here, before the first event."""
        t0 = time.perf_counter()
        question, turns, flt, k = self._check(question, history, filters, k)
        return self._stream(question, turns, flt, k, t0)

    def _stream(self, question, turns, flt, k, t0) -> Iterator[dict]:
        answer = self._ask(question, turns, flt, k, t0)
        for piece in stream_pieces(answer.text):
            yield {"type": "delta", "text": piece}
        yield {"type": "citations", "citations": [c.to_dict() for c in answer.citations]}
        yield {"type": "done", "answer": answer.to_dict()}

    def prepare_answers(self) -> int:
        """Embed the sentences of the whole index for answers now (cached under
        ``data_dir/cache``) instead of on the first question that meets them."""
        return self.answerer.prepare()

    def documents(self) -> list[dict]:
        docs: dict[str, dict] = {}
        for c in self.retriever.chunks:
            d = docs.setdefault(c.doc, {"doc": c.doc, "title": c.title, "year": c.year, "langs": set(), "chunks": 0})
            d["chunks"] += 1
            if c.lang:
                d["langs"].add(c.lang)
        return [{**d, "langs": sorted(d["langs"])} for d in docs.values()]

    def health(self) -> dict:
        return {
            "status": "ok",
            "index_size": self.store.count(),  # asks the store: a lost server shows here
            "store": "server" if self.settings.chroma_url else "embedded",
            "embedders": self.store.embedders,
            "version": metadata.version("lsn-assistant"),
        }


def stream_pieces(text: str) -> list[str]:
    """The answer text in the pieces it is made of (sentences with their
    markers, lines); joined they are the text again."""
    return [p for p in re.split(r"(?<=\])(?=\s)|(?<=\n)", text) if p]
