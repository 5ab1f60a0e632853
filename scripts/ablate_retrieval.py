"""Ablation of the retrieval lists and their fusion on test sets.

Computes each ranked list once per question (dense per embedder, BM25 on the
question alone, BM25 with the lexical translation) from the real index, then
scores single lists and fused combinations with the same measures `lsn eval`
reports. Used to choose the fusion weights; re-run it after a change.

    LSN_DATA_DIR=data .venv/bin/python scripts/ablate_retrieval.py eval/testsets/train/*.jsonl
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from eval.metrics import build_qrels
from eval.testset import load_testset
from lsn_assistant import Assistant
from lsn_assistant.retrieve import rrf


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("testsets", nargs="+", type=Path)
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args()
    questions = [q for p in args.testsets for q in load_testset(p)]
    assistant = Assistant.open()
    r = assistant.retriever
    chunks = [c.to_dict() for c in r.chunks]
    lists: dict[str, dict[str, list[str]]] = {}
    for q in questions:
        if q.type == "unanswerable":
            continue
        plan, ql = r.candidate_lists(q.question, args.n)
        # variants the product does not use, to show why
        ql["bm25_native"] = r.lexical_ranking(plan.terms, args.n, None)
        other = r._lang != plan.lang
        ql["bm25_tr_other"] = r.lexical_ranking(plan.translated, args.n, other)
        both = dict(plan.terms)
        for t, w in plan.translated.items():
            both[t] = max(both.get(t, 0.0), 0.5 * w)
        ql["bm25_both"] = r.lexical_ranking(both, args.n, None)
        lists[q.id] = ql

    answerable = [q for q in questions if q.type != "unanswerable"]
    qrels = build_qrels(answerable, chunks)
    gold = {qid: set(rel) for qid, rel in qrels.items()}
    kinds = {q.id: q.type for q in answerable}

    def score(weights: dict[str, float], k_rrf: int = 60) -> dict:
        """Binary-relevance hit@k and MRR straight from the qrels (fast enough
        for a grid; `lsn eval` reports the same measures through ir-measures)."""
        rows = []
        for qid, ql in lists.items():
            ranked = [cid for cid, _, _ in rrf(ql, weights, k_rrf)[:10]]
            first = next((i + 1 for i, cid in enumerate(ranked) if cid in gold.get(qid, ())), None)
            rows.append((qid, first))

        def mean(vals):
            vals = list(vals)
            return sum(vals) / len(vals) if vals else 0.0

        return {
            "hit@1": mean(f == 1 for _, f in rows),
            "hit@5": mean(f is not None and f <= 5 for _, f in rows),
            "hit@10": mean(f is not None for _, f in rows),
            "mrr": mean(1 / f if f else 0 for _, f in rows),
            "xl_hit@5": mean(f is not None and f <= 5 for q, f in rows if kinds[q] == "cross-lingual"),
        }

    names = list(next(iter(lists.values())))
    print(f"{'weights':60} hit@1  hit@5  hit@10  MRR    xl@5")
    for name in names:
        w = {n: float(n == name) for n in names}
        _print(w, score(w))
    grid = [0.0, 0.5, 1.0]
    rows = []
    for k_rrf in (10, 30, 60):
        for ws in itertools.product(grid, repeat=len(names)):
            if sum(ws) == 0:
                continue
            w = dict(zip(names, ws))
            rows.append(({**w, "k": k_rrf}, score(w, k_rrf)))
    rows.sort(key=lambda x: (-(x[1]["hit@5"] + x[1]["mrr"] + 0.5 * (x[1]["xl_hit@5"] or 0))))
    print("best fused:")
    for w, s in rows[:15]:
        _print(w, s)


def _print(w, s):
    label = " ".join(f"{k}={v:g}" for k, v in w.items())
    print(f"{label:60} {s['hit@1']:.3f}  {s['hit@5']:.3f}  {s['hit@10']:.3f}  {s['mrr']:.3f}  {s['xl_hit@5']:.3f}")


if __name__ == "__main__":
    main()
