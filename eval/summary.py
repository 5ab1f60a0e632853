"""The measures of a run and their aggregates: summary, intervals, breakdowns.

Every question of a run is a row (``eval.runner``) whose ``measures`` map each
measure key to a value in [0, 1], or None where the measure does not apply to
that question (retrieval measures to an unanswerable question, say).

Denominators. A measure's ``n_total`` is every question it applies to;
``n_scored`` those whose step (search, ask, judge) did not fail. A failed step
scores the measure's worst value (0, or 1 where lower is better), so a failure
counts as a failure and never leaves the denominator: the mean is always over
``n_total``.

Intervals are 95% percentile bootstrap intervals with a fixed seed
(``eval.stats``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eval.metrics import doc_key, mean
from eval.stats import bootstrap_ci
from eval.testset import LANGS, SPLITS, TYPES


@dataclass(frozen=True)
class Measure:
    """One measure: ``kind`` is the step it scores (retrieval, answer, judge);
    ``applies`` says to which questions (answerable, unanswerable, all, or
    answered: not abstained)."""

    key: str
    label: str
    kind: str
    applies: str
    higher_is_better: bool = True

    @property
    def worst(self) -> float:
        return 0.0 if self.higher_is_better else 1.0


MEASURES: tuple[Measure, ...] = (
    Measure("hit@1", "hit@1", "retrieval", "answerable"),
    Measure("hit@3", "hit@3", "retrieval", "answerable"),
    Measure("hit@5", "hit@5", "retrieval", "answerable"),
    Measure("hit@10", "hit@10", "retrieval", "answerable"),
    Measure("mrr", "MRR", "retrieval", "answerable"),
    Measure("ndcg@10", "nDCG@10", "retrieval", "answerable"),
    Measure("ctx_fact_recall@5", "key facts in top 5", "retrieval", "answerable"),
    Measure("answer_fact_recall", "key facts in answer", "answer", "answerable"),
    Measure("citations_valid", "citations valid", "answer", "all"),
    Measure("cited_gold", "cites a gold passage", "answer", "answerable"),
    Measure("citation_precision", "share of citations on a gold passage", "answer", "answered"),
    Measure("abstain_unanswerable", "abstained when unanswerable", "answer", "unanswerable"),
    Measure("abstain_answerable", "abstained when answerable", "answer", "answerable", higher_is_better=False),
    Measure("language_ok", "answer in question's language", "answer", "all"),
    Measure("groundedness", "statements supported", "answer", "answered"),
    Measure("judge_correctness", "LLM judge: correctness", "judge", "all"),
    Measure("judge_faithfulness", "LLM judge: faithfulness", "judge", "answered"),
)
BY_KEY: dict[str, Measure] = {m.key: m for m in MEASURES}
# The steps whose failure fails a measure of each kind.
FAILING_STEPS: dict[str, tuple[str, ...]] = {"retrieval": ("search",), "answer": ("ask",), "judge": ("ask", "judge")}
HIT_MEASURE = "hit@5"  # the retrieval side of the retrieval x answer table
# A train - check gap above this on these measures means tuning did not
# generalise (the question-set issue's bound); the report flags it.
GAP_LIMIT = 0.05
GAP_MEASURES: tuple[str, ...] = ("answer_fact_recall", "hit@5")


def applies(measure: Measure, answerable: bool, abstained: bool) -> bool:
    if measure.applies == "answerable":
        return answerable
    if measure.applies == "unanswerable":
        return not answerable
    if measure.applies == "answered":
        return not abstained
    return True


def failed(errors: dict, measure: Measure) -> bool:
    """Whether a step the measure depends on failed (``errors``: step -> message)."""
    return any(errors.get(step) for step in FAILING_STEPS[measure.kind])


def row_measures(kinds: Iterable[str], answerable: bool, abstained: bool, errors: dict, values: dict) -> dict:
    """A row's ``measures``: the value of each measure of the evaluated
    ``kinds`` (None where it does not apply); a failed step gives the worst value."""
    out: dict[str, float | None] = {}
    for m in MEASURES:
        if m.kind not in kinds:
            continue
        if not applies(m, answerable, abstained):
            out[m.key] = None
        elif failed(errors, m):
            out[m.key] = m.worst
        else:
            v = values.get(m.key)
            out[m.key] = None if v is None else float(v)
    return out


def evaluated(rows: Sequence[dict]) -> list[Measure]:
    """The measures the rows carry, in registry order."""
    keys = {k for r in rows for k in r["measures"]}
    return [m for m in MEASURES if m.key in keys]


def aggregate(rows: Sequence[dict], measures: Sequence[Measure]) -> dict[str, dict]:
    """``{key: {value, ci, n_scored, n_total}}`` over ``rows`` (value and ci None
    where no row applies)."""
    out: dict[str, dict] = {}
    for m in measures:
        applicable = [r for r in rows if r["measures"].get(m.key) is not None]
        values = [r["measures"][m.key] for r in applicable]
        ci = bootstrap_ci(values)
        out[m.key] = {
            "value": mean(values),
            "ci": list(ci) if ci else None,
            "n_scored": sum(1 for r in applicable if not failed(r["errors"], m)),
            "n_total": len(applicable),
        }
    return out


def _groups(rows: Sequence[dict], keys: Callable[[dict], Iterable[str]], order: Sequence[str] = ()) -> dict[str, list]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        for key in dict.fromkeys(keys(r)):
            groups.setdefault(key, []).append(r)
    rank = {k: i for i, k in enumerate(order)}
    return {k: groups[k] for k in sorted(groups, key=lambda k: (rank.get(k, len(rank)), k))}


def breakdowns(rows: Sequence[dict], measures: Sequence[Measure]) -> dict[str, dict[str, dict]]:
    """Aggregates by question type, by language and by evidence document (a
    question counts under each of its documents; unanswerable ones have none):
    ``{"type": {name: {"n", "measures"}}, "lang": ..., "doc": ...}``."""
    by = {
        "type": _groups(rows, lambda r: [r["type"]], TYPES),
        "lang": _groups(rows, lambda r: [r["lang"]], LANGS),
        "doc": _groups(rows, lambda r: [doc_key(e["doc"]) for e in r["evidence"]]),
    }
    return {
        name: {g: {"n": len(members), "measures": aggregate(members, measures)} for g, members in groups.items()}
        for name, groups in by.items()
    }


def confusion(rows: Sequence[dict]) -> dict[str, dict[str, int]]:
    """Abstention against answerability; a failed ask counts as answered."""
    table = {"unanswerable": {"abstained": 0, "answered": 0}, "answerable": {"abstained": 0, "answered": 0}}
    for r in rows:
        if r.get("answer") is not None:
            table["answerable" if r["answerable"] else "unanswerable"]["abstained" if r["answer"]["abstained"] else "answered"] += 1
    return table


def answer_grade(recall: float) -> str:
    """How much of the key facts an answer holds: all, some or none."""
    return "all" if recall >= 1.0 else "some" if recall > 0 else "none"


def hit_vs_answer(rows: Sequence[dict]) -> dict[str, dict[str, list[str]]] | None:
    """Answerable questions by retrieval (gold passage in the top 5 or not) and
    answer (all, some or none of the key facts): question ids per cell.

    A miss-row question failed at retrieval; a hit-row question with a poor
    answer failed at answering. None when retrieval or answers were not run.
    """
    cells = [r for r in rows if r["answerable"]]
    if not cells or any(
        r["measures"].get(HIT_MEASURE) is None or r["measures"].get("answer_fact_recall") is None for r in cells
    ):
        return None
    table: dict[str, dict[str, list[str]]] = {side: {g: [] for g in ("all", "some", "none")} for side in ("hit", "miss")}
    for r in cells:
        side = "hit" if r["measures"][HIT_MEASURE] >= 1.0 else "miss"
        table[side][answer_grade(r["measures"]["answer_fact_recall"])].append(r["id"])
    return table


def summarize(rows: Sequence[dict]) -> dict[str, Any]:
    """Everything a report shows above the per-question drill-down:
    ``summary`` (key -> mean), ``measures`` (key -> value, ci, n_scored,
    n_total), ``breakdowns``, ``confusion`` and ``hit_vs_answer``."""
    measures = evaluated(rows)
    agg = aggregate(rows, measures)
    return {
        "summary": {key: a["value"] for key, a in agg.items()},
        "measures": agg,
        "answer_length": answer_length(rows),
        "breakdowns": breakdowns(rows, measures),
        "confusion": confusion(rows),
        "hit_vs_answer": hit_vs_answer(rows),
    }


def answer_length(rows: Sequence[dict]) -> dict[str, float | int | None]:
    """Words per answer over the answers given (abstentions and failed asks
    left out; citation markers not counted): median, mean and how many."""
    words = sorted(r["answer"].get("words", len((r["answer"]["text"] or "").split()))
                   for r in rows if r.get("answer") and not r["answer"]["abstained"] and not r["errors"].get("ask"))
    if not words:
        return {"words_p50": None, "words_mean": None, "n": 0}
    mid = len(words) // 2
    median = words[mid] if len(words) % 2 else (words[mid - 1] + words[mid]) / 2
    return {"words_p50": median, "words_mean": round(sum(words) / len(words), 1), "n": len(words)}


def split_summaries(rows: Sequence[dict]) -> dict[str, Any]:
    """Each measure per split (the test set's folder: train, check) and the gap
    train - check, with the measures whose gap is above GAP_LIMIT flagged:
    ``{"train": {key: value}, "check": {...}, "gap": {...}, "n": {split: n},
    "answer_length": {split: ...}, "flagged": [key]}``; empty when the run has
    questions of only one split or none."""
    by_split = {s: [r for r in rows if r.get("split") == s] for s in SPLITS}
    if not all(by_split.values()):
        return {}
    measures = evaluated(rows)
    out: dict[str, Any] = {s: {k: a["value"] for k, a in aggregate(members, measures).items()} for s, members in by_split.items()}
    first, second = SPLITS
    out["gap"] = {
        m.key: None if out[first][m.key] is None or out[second][m.key] is None else out[first][m.key] - out[second][m.key]
        for m in measures
    }
    out["n"] = {s: len(members) for s, members in by_split.items()}
    out["answer_length"] = {s: answer_length(members) for s, members in by_split.items()}
    out["flagged"] = [k for k in GAP_MEASURES if (out["gap"].get(k) or 0.0) > GAP_LIMIT]
    return out
