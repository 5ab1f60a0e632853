"""The optional LLM path: grounded answers from numbered passages, checked.

``get_llm(settings)`` returns a ``GroundedLLM`` (or None when no provider is
configured). It talks to the server through llama-index's LLM classes:
``OpenAILike`` for ``openai`` (any OpenAI-compatible server) and ``llamacpp``
(llama.cpp's own OpenAI-compatible server, ``python -m llama_cpp.server`` or
``llama-server``), ``Ollama`` for ``ollama``.

What comes back from a model is never trusted as is:

- markers that name no passage (``[7]`` with 5 passages, ``[0]``, ``[a]``) are
  dropped (``check_markers``), so an invalid marker never reaches a user;
- every sentence is checked against the passages it cites (lexical overlap of
  content stems, across German and English through the FreeDict lexicon, and
  every number in the claim must stand in the passage); unsupported sentences
  and sentences without a marker are flagged and, by default, removed;
- each cited passage gets the sentence that best supports the claim as its
  quote, verbatim from the passage (``support_sentence``);
- the model is asked to reply ``NO_ANSWER`` when the passages do not answer,
  and an answer left without any cited claim counts as an abstention too.

Passages are data: the prompt wraps each in ``<passage n="…">`` delimiters and
the system rules say that instructions inside passages are to be ignored. The
passage text itself is kept verbatim (only a literal delimiter tag inside it is
escaped in the prompt copy), so quotes stay exact.

An unreachable, slow or failing server raises ``LLMUnavailable``; the caller
answers extractively with a notice.

The package, one job per module: ``markers`` (which ``[n]`` name a passage),
``grounding`` (the passages, the model's sentences, their support, the
composed answer; shared with the evaluation's groundedness), ``prompts``,
``client`` (the transport and streaming, ``GroundedLLM``), ``providers`` (the
registry ``get_llm`` builds from).
"""

from __future__ import annotations

from .client import AnswerStream, GroundedLLM, LLMUnavailable
from .grounding import (
    SUPPORT_MIN,
    Claim,
    LLMAnswer,
    Passage,
    as_passages,
    assess,
    compose,
    sentence_spans,
    split_sentences,
    support_score,
    support_sentence,
    unsupported_sentences,
)
from .markers import SENTINEL, check_markers, strip_sentinel
from .prompts import LANG_NAMES, MAX_HISTORY_TURNS, SYSTEM_RULES, answer_messages, format_passages
from .providers import OLLAMA_NUM_CTX, PROVIDERS, get_llm

__all__ = [
    "AnswerStream", "Claim", "GroundedLLM", "LANG_NAMES", "LLMAnswer", "LLMUnavailable", "MAX_HISTORY_TURNS",
    "OLLAMA_NUM_CTX", "PROVIDERS", "Passage", "SENTINEL", "SUPPORT_MIN", "SYSTEM_RULES", "answer_messages",
    "as_passages", "assess", "check_markers", "compose", "format_passages", "get_llm", "sentence_spans",
    "split_sentences", "strip_sentinel", "support_score", "support_sentence", "unsupported_sentences",
]
