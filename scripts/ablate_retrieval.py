"""Ablation of the retrieval lists and their fusion on test sets.

Computes each ranked list once per question (dense per embedder, BM25 on the
question alone, BM25 with the lexical translation) from the real index, then
scores single lists and fused combinations with the same measures `lsn eval`
reports. Used to choose the fusion weights; re-run it after a change.

    LSN_DATA_DIR=data .venv/bin/python scripts/ablate_retrieval.py eval/testsets/*.jsonl
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from eval.retrieval import evaluate_retrieval
from eval.testset import load_testset
from lsn_assistant import Assistant
from lsn_assistant.lexical import analyze
from lsn_assistant.retrieve import OTHER, rrf
from lsn_assistant.translate import Lexicon


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
        plan = r.plan(q.question)
        own = {t: 1.0 for t in analyze(q.question, plan.lang)}
        trans: dict[str, float] = {}
        for term, w in Lexicon.default().translate(q.question, plan.lang, OTHER[plan.lang]):
            for stem in analyze(term, OTHER[plan.lang]):
                trans[stem] = max(trans.get(stem, 0.0), w)
        from lsn_assistant.retrieve import QueryPlan

        ql = {f"dense_{e}": r.dense_ranking(e, q.question, args.n, None) for e in r.store.embedders}
        ql["bm25"] = r.lexical_ranking(QueryPlan(q.question, plan.lang, own), args.n, None)
        ql["bm25_tr"] = r.lexical_ranking(QueryPlan(q.question, plan.lang, trans), args.n, None)
        lists[q.id] = ql

    def score(weights: dict[str, float], k_rrf: int = 60) -> dict:
        def search(q, k):
            fused = rrf(lists[q.id], weights, k_rrf)
            return [{"chunk_id": cid, **_chunk(cid)} for cid, _, _ in fused[:k]]

        res = evaluate_retrieval(questions, search, chunks, k=10)
        s = res["summary"]
        xl = res["by_type"].get("cross-lingual", {})
        return {"hit@1": s["hit@1"], "hit@5": s["hit@5"], "hit@10": s["hit@10"], "mrr": s["mrr"], "xl_hit@5": xl.get("hit@5")}

    by_id = {c["chunk_id"]: c for c in chunks}

    def _chunk(cid):
        c = by_id[cid]
        return {"doc": c["doc"], "text": c["text"]}

    names = list(next(iter(lists.values())))
    print(f"{'weights':60} hit@1  hit@5  hit@10  MRR    xl@5")
    for name in names:
        w = {n: float(n == name) for n in names}
        _print(w, score(w))
    grid = [0.0, 0.5, 1.0]
    rows = []
    for ws in itertools.product(grid, repeat=len(names)):
        if sum(ws) == 0:
            continue
        w = dict(zip(names, ws))
        rows.append((w, score(w)))
    rows.sort(key=lambda x: (-(x[1]["hit@5"] + x[1]["mrr"] + 0.5 * (x[1]["xl_hit@5"] or 0))))
    print("best fused:")
    for w, s in rows[:15]:
        _print(w, s)


def _print(w, s):
    label = " ".join(f"{k}={v:g}" for k, v in w.items())
    print(f"{label:60} {s['hit@1']:.3f}  {s['hit@5']:.3f}  {s['hit@10']:.3f}  {s['mrr']:.3f}  {s['xl_hit@5']:.3f}")


if __name__ == "__main__":
    main()
