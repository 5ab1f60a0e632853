"""Compatibility module: the extractive answerer lives in ``lsn_assistant.answering``
(units -> features -> fitted scorer -> selection -> wording)."""

from __future__ import annotations

from .answering import LABELS, Answerer, Query, SentenceVectors, display, is_list_question, labels
from .answering.question import answer_types, counted_words, is_contact_line, question_parts, typed_match

__all__ = [
    "Answerer", "Query", "SentenceVectors", "LABELS", "labels", "display", "is_list_question",
    "answer_types", "counted_words", "is_contact_line", "question_parts", "typed_match",
]
