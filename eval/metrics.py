"""Retrieval measures: passage matching, relevance labels (qrels) and ranking scores.

Pure functions. Ranking measures come from ir-measures (pytrec_eval underneath):
hit@k = ``Success@k``, MRR = ``RR``, nDCG@10 = ``nDCG@10``, binary relevance.

Relevance. A chunk is relevant to a question when its ``doc`` equals the doc of one
of the question's evidence passages and it contains that passage's quote (folded),
or, where the quote spans a chunk boundary, a prefix or a suffix of at least
``min_share`` of it. Qrels hold *every* relevant chunk of the whole index, so the
ideal DCG is right.

Two pitfalls of ir-measures handled here:

* Ties: pytrec_eval orders equal scores by doc id (descending), not by input
  order. ``run_for`` gives strictly descending scores derived from the rank, so the
  ranking evaluated is exactly the ranking retrieved.
* Missing queries: ir-measures scores a query that is in the qrels but absent from
  the run as 0, but a query with no qrels at all (no relevant chunk anywhere in the
  index) is silently dropped, and a run with no qrels yields nothing. ``score_rankings``
  therefore fills every requested query and measure with 0 where ir-measures gave
  nothing, so no question ever leaves the denominator.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ir_measures
from ir_measures import RR, Qrel, ScoredDoc, Success, nDCG

from eval.testset import Question, fold

# name in reports -> ir-measures measure
MEASURES: dict[str, Any] = {
    "hit@1": Success @ 1,
    "hit@3": Success @ 3,
    "hit@5": Success @ 5,
    "hit@10": Success @ 10,
    "mrr": RR,
    "ndcg@10": nDCG @ 10,
}
RANK_MEASURES: tuple[str, ...] = tuple(MEASURES)



# --- passage matching -------------------------------------------------------------


def _need(n: int, min_share: float) -> int:
    """Characters of a quote of folded length n a boundary part must cover."""
    return max(1, math.ceil(n * min_share - 1e-9))


def longest_prefix_in(quote_folded: str, chunk_folded: str) -> int:
    """Length of the longest prefix of the quote that occurs in the chunk.

    Binary search: if a prefix occurs, every shorter prefix occurs too.
    """
    lo, hi = 0, len(quote_folded)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if quote_folded[:mid] in chunk_folded:
            lo = mid
        else:
            hi = mid - 1
    return lo


def longest_suffix_in(quote_folded: str, chunk_folded: str) -> int:
    """Length of the longest suffix of the quote that occurs in the chunk."""
    n = len(quote_folded)
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if quote_folded[n - mid :] in chunk_folded:
            lo = mid
        else:
            hi = mid - 1
    return lo


def quote_overlap(quote_folded: str, chunk_folded: str) -> float:
    """Share of the quote the chunk holds: 1.0 if it holds all of it, else the
    longer of its longest prefix and longest suffix over the quote's length."""
    n = len(quote_folded)
    if not n:
        return 0.0
    if quote_folded in chunk_folded:
        return 1.0
    return max(longest_prefix_in(quote_folded, chunk_folded), longest_suffix_in(quote_folded, chunk_folded)) / n


def quote_in_chunk(quote_folded: str, chunk_folded: str, min_share: float = 0.5) -> bool:
    """Whether a chunk holds a (folded) quote, or at least ``min_share`` of it as a
    prefix or a suffix (a quote spanning a chunk boundary).

    Same answer as ``quote_overlap(...) >= min_share``, but because prefix
    containment is monotonic, "the longest prefix in the chunk is at least m long"
    is just "the prefix of length m is in the chunk": at most three ``in`` tests.
    An empty quote matches nothing.
    """
    n = len(quote_folded)
    if not n or not chunk_folded:
        return False
    if quote_folded in chunk_folded:
        return True
    m = _need(n, min_share)
    if m >= n:
        return False
    return quote_folded[:m] in chunk_folded or quote_folded[n - m :] in chunk_folded


# --- relevance labels -------------------------------------------------------------


def chunk_field(chunk: Any, key: str, default: Any = None) -> Any:
    """Read a chunk field from a dict, a Chunk, or a ScoredChunk (``.chunk``)."""
    if isinstance(chunk, Mapping):
        return chunk.get(key, default)
    if hasattr(chunk, key):
        return getattr(chunk, key)
    inner = getattr(chunk, "chunk", None)
    if inner is not None and hasattr(inner, key):
        return getattr(inner, key)
    return default


def doc_key(doc: Any) -> str:
    """Compare documents by file name, so ``corpus/x.txt`` equals ``x.txt``."""
    return str(doc or "").replace("\\", "/").rsplit("/", 1)[-1]


def _folded_evidence(question: Question) -> list[tuple[str, str]]:
    return [(doc_key(doc), fold(quote)) for doc, quote in question.evidence]


def match_passages(
    question: Question, chunk: Any, min_share: float = 0.5, *, chunk_folded: str | None = None
) -> tuple[int, ...]:
    """Indices (into ``question.evidence``) of the gold passages a chunk matches;
    empty when the chunk is not relevant. ``chunk_folded`` may pass a precomputed
    ``fold(chunk text)``."""
    doc = doc_key(chunk_field(chunk, "doc"))
    evidence = [(i, fq) for i, (d, fq) in enumerate(_folded_evidence(question)) if d == doc]
    if not evidence:
        return ()
    text = chunk_folded if chunk_folded is not None else fold(chunk_field(chunk, "text") or "")
    return tuple(i for i, fq in evidence if quote_in_chunk(fq, text, min_share))


def label_chunks(question: Question, chunks: Iterable[Any], min_share: float = 0.5) -> dict[str, tuple[int, ...]]:
    """The relevant chunks among ``chunks``: ``{chunk_id: matched evidence indices}``.

    Chunks with a repeated chunk_id are labelled once (by their first occurrence).
    """
    out: dict[str, tuple[int, ...]] = {}
    seen: set[str] = set()
    for c in chunks:
        cid = str(chunk_field(c, "chunk_id"))
        if cid in seen:
            continue
        seen.add(cid)
        hit = match_passages(question, c, min_share)
        if hit:
            out[cid] = hit
    return out


def build_qrels(
    questions: Iterable[Question], index_chunks: Iterable[Any], min_share: float = 0.5
) -> dict[str, dict[str, tuple[int, ...]]]:
    """For each question, every relevant chunk of the whole index:
    ``{question_id: {chunk_id: matched evidence indices}}`` (empty dict when none).

    Index texts are folded once, and only chunks of a question's evidence docs are
    tested, so this is cheap even for thousands of chunks.
    """
    by_doc: dict[str, list[tuple[str, str]]] = {}
    raw_by_doc: dict[str, list[tuple[str, Any]]] = {}
    for c in index_chunks:
        raw_by_doc.setdefault(doc_key(chunk_field(c, "doc")), []).append((str(chunk_field(c, "chunk_id")), c))

    def folded(doc: str) -> list[tuple[str, str]]:
        if doc not in by_doc:
            by_doc[doc] = [(cid, fold(chunk_field(c, "text") or "")) for cid, c in raw_by_doc.get(doc, [])]
        return by_doc[doc]

    qrels: dict[str, dict[str, tuple[int, ...]]] = {}
    for q in questions:
        rel: dict[str, list[int]] = {}
        for i, (doc, fq) in enumerate(_folded_evidence(q)):
            for cid, text in folded(doc):
                if quote_in_chunk(fq, text, min_share):
                    hits = rel.setdefault(cid, [])
                    if i not in hits:
                        hits.append(i)
        qrels[q.id] = {cid: tuple(sorted(v)) for cid, v in rel.items()}
    return qrels


# --- ranking measures (ir-measures) ------------------------------------------------


def run_for(query_id: str, ranked_ids: Sequence[str], reserved: Iterable[str] = ()) -> list[ScoredDoc]:
    """A ranking as ir-measures run entries with strictly descending scores
    (``len - rank``), so pytrec_eval's tie-breaking by doc id never reorders it.

    A repeated chunk id keeps its slot but is renamed so it can never count as
    relevant again (a duplicate wastes a place in the context; it earns nothing).
    The new id avoids every id in the ranking and in ``reserved`` (the qrels).
    """
    n = len(ranked_ids)
    ids = [str(cid) for cid in ranked_ids]
    taken = set(ids) | set(reserved)
    seen: set[str] = set()
    out: list[ScoredDoc] = []
    for i, cid in enumerate(ids):
        did = cid
        if cid in seen:
            # (no NUL or other C-string tricks: pytrec_eval would cut the id there)
            did = f"{cid}#dup{i}"
            while did in taken:
                did += "#"
            taken.add(did)
        seen.add(cid)
        out.append(ScoredDoc(str(query_id), did, float(n - i)))
    return out


def score_rankings(
    rankings: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Iterable[str]],
    measures: Mapping[str, Any] = MEASURES,
) -> dict[str, dict[str, float]]:
    """Per-query ranking measures: ``{query_id: {name: value}}`` for every query in
    ``rankings`` or ``qrels``.

    ``rankings``: query id -> ranked chunk ids (best first; may be empty).
    ``qrels``: query id -> ids of the relevant chunks (relevance 1).
    A query with an empty ranking, no relevant chunk, or missing from either side
    scores 0 on every measure.
    """
    rel_ids = {str(q): list(dict.fromkeys(map(str, ids))) for q, ids in qrels.items()}
    qids = list(dict.fromkeys([*map(str, rankings), *rel_ids]))
    result = {q: {name: 0.0 for name in measures} for q in qids}
    qrel_list = [Qrel(q, cid, 1) for q, ids in rel_ids.items() for cid in ids]
    run = [sd for q, ids in rankings.items() for sd in run_for(str(q), list(ids), rel_ids.get(str(q), ()))]
    if not qrel_list or not run:
        return result
    name_of = {m: name for name, m in measures.items()}
    for metric in ir_measures.iter_calc(list(measures.values()), qrel_list, run):
        name = name_of.get(metric.measure)
        if name is not None and metric.query_id in result:
            result[metric.query_id][name] = float(metric.value)
    return result


# --- key facts ----------------------------------------------------------------------


def key_fact_recall(key_facts: Sequence[str], texts: Iterable[str]) -> float:
    """Share of the key facts found, folded, in the folded concatenation of ``texts``.

    With no key facts there is nothing to miss: 1.0.
    """
    facts = list(key_facts)
    if not facts:
        return 1.0
    haystack = fold("\n".join(t or "" for t in texts))
    return sum(1 for f in facts if fold(f) in haystack) / len(facts)


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean; None for no values."""
    vals = list(values)
    return sum(vals) / len(vals) if vals else None
