"""LLM-judged answer measures, kept apart from the offline ones.

With an LLM configured (``LSN_LLM_PROVIDER``), ``lsn eval`` has it grade each
answer on two measures, stored under ``judge_*`` keys and reported in a table
of their own:

* ``judge_correctness``: does the answer agree with the reference answer (for
  an unanswerable question: does it say the documents do not answer)?
* ``judge_faithfulness``: is everything the answer states supported by the
  passages it cites? Answers only: an abstention states nothing.

One request per measure. The reply must hold ``SCORE: x`` (x in [0, 1]) and
``REASON: ...``; a failing request or an unreadable reply is the question's
judge error and scores 0. The judge's model and prompts go into the manifest.
"""

from __future__ import annotations

import re
from typing import Any

from lsn_assistant.errors import LSNError
from lsn_assistant.llm import get_llm

SYSTEM = (
    "You grade the answers of a document question-answering assistant, strictly and impartially. "
    "Judge only what you are asked, from the texts given; do not use outside knowledge."
)
REPLY_FORMAT = "Reply with exactly two lines:\nSCORE: <0, 0.5 or 1>\nREASON: <one sentence>"
CORRECTNESS = (
    "Question: {question}\n\nReference answer: {reference}\n\nAnswer to grade:\n{answer}\n\n"
    "Does the answer to grade agree with the reference answer? 1 = it states what the reference states "
    "(other wording, another language or extra correct detail are fine), 0.5 = partly, 0 = it misses or "
    "contradicts it. If the reference says the documents do not answer the question, 1 means the answer "
    "says so too.\n\n" + REPLY_FORMAT
)
FAITHFULNESS = (
    "Passages:\n{passages}\n\nAnswer to grade:\n{answer}\n\n"
    "Is every statement of the answer supported by the passages? 1 = every statement, 0.5 = most, "
    "0 = some statement is unsupported or contradicted.\n\n" + REPLY_FORMAT
)
_SCORE = re.compile(r"SCORE:\s*\**\s*([0-9]*\.?[0-9]+)", re.IGNORECASE)
_REASON = re.compile(r"REASON:\s*(.+)", re.IGNORECASE)


class JudgeError(LSNError):
    """The judge's reply holds no score in [0, 1]."""


def parse_verdict(reply: str) -> dict[str, Any]:
    """``{"score", "reason"}`` from a reply of the REPLY_FORMAT."""
    m = _SCORE.search(reply or "")
    score = float(m.group(1)) if m else None
    if score is None or not 0 <= score <= 1:
        raise JudgeError(f"no SCORE between 0 and 1 in the judge's reply {(reply or '')[:120]!r}")
    reason = _REASON.search(reply)
    return {"score": score, "reason": reason.group(1).strip() if reason else ""}


def _passages(answer: dict) -> str:
    seen: dict[str, str] = {}
    for c in answer["citations"]:
        seen.setdefault(c["chunk_id"], c["text"] or c["quote"] or "")
    return "\n\n".join(f"[{i}] {text}" for i, text in enumerate(seen.values(), 1)) or "(no passages cited)"


class Judge:
    """Grades run rows with a configured LLM (``lsn_assistant.llm.GroundedLLM``)."""

    def __init__(self, llm: Any):
        self.llm = llm

    def describe(self) -> dict[str, Any]:
        return {
            "provider": self.llm.provider,
            "model": self.llm.model,
            "url": self.llm.base_url,
            "system": SYSTEM,
            "prompts": {"correctness": CORRECTNESS, "faithfulness": FAITHFULNESS},
        }

    def _verdict(self, prompt: str) -> dict[str, Any]:
        return parse_verdict(self.llm.chat([("system", SYSTEM), ("user", prompt)]))

    def grade(self, row: dict) -> None:
        """Set ``row["judge"]`` (measure -> score and reason) and ``row["errors"]["judge"]``.
        A question whose ask failed is not sent (its judge measures fail with it)."""
        row["errors"]["judge"] = None
        row["judge"] = {}
        answer = row["answer"]
        if answer is None or row["errors"].get("ask"):
            return
        try:
            row["judge"]["correctness"] = self._verdict(
                CORRECTNESS.format(question=row["question"], reference=row["reference_answer"], answer=answer["text"])
            )
            if not answer["abstained"]:
                row["judge"]["faithfulness"] = self._verdict(
                    FAITHFULNESS.format(passages=_passages(answer), answer=answer["text"])
                )
        except LSNError as e:  # LLMUnavailable, JudgeError: this question's judge measures fail
            row["errors"]["judge"] = f"{type(e).__name__}: {e}"


def get_judge(settings: Any) -> Judge | None:
    """A judge on the configured LLM, or None when no LLM is configured."""
    llm = get_llm(settings)
    return Judge(llm) if llm is not None else None
