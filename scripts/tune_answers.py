"""Calibrate the extractive answerer on test sets: sentence-scoring weights,
selection sizes and the abstention thresholds.

    LSN_DATA_DIR=... python scripts/tune_answers.py eval/testsets/train/*.jsonl [--grid] [--features] [--failures]

Retrieval and sentence vectors are computed once per question; each parameter
set then only re-scores, re-selects and re-composes, and is scored with the
measures of ``eval.answers`` (answer key-fact recall, cited gold, answer words),
overall and by question type (a change should help across types, not one
question). ``--features`` prints the abstention features of every question
(answerable or not) and the confusion table of the thresholds in ``Params``;
``--failures`` shows, per answer that misses a key fact or the gold passage,
whether that is retrieval's doing (no candidate sentence holds it) or the
answer's (the rank of the sentence that does); ``--grid`` searches the weights
and sizes. The chosen values go into ``lsn_assistant.answer.Params`` by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.answers import cites_gold  # noqa: E402
from eval.metrics import key_fact_recall, match_passages, mean  # noqa: E402
from eval.testset import fold, load_testset  # noqa: E402
from lsn_assistant import Assistant  # noqa: E402
from lsn_assistant.answer import Params  # noqa: E402
from lsn_assistant.retrieve import QueryPlan  # noqa: E402


def prepare(assistant: Assistant, questions, k: int):
    prepared = []
    a = assistant.answerer
    for q in questions:
        resolved = assistant.resolve(q.question, [])
        trace: dict = {}
        hits = assistant.retriever.search(resolved.standalone, k=k, trace=trace)
        plan = trace["plan"]
        plan = QueryPlan(plan.text, resolved.language, plan.terms, plan.translated)
        units, _ = a.units(hits, trace["qvec"], plan)
        prepared.append((q, resolved, hits, plan, units))
    return prepared


def run(assistant: Assistant, prepared, params: Params) -> tuple[dict, list[dict]]:
    a = assistant.answerer
    a.params = params
    rows = []
    for q, resolved, hits, plan, units in prepared:
        keep = {h.chunk.chunk_id for h in hits[: params.passages]}
        us = [u for u in units if u.chunk.chunk_id in keep]
        a.score(us, q.question, resolved.language)
        chosen = a.select(us, q.question, resolved.language)
        f = a.features(us, chosen, hits[: params.passages], plan, q.question)
        abstained = a.abstains(f)
        text, cits = a.compose(chosen, q.question, resolved.language)
        answer = {"answer": text, "citations": [c.to_dict() for c in cits]}
        rows.append(
            {
                "id": q.id,
                "type": q.type,
                "answerable": q.answerable,
                "abstained": abstained,
                "facts": key_fact_recall(q.key_facts, [text]) if q.answerable else None,
                "facts_if_answered": key_fact_recall(q.key_facts, [text]) if q.answerable else None,
                "gold": cites_gold(q, answer) if q.answerable else None,
                "words": len(re.sub(r"\[\d+\]", "", text).split()),
                "features": f,
                "answer": text,
                "units": us,
                "chosen": chosen,
            }
        )
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    summary = {
        "facts": mean(0.0 if r["abstained"] else r["facts"] for r in ans),
        "facts_no_abstain": mean(r["facts"] for r in ans),
        "gold": mean(0.0 if r["abstained"] else float(r["gold"]) for r in ans),
        "words": mean(r["words"] for r in ans if not r["abstained"]),
        "abst_una": sum(r["abstained"] for r in una),
        "abst_ans": sum(r["abstained"] for r in ans),
    }
    return summary, rows


def by_type(rows: list[dict]) -> str:
    """Key-fact recall / cited gold per question type (answerable questions)."""
    types: dict[str, list[dict]] = {}
    for r in rows:
        if r["answerable"]:
            types.setdefault(r["type"], []).append(r)
    return "  ".join(
        f"{t} {mean(0.0 if r['abstained'] else r['facts'] for r in rs):.2f}/"
        f"{mean(0.0 if r['abstained'] else float(r['gold']) for r in rs):.2f}"
        for t, rs in types.items()
    )


def show_failures(prepared, rows, params: Params) -> None:
    """Per answerable question that misses a key fact or the gold passage: the
    ranks of the passages holding gold, and for each missing fact the best
    candidate sentence holding it (its rank by relevance), or that none does
    (a retrieval failure)."""
    for (q, _, hits, _, _), r in zip(prepared, rows):
        if not q.answerable or (r["facts"] == 1.0 and r["gold"]):
            continue
        gold_ranks = [i for i, h in enumerate(hits[: params.passages], 1) if match_passages(q, h.chunk)]
        ranked = sorted(r["units"], key=lambda u: -u.score)
        print(f"\n{q.id} {q.type} {q.lang} facts {r['facts']:.2f} gold {r['gold']} gold passages at {gold_ranks}"
              f"{' ABSTAINED' if r['abstained'] else ''}\n  Q: {q.question}")
        for fact in q.key_facts:
            if fold(fact) in fold(r["answer"]):
                continue
            holders = [(i, u) for i, u in enumerate(ranked, 1) if fold(fact) in fold(u.quote)]
            if not holders:
                print(f"  - {fact!r}: in no candidate sentence")
                continue
            i, u = holders[0]
            print(f"  - {fact!r}: sentence rank {i}/{len(ranked)} score {u.score:.2f} (best {ranked[0].score:.2f}), "
                  f"passage {u.hit.rank}: {u.quote[:120]!r}")
        print("  chosen: " + ", ".join(f"{ranked.index(u) + 1}" for u in r["chosen"]) + f"; {r['words']} words")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("testsets", nargs="+", type=Path)
    ap.add_argument("--k", type=int, default=10, help="passages retrieved once per question")
    ap.add_argument("--grid", action="store_true")
    ap.add_argument("--features", action="store_true")
    ap.add_argument("--failures", action="store_true", help="where the answers miss key facts or the gold passage")
    args = ap.parse_args()
    questions = [q for p in args.testsets for q in load_testset(p)]
    assistant = Assistant.open()
    prepared = prepare(assistant, questions, args.k)
    base = Params()
    summary, rows = run(assistant, prepared, base)
    print("defaults", {k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()})
    print("by type (facts/gold):", by_type(rows))
    if args.features:
        keys = list(rows[0]["features"])
        print(f"{'id':<9} {'ans':>3} {'abst':>4} {'facts':>5} " + " ".join(f"{k[:11]:>11}" for k in keys))
        for r in sorted(rows, key=lambda r: (r["answerable"], r["features"].get("coverage", 0))):
            print(
                f"{r['id']:<9} {'y' if r['answerable'] else 'N':>3} {'A' if r['abstained'] else '':>4} "
                f"{(r['facts'] if r['facts'] is not None else -1):5.2f} "
                + " ".join(f"{str(r['features'][k])[:11]:>11}" for k in keys)
            )
    if args.failures:
        show_failures(prepared, rows, base)
    if args.grid:
        grid = {
            "w_list": [0.5, 1.0],
            "lead": [1, 2, 3],
            "max_sentences": [3, 4, 5],
            "budget": [120, 140, 160],
            "list_margin": [0.5, 0.75, 1.0],
        }
        results = []
        for values in itertools.product(*grid.values()):
            p = dataclasses.replace(base, **dict(zip(grid, values)), min_cos=0.0, typed_top=100000)
            s, _ = run(assistant, prepared, p)
            results.append((s["facts_no_abstain"], s["gold"], -s["words"], dict(zip(grid, values)), s))
        results.sort(key=lambda x: (x[0], x[1], x[2]), reverse=True)
        for facts, gold, _, values, s in results[:25]:
            print(f"facts {facts:.3f} gold {gold:.3f} words {s['words']:.0f}  {values}")


if __name__ == "__main__":
    main()
