"""`lsn eval`: run test sets through the public Assistant API and score them."""

from __future__ import annotations

import time
from pathlib import Path

from lsn_assistant import Assistant

from .retrieval import evaluate_retrieval, format_table
from .testset import load_testset


def run_eval(testsets: list[Path], k: int = 10, assistant: Assistant | None = None) -> tuple[dict, str]:
    questions = []
    for path in testsets:
        questions.extend(load_testset(path))
    assistant = assistant or Assistant.open()
    index_chunks = [c.to_dict() for c in assistant.retriever.chunks]

    def search(question, k):
        return [r.to_dict() for r in assistant.search(question.question, k=k)]

    start = time.perf_counter()
    result = evaluate_retrieval(questions, search, index_chunks, k=k)
    result["seconds"] = round(time.perf_counter() - start, 2)
    result["testsets"] = [str(p) for p in testsets]
    return result, format_table(result)
