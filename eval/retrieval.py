"""Retrieval evaluation: run a search function over a test set and score it.

``evaluate_retrieval(questions, search, index_chunks, k=10)`` asks ``search(q, k)``
for every answerable question, labels the chunks with the evidence passages
(``eval.metrics``), scores hit@1/3/5/10, MRR and nDCG@10 with ir-measures, and
context key-fact recall over the top 5 chunks. Unanswerable questions are left out
of these measures (their count is reported). A question whose search fails or
returns nothing counts as 0 on every measure; the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from eval.metrics import (
    RANK_MEASURES,
    chunk_field,
    build_qrels,
    doc_key,
    key_fact_recall,
    match_passages,
    mean,
    score_rankings,
)
from eval.testset import TYPES, Question

SearchFn = Callable[[Question, int], Sequence[Any]]
MEASURE_NAMES: tuple[str, ...] = (*RANK_MEASURES, "ctx_fact_recall@5")
FACT_K = 5


def _aggregate(rows: Sequence[dict]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows)}
    for m in MEASURE_NAMES:
        out[m] = mean(r[m] for r in rows)
    return out


def _group(rows: Sequence[dict], keys: Callable[[dict], Iterable[str]], order: Sequence[str] = ()) -> dict[str, dict]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        for key in dict.fromkeys(keys(r)):
            groups.setdefault(key, []).append(r)
    rank = {k: i for i, k in enumerate(order)}
    names = sorted(groups, key=lambda k: (rank.get(k, len(rank)), k))
    return {k: _aggregate(groups[k]) for k in names}


def evaluate_retrieval(
    questions: Sequence[Question],
    search: SearchFn,
    index_chunks: Iterable[Any],
    k: int = 10,
    min_share: float = 0.5,
) -> dict[str, Any]:
    """Score ``search`` on ``questions``.

    ``search(question, k)`` returns ranked chunks (dicts with chunk_id, doc, text,
    score, ...; Chunk/ScoredChunk objects work too); only the first ``k`` count.
    ``index_chunks`` is every chunk in the index (chunk_id, doc, text): the qrels
    give relevance 1 to each chunk of it that matches an evidence passage.

    Returns ``{"summary", "by_type", "by_lang", "by_doc", "questions", "excluded"}``.
    ``summary`` and each group hold ``n`` and the mean of hit@1, hit@3, hit@5,
    hit@10, mrr, ndcg@10, ctx_fact_recall@5 (None where n is 0); ``summary`` also
    ``k``, ``n_unanswerable_excluded`` and ``n_errors``. ``by_doc`` groups a
    question under each of its evidence docs. ``questions`` holds one row per
    evaluated question; ``excluded`` the ids of the unanswerable ones.
    """
    answerable = [q for q in questions if q.type != "unanswerable"]
    excluded = [q.id for q in questions if q.type == "unanswerable"]
    qrels = build_qrels(answerable, index_chunks, min_share)

    rankings: dict[str, list[str]] = {}
    details: dict[str, dict[str, Any]] = {}
    for q in answerable:
        error = None
        top: list[dict[str, Any]] = []
        texts: list[str] = []
        relevant = dict(qrels[q.id])
        try:
            hits = list(search(q, k) or [])[: max(k, 0)]
            seen: set[str] = set()
            for rank, c in enumerate(hits, 1):
                cid = str(chunk_field(c, "chunk_id"))
                text = chunk_field(c, "text") or ""
                passages = relevant.get(cid)
                if passages is None and text:
                    # A retrieved chunk the index list does not hold (or holds under
                    # another id) is judged by its own text; if it matches, it joins
                    # this question's qrels.
                    passages = match_passages(q, c, min_share) or None
                    if passages:
                        relevant[cid] = passages
                dup = cid in seen
                seen.add(cid)
                score = chunk_field(c, "score")
                top.append(
                    {
                        "rank": rank,
                        "chunk_id": cid,
                        "doc": chunk_field(c, "doc"),
                        "score": float(score) if isinstance(score, (int, float)) else None,
                        "relevant": bool(passages) and not dup,
                        "passages": list(passages or ()),
                        "duplicate": dup,
                    }
                )
                texts.append(text)
        except Exception as e:  # noqa: BLE001 - one failing question must not stop the run
            error = f"{type(e).__name__}: {e}"
            top, texts = [], []
        qrels[q.id] = relevant
        rankings[q.id] = [t["chunk_id"] for t in top]
        details[q.id] = {"error": error, "top": top, "texts": texts}

    scores = score_rankings(rankings, {qid: list(rel) for qid, rel in qrels.items()})

    rows: list[dict[str, Any]] = []
    for q in answerable:
        d = details[q.id]
        rel = qrels[q.id]
        found = sorted({p for t in d["top"] if t["relevant"] for p in t["passages"]})
        indexed = sorted({p for ps in rel.values() for p in ps})
        row: dict[str, Any] = {
            "id": q.id,
            "lang": q.lang,
            "type": q.type,
            "question": q.question,
            "gold_docs": list(q.evidence_docs),
            "first_gold_rank": next((t["rank"] for t in d["top"] if t["relevant"]), None),
        }
        row.update(scores[q.id])
        row["ctx_fact_recall@5"] = 0.0 if d["error"] else key_fact_recall(q.key_facts, d["texts"][:FACT_K])
        row.update(
            {
                "n_gold_chunks": len(rel),
                "gold_chunks": sorted(rel),  # ids of every relevant chunk (the qrels)
                "n_gold_passages": len(q.evidence),
                "gold_passages_retrieved": found,  # evidence indices matched in the top k
                "gold_passages_unindexed": [i for i in range(len(q.evidence)) if i not in indexed],
                "top": d["top"],
                "error": d["error"],
            }
        )
        rows.append(row)

    summary = _aggregate(rows)
    summary.update(
        {
            "k": k,
            "n_unanswerable_excluded": len(excluded),
            "n_errors": sum(1 for r in rows if r["error"]),
        }
    )
    return {
        "summary": summary,
        "by_type": _group(rows, lambda r: [r["type"]], TYPES),
        "by_lang": _group(rows, lambda r: [r["lang"]], ("de", "en")),
        "by_doc": _group(rows, lambda r: [doc_key(d) for d in r["gold_docs"]]),
        "questions": rows,
        "excluded": excluded,
    }


_COLS: tuple[tuple[str, str], ...] = (
    ("hit@1", "hit@1"),
    ("hit@3", "hit@3"),
    ("hit@5", "hit@5"),
    ("hit@10", "hit@10"),
    ("mrr", "MRR"),
    ("ndcg@10", "nDCG@10"),
    ("ctx_fact_recall@5", "facts@5"),
)


def render_blocks(
    blocks: list[tuple[str, list[tuple[str, dict]]]],
    cols: Sequence[tuple[str, str]],
    corner: str = "",
    fmt: Callable[[Any, str], str] | None = None,
) -> list[str]:
    """Header, rule and one fixed-width row per (name, aggregate) of each titled
    block, ``n`` on every row; ``fmt(value, key)`` formats a cell (default 0.000)."""
    fmt = fmt or (lambda v, key: f"{v:.3f}" if isinstance(v, (int, float)) else "-")
    width = max([len("overall")] + [len(name) + 2 for _, rows in blocks for name, _ in rows])
    header = f"{corner:<{width}} {'n':>4} " + " ".join(f"{label:>8}" for _, label in cols)
    lines = [header, "-" * len(header)]
    for title, rows in blocks:
        if title:
            lines.append(title)
        for name, agg in rows:
            label = name if not title else f"  {name}"
            lines.append(f"{label:<{width}} {agg.get('n', 0):>4} " + " ".join(f"{fmt(agg.get(k), k):>8}" for k, _ in cols))
    return lines


def format_table(result: dict[str, Any], sections: Sequence[str] = ("by_type", "by_lang")) -> str:
    """A fixed-width text table of an ``evaluate_retrieval`` result: overall, then
    one block per section (default by type and by language), ``n`` on every row."""
    blocks: list[tuple[str, list[tuple[str, dict]]]] = [("", [("overall", result["summary"])])]
    titles = {"by_type": "by type", "by_lang": "by language", "by_doc": "by document"}
    for s in sections:
        blocks.append((titles.get(s, s), list(result.get(s, {}).items())))
    lines = render_blocks(blocks, _COLS)
    rule = lines[1]
    s = result["summary"]
    lines.append(rule)
    lines.append(
        f"k={s.get('k')}; {s.get('n_unanswerable_excluded', 0)} unanswerable excluded; "
        f"{s.get('n_errors', 0)} search error(s)"
    )
    return "\n".join(lines)
