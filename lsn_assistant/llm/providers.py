"""LLM providers, registered by name in ``PROVIDERS``: each builds a
``GroundedLLM`` from the settings. ``Settings.llm_provider`` accepts exactly
these names and "none" (a test holds the two lists equal); another provider
is one more entry here."""

from __future__ import annotations

from typing import Any, Callable

from lsn_assistant.config import get_settings

from .client import GroundedLLM

OLLAMA_NUM_CTX = 8192  # passages (~8 x 280 words) + rules + answer


def _ollama(settings: Any, provider: str) -> GroundedLLM:
    # Deferred: llama-index's clients cost seconds to import, and only a configured LLM needs one.
    from llama_index.llms.ollama import Ollama

    url, model, timeout = settings.llm_url, settings.llm_model_name, float(settings.llm_timeout_s)
    kwargs: dict[str, Any] = {}
    if settings.llm_max_tokens:
        kwargs["additional_kwargs"] = {"num_predict": settings.llm_max_tokens}
    llm = Ollama(
        model=model,
        base_url=url,
        request_timeout=timeout,
        temperature=settings.llm_temperature,
        context_window=OLLAMA_NUM_CTX,  # else every request asks /api/show first
        **kwargs,
    )
    return GroundedLLM(llm, provider, model, url, timeout)


def _openai_like(settings: Any, provider: str) -> GroundedLLM:
    """Any OpenAI-compatible server; llama.cpp's own server is one that wants
    the system rules folded into the first user message."""
    # Deferred: as above.
    from llama_index.llms.openai_like import OpenAILike

    url, model, timeout = settings.llm_url, settings.llm_model_name, float(settings.llm_timeout_s)
    key = settings.llm_api_key or "not-needed"  # local servers ignore it; the client insists on one
    llm = OpenAILike(
        model=model,
        api_base=url,
        api_key=key,
        is_chat_model=True,
        is_function_calling_model=False,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        timeout=timeout,
        max_retries=0,  # fail fast: the caller falls back to the extractive answer
        reuse_client=True,
    )
    return GroundedLLM(
        llm, provider, model, url, timeout, api_key=settings.llm_api_key, fold_system=provider == "llamacpp"
    )


PROVIDERS: dict[str, Callable[[Any, str], GroundedLLM]] = {
    "ollama": _ollama,
    "openai": _openai_like,
    "llamacpp": _openai_like,
}


def get_llm(settings: Any = None) -> GroundedLLM | None:
    """The configured LLM, or None when ``llm_provider`` is "none".

    Nothing is contacted here; the first request (or ``ping()``) finds out
    whether the server is there."""
    if settings is None:
        settings = get_settings()
    if settings.llm_provider == "none":
        return None
    return PROVIDERS[settings.llm_provider](settings, settings.llm_provider)
