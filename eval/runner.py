"""`lsn eval`: run test sets through the public Assistant API and score them:
retrieval (``eval.retrieval``) and, unless turned off, answers (``eval.answers``)."""

from __future__ import annotations

import time
from pathlib import Path

from lsn_assistant import Assistant

from .answers import evaluate_answers
from .answers import format_table as format_answer_table
from .retrieval import evaluate_retrieval, format_table
from .testset import load_testset


def run_eval(
    testsets: list[Path], k: int = 10, assistant: Assistant | None = None, answers: bool = True
) -> tuple[dict, str]:
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
    table = format_table(result)
    if answers:
        start = time.perf_counter()
        result["answers"] = evaluate_answers(
            questions, lambda q: assistant.ask(q.question).to_dict(), assistant.settings.corpus_dir
        )
        result["answers"]["seconds"] = round(time.perf_counter() - start, 2)
        table += "\n\n" + format_answer_table(result["answers"])
    return result, table
