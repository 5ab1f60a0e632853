"""`lsn eval`: run test sets through the public Assistant API and score them.

``run_eval`` searches every question (the top k; unanswerable ones too, for
the drill-down and the exports), scores the rankings of the answerable ones
(``eval.retrieval``), asks every question and scores the answers
(``eval.answers``) and, given a judge, has an LLM grade them (``eval.judge``).
The results become one row per question; ``eval.summary`` aggregates them and
``eval.manifest`` records what was evaluated. A failing search, ask or judge
call is kept in the row's ``errors`` and scores as a miss.

A row: the question's fields and ``testset``; ``errors`` (step -> message or
None); ``measures`` (``eval.summary``); ``first_gold_rank`` and
``passage_ranks`` (rank of the first chunk holding each evidence passage);
``gold_chunks`` (the qrels); ``retrieved`` (ranked chunks with ``gold``,
``duplicate`` and ``cited`` flags and their text); ``search_ms``; ``answer``
(text, abstained, language, mode, ms, citations with a ``gold`` flag, key
facts found, citation problems) and, when judged, ``judge``.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from lsn_assistant import Assistant
from lsn_assistant.conversation import parse_history
from lsn_assistant.errors import IndexEmpty

from .answers import evaluate_answers
from .judge import Judge
from .manifest import build_manifest
from .metrics import match_passages
from .retrieval import evaluate_retrieval
from .summary import row_measures, split_summaries, summarize
from .testset import Question, TestsetError, fold, load_testset, split_of

FORMAT = "lsn-eval-run/1"


def load_questions(testsets: Sequence[Path]) -> tuple[list[Question], dict[str, str]]:
    """The questions of all test sets and the test set of each question id.
    Ids must be unique across the test sets of one run (rows, comparisons and
    the exports are keyed by them)."""
    questions: list[Question] = []
    origin: dict[str, str] = {}
    for path in testsets:
        for q in load_testset(path):
            if q.id in origin:
                raise TestsetError(f"question id {q.id!r} is in both {origin[q.id]} and {path}; ids must be unique across the test sets of a run")
            origin[q.id] = str(path)
            questions.append(q)
    return questions, origin


def search_query(assistant: Assistant, question: Question) -> str:
    """What retrieval is scored on: the question, or for a follow-up its
    standalone form as the assistant resolves it from the history (the same
    step ``ask`` takes before it retrieves)."""
    if not question.history:
        return question.question
    return assistant.resolve(question.question, parse_history(list(question.history))).standalone


def _search_all(assistant: Assistant, questions: Sequence[Question], k: int, bar: tqdm) -> dict[str, dict]:
    """Every question's ranked hits (dicts) and search time, or its error."""
    out: dict[str, dict] = {}
    for q in questions:
        t = time.perf_counter()
        try:
            query = search_query(assistant, q)
            out[q.id] = {"hits": [r.to_dict() for r in assistant.search(query, k=k)], "error": None}
        except Exception as e:  # noqa: BLE001 - one failing question must not stop the run
            out[q.id] = {"hits": [], "error": f"{type(e).__name__}: {e}"}
        out[q.id]["ms"] = round((time.perf_counter() - t) * 1000, 1)
        bar.update()
    return out


class _Replay:
    """The recorded searches as a ``search(question, k)`` for evaluate_retrieval."""

    def __init__(self, searched: dict[str, dict]):
        self.searched = searched

    def __call__(self, question: Question, k: int) -> list[dict]:
        s = self.searched[question.id]
        if s["error"]:
            raise RuntimeError(s["error"])
        return s["hits"]


def _ask_recorder(assistant: Assistant, asked: dict[str, dict], bar: tqdm):
    def ask(question: Question) -> dict:
        try:
            if question.history:
                answer = assistant.ask(question.question, history=list(question.history))
            else:
                answer = assistant.ask(question.question)
            asked[question.id] = answer.to_dict()
            return asked[question.id]
        finally:
            bar.update()

    return ask


def _passage_ranks(question: Question, top: Sequence[dict]) -> list[int | None]:
    """For each evidence passage, the rank of the first (non-duplicate) chunk holding it."""
    return [next((t["rank"] for t in top if t["relevant"] and i in t["passages"]), None) for i in range(len(question.evidence))]


_MARKER = re.compile(r"\[\d+\]")


def answer_words(text: str) -> int:
    """Words of an answer as a reader counts them: citation markers left out."""
    return len(_MARKER.sub(" ", text).split())


def _answer(question: Question, scored: dict, given: dict | None) -> dict:
    given = given or {}
    text = given.get("answer") or ""
    found = fold(text)
    return {
        "text": text,
        "words": answer_words(text),
        "abstained": scored["abstained"],
        "language": given.get("language"),
        "mode": given.get("mode"),
        "ms": scored["ask_ms"],
        "citations": [
            {
                "n": c.get("n"),
                "chunk_id": c.get("chunk_id"),
                "doc": c.get("doc"),
                "page": c.get("page"),
                "section": c.get("section"),
                "quote": c.get("quote"),
                "text": c.get("text"),
                "gold": bool(match_passages(question, c)),
            }
            for c in given.get("citations") or []
        ],
        "facts": [{"fact": f, "found": fold(f) in found} for f in question.key_facts],
        "citation_problems": scored["citation_problems"],
    }


def _row(question: Question, testset: str, searched: dict, scored: dict | None, answer_row: dict | None, given: dict | None) -> dict:
    top = {t["rank"]: t for t in (scored or {}).get("top", [])}
    answer = _answer(question, answer_row, given) if answer_row else None
    cited = {c["chunk_id"] for c in answer["citations"]} if answer else set()
    retrieved = []
    for rank, hit in enumerate(searched["hits"], 1):
        t = top.get(rank, {})
        retrieved.append(
            {
                "rank": rank,
                "chunk_id": hit["chunk_id"],
                "doc": hit["doc"],
                "page": hit.get("page"),
                "section": hit.get("section") or "",
                "score": hit.get("score"),
                "gold": bool(t.get("relevant")),
                "passages": t.get("passages", []),
                "duplicate": bool(t.get("duplicate")),
                "cited": hit["chunk_id"] in cited,
                "text": hit.get("text") or "",
            }
        )
    errors = {"search": searched["error"]}
    if answer_row is not None:
        errors["ask"] = answer_row["error"]
    return {
        "id": question.id,
        "testset": testset,
        "split": split_of(testset),
        "section": question.section,
        "history": list(question.history),
        "question": question.question,
        "lang": question.lang,
        "type": question.type,
        "answerable": question.answerable,
        "reference_answer": question.reference_answer,
        "key_facts": list(question.key_facts),
        "evidence": [{"doc": d, "quote": quote} for d, quote in question.evidence],
        "errors": errors,
        "first_gold_rank": scored["first_gold_rank"] if scored else None,
        "passage_ranks": _passage_ranks(question, scored["top"]) if scored else [],
        "gold_chunks": scored["gold_chunks"] if scored else [],
        "retrieved": retrieved,
        "search_ms": searched["ms"],
        "answer": answer,
    }


def citation_precision(question: Question, answer: dict | None) -> float | None:
    """Share of an answer's citations whose passage holds a gold quote; None
    for an unanswerable question or an answer without citations."""
    if not question.answerable or not answer or not answer["citations"]:
        return None
    cited = answer["citations"]
    return sum(c["gold"] for c in cited) / len(cited)


def _values(question: Question, scored: dict | None, answer_row: dict | None, answer: dict | None, judged: dict | None) -> dict[str, Any]:
    """The raw per-question values of every measure, by key."""
    values: dict[str, Any] = dict(scored or {})
    if answer_row:
        values.update(answer_row)
        abstained = float(answer_row["abstained"])
        values.update(abstain_unanswerable=abstained, abstain_answerable=abstained)
        values["citation_precision"] = citation_precision(question, answer)
    for name, verdict in (judged or {}).items():
        values[f"judge_{name}"] = verdict["score"]
    return values


def latency(rows: Sequence[dict]) -> dict[str, float | None]:
    """Median and 95th percentile of search and ask times, in ms."""
    out: dict[str, float | None] = {}
    for name, values in (
        ("search", [r["search_ms"] for r in rows]),
        ("ask", [r["answer"]["ms"] for r in rows if r["answer"]]),
    ):
        p50, p95 = np.percentile(values, [50, 95]) if values else (None, None)
        out[f"{name}_ms_p50"] = None if p50 is None else round(float(p50), 1)
        out[f"{name}_ms_p95"] = None if p95 is None else round(float(p95), 1)
    return out


def run_eval(
    testsets: Sequence[Path],
    k: int = 10,
    assistant: Assistant | None = None,
    answers: bool = True,
    judge: Judge | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Evaluate the assistant on test sets; the run as a JSON-ready dict:
    ``format``, ``manifest``, ``summary``, ``measures``, ``breakdowns``,
    ``confusion``, ``hit_vs_answer``, ``latency`` and ``rows``.

    ``judge``: grades the answers with an LLM (needs ``answers``).
    ``progress``: a progress bar on stderr.
    """
    start = time.perf_counter()
    created = datetime.now(timezone.utc)
    questions, origin = load_questions(testsets)
    assistant = assistant or Assistant.open()
    if not assistant.retriever.size:
        raise IndexEmpty("the index is empty: run `lsn ingest` first")
    index_chunks = [c.to_dict() for c in assistant.retriever.chunks]
    assistant.warm_up()  # load the models first, so the first question's times are like the others'
    judge = judge if answers else None
    steps = len(questions) * (1 + int(answers) + int(judge is not None))
    with tqdm(total=steps, desc="search", unit="q", file=sys.stderr, disable=not progress) as bar:
        searched = _search_all(assistant, questions, k, bar)
        retrieval = evaluate_retrieval(questions, _Replay(searched), index_chunks, k=k)
        scored = {r["id"]: r for r in retrieval["questions"]}
        answer_rows: dict[str, dict] = {}
        asked: dict[str, dict] = {}
        if answers:
            bar.set_description("ask")
            result = evaluate_answers(questions, _ask_recorder(assistant, asked, bar), assistant.settings.corpus_dir)
            answer_rows = {r["id"]: r for r in result["questions"]}
        rows = [
            _row(q, origin[q.id], searched[q.id], scored.get(q.id), answer_rows.get(q.id), asked.get(q.id))
            for q in questions
        ]
        if judge is not None:
            bar.set_description("judge")
            for row in rows:
                judge.grade(row)
                bar.update()
    kinds = ["retrieval"] + (["answer"] if answers else []) + (["judge"] if judge is not None else [])
    for q, row in zip(questions, rows):
        abstained = bool(row["answer"] and row["answer"]["abstained"])
        values = _values(q, scored.get(q.id), answer_rows.get(q.id), row["answer"], row.get("judge"))
        row["measures"] = row_measures(kinds, q.answerable, abstained, row["errors"], values)
    manifest = build_manifest(
        assistant,
        testsets,
        {str(p): sum(1 for o in origin.values() if o == str(p)) for p in testsets},
        created,
        time.perf_counter() - start,
        k=k,
        answers=answers,
        judge=judge.describe() if judge is not None else None,
    )
    return {
        "format": FORMAT,
        "manifest": manifest,
        **summarize(rows),
        "splits": split_summaries(rows),
        "latency": latency(rows),
        "rows": rows,
    }
