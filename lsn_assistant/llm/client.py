"""The transport: a llama-index LLM wrapped so that every answer is grounded
and checked, streamed sentence by sentence, and every failure is LLMUnavailable."""

from __future__ import annotations

import time
from typing import Any, Iterator, Sequence

from lsn_assistant.errors import LSNError

from .grounding import LLMAnswer, Passage, _Composer, as_passages, compose
from .prompts import CONDENSE_SYSTEM, LANG_NAMES, TRANSLATE_SYSTEM, _one_line, _turns, answer_messages





class LLMUnavailable(LSNError):
    """The LLM server cannot be reached, timed out or failed; answer extractively."""


# --------------------------------------------------------------------------- the client


def _describe(exc: BaseException, timeout_s: float) -> str:
    """What went wrong, in words, from the exception of openai/ollama/httpx."""
    name = type(exc).__name__
    try:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            return f"no answer within {timeout_s:g} s (timeout)"
        if isinstance(exc, openai.APIStatusError):
            body = str(getattr(exc, "message", "") or exc)[:200]
            return f"HTTP {exc.status_code}: {body}"
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            return f"cannot connect ({type(cause).__name__ if cause else name}: {cause or exc})"
    except ImportError:  # pragma: no cover
        pass
    try:
        import ollama

        if isinstance(exc, ollama.ResponseError):
            return f"HTTP {exc.status_code}: {str(exc.error)[:200]}"
    except ImportError:  # pragma: no cover
        pass
    import httpx

    if isinstance(exc, httpx.TimeoutException) or isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s (timeout)"
    if isinstance(exc, (httpx.ConnectError, ConnectionError)):
        return f"cannot connect ({exc})"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return f"{name}: {str(exc)[:200]}"


class GroundedLLM:
    """A configured LLM with the grounded-answer protocol around it."""

    def __init__(
        self,
        llm: Any,
        provider: str,
        model: str,
        base_url: str,
        timeout_s: float,
        api_key: str | None = None,
        fold_system: bool = False,
    ):
        self.llm = llm
        # llama.cpp chat templates without a system role (llama-cpp-python's
        # "gemma" format drops it): the rules then open the user turn instead.
        self.fold_system = fold_system
        self.provider = provider
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.api_key = api_key

    def __repr__(self) -> str:
        return f"GroundedLLM({self.provider}, {self.model!r} at {self.base_url})"

    @property
    def label(self) -> str:
        return f"{self.provider} model {self.model!r} at {self.base_url}"

    def _fail(self, exc: BaseException) -> LLMUnavailable:
        return LLMUnavailable(f"LLM unavailable: {self.label}: {_describe(exc, self.timeout_s)}")

    def _messages(self, pairs: list[tuple[str, str]]):
        from llama_index.core.llms import ChatMessage

        if self.fold_system and pairs and pairs[0][0] == "system" and len(pairs) > 1:
            (_, system), (role, first), *rest = pairs
            pairs = [(role, f"{system}\n\n{first}"), *rest]
        return [ChatMessage(role=role, content=content) for role, content in pairs]

    def chat(self, pairs: list[tuple[str, str]]) -> str:
        """One request, the reply's text; any failure is LLMUnavailable."""
        try:
            resp = self.llm.chat(self._messages(pairs))
        except LLMUnavailable:
            raise
        except Exception as exc:
            raise self._fail(exc) from exc
        return resp.message.content or ""

    def stream(self, pairs: list[tuple[str, str]]) -> Iterator[str]:
        """The reply's text deltas; any failure (also mid-stream) is LLMUnavailable."""
        try:
            gen = self.llm.stream_chat(self._messages(pairs))
            for resp in gen:
                if resp.delta:
                    yield resp.delta
        except LLMUnavailable:
            raise
        except Exception as exc:
            raise self._fail(exc) from exc

    # ---- grounded answers

    def answer(
        self,
        question: str,
        passages: Sequence[Any],
        lang: str,
        history: Sequence[Any] | None = None,
        drop_unsupported: bool = True,
    ) -> LLMAnswer:
        """A checked answer from the numbered passages (``str()`` of it is the text)."""
        ps = as_passages(passages)
        if not ps:
            return LLMAnswer(text="", abstained=True)
        t0 = time.perf_counter()
        raw = self.chat(answer_messages(question, ps, lang, history))
        t1 = time.perf_counter()
        result = compose(raw, ps, lang, drop_unsupported)
        result.timings_ms = {"llm": round((t1 - t0) * 1000, 1), "check": round((time.perf_counter() - t1) * 1000, 1)}
        return result

    def answer_stream(
        self,
        question: str,
        passages: Sequence[Any],
        lang: str,
        history: Sequence[Any] | None = None,
        drop_unsupported: bool = True,
    ) -> "AnswerStream":
        """Iterate for checked text pieces as they form (sentence by sentence);
        ``.result`` holds the LLMAnswer once the iteration ended. Raises
        LLMUnavailable during iteration when the server fails."""
        return AnswerStream(self, question, as_passages(passages), lang, history, drop_unsupported)

    # ---- helpers for retrieval and conversation

    def condense(self, question: str, history: Sequence[Any] | None) -> str:
        """A follow-up question rewritten as a standalone one (the question
        itself when there is no history)."""
        turns = _turns(history)
        if not turns:
            return question
        convo = "\n".join(f"{who}: {text}" for who, text in turns)
        user = f"Conversation:\n{convo}\n\nFollow-up question: {question.strip()}\n\nStandalone question:"
        return _one_line(self.chat([("system", CONDENSE_SYSTEM), ("user", user)]), question)

    def translate(self, question: str, target_lang: str) -> str:
        """The question in ``target_lang`` ("de"/"en"), for cross-lingual retrieval."""
        language = LANG_NAMES.get(target_lang, target_lang)
        system = TRANSLATE_SYSTEM.format(language=language)
        return _one_line(self.chat([("system", system), ("user", question.strip())]), question)

    def ping(self, timeout_s: float = 2.0) -> dict:
        """Is the server there? Never raises; for /health.

        ``{"provider", "model", "url", "reachable", "detail", "latency_ms"}``."""
        import httpx

        if self.provider == "ollama":
            url = f"{self.base_url}/api/tags"
        else:
            url = f"{self.base_url}/models"
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        t0 = time.perf_counter()
        out = {"provider": self.provider, "model": self.model, "url": self.base_url}
        try:
            r = httpx.get(url, headers=headers, timeout=min(timeout_s, self.timeout_s))
            ok = r.status_code < 400
            detail = "ok" if ok else f"HTTP {r.status_code}"
        except Exception as exc:
            ok, detail = False, _describe(exc, min(timeout_s, self.timeout_s))
        out.update(reachable=ok, detail=detail, latency_ms=round((time.perf_counter() - t0) * 1000, 1))
        return out


class AnswerStream:
    """Iterator of checked answer pieces; ``result`` after exhaustion."""

    def __init__(self, llm: GroundedLLM, question: str, passages: list[Passage], lang: str, history, drop: bool):
        self._llm = llm
        self._question = question
        self._passages = passages
        self._lang = lang
        self._history = history
        self._drop = drop
        self.result: LLMAnswer | None = None

    def __iter__(self) -> Iterator[str]:
        if not self._passages:
            self.result = LLMAnswer(text="", abstained=True)
            return
        t0 = time.perf_counter()
        comp = _Composer(self._passages, self._lang, self._drop)
        first = None
        for delta in self._llm.stream(answer_messages(self._question, self._passages, self._lang, self._history)):
            if first is None:
                first = time.perf_counter()
            piece = comp.feed(delta)
            if piece:
                yield piece
        piece = comp.finish()
        if piece:
            yield piece
        self.result = comp.result()
        self.result.timings_ms = {
            "llm_first_token": round(((first or time.perf_counter()) - t0) * 1000, 1),
            "llm": round((time.perf_counter() - t0) * 1000, 1),
        }
