"""Hybrid retrieval: dense (one list per embedder) + BM25 (with lexical query
translation), fused by weighted reciprocal rank, filtered, and with the
English/German duplicates collapsed.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np

from .config import Settings
from .embeddings import get_embedder
from .errors import BadQuery, IndexEmpty
from .language import question_language
from .lexical import LexicalIndex, analyze
from .store import ChunkStore, where_clause
from .types import Chunk, ScoredChunk

MAX_QUERY_CHARS = 2000
OTHER = {"de": "en", "en": "de"}


def rrf(ranked: dict[str, list[str]], weights: dict[str, float], k: int = 60) -> list[tuple[str, float, dict[str, int]]]:
    """Weighted reciprocal-rank fusion: score(d) = sum_i w_i / (k + rank_i(d)).

    Returns (id, score, {list: 1-based rank}) best first; ties keep first-seen order.
    """
    scores: dict[str, float] = {}
    ranks: dict[str, dict[str, int]] = {}
    for name, ids in ranked.items():
        w = weights.get(name, 1.0)
        if w <= 0:
            continue
        for r, cid in enumerate(ids, start=1):
            scores[cid] = scores.get(cid, 0.0) + w / (k + r)
            ranks.setdefault(cid, {})[name] = r
    order = sorted(scores, key=lambda c: -scores[c])
    return [(c, scores[c], ranks[c]) for c in order]


def lexical_text(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.section}\n{chunk.text}"


_WORD = re.compile(r"\w+", re.UNICODE)


def names(word: str, term: str) -> bool:
    """``word`` is ``term`` or an inflected form of it ("masterplans")."""
    return word == term or (len(term) >= 5 and word.startswith(term) and len(word) - len(term) <= 2)


def distinctive_title_terms(chunks: list[Chunk]) -> dict[str, set[str]]:
    """Per document, the words of its title that no other title has and that
    the corpus uses rarely ("masterplan", "2030", "clusterstrategie"):
    a question naming them is about that document. Generic title words
    ("Cluster", "Teil") occur elsewhere and do not count, nor do parenthesised
    remarks ("(web text)"). Surface words, not stems, so that the test is the
    same in both languages."""
    titles: dict[str, str] = {}
    df: dict[str, dict[str, int]] = {}
    for c in chunks:
        titles.setdefault(c.doc, c.title)
        for w in set(_WORD.findall(c.text.lower())):
            per = df.setdefault(w, {})
            per[c.doc] = per.get(c.doc, 0) + 1
    words = {
        doc: {w for w in _WORD.findall(re.sub(r"\([^)]*\)", " ", title).lower()) if len(w) >= 5 or (w.isdigit() and len(w) == 4)}
        for doc, title in titles.items()
    }
    in_titles: dict[str, int] = {}
    for ws in words.values():
        for w in ws:
            in_titles[w] = in_titles.get(w, 0) + 1
    total = len(chunks)

    def rare(term: str) -> bool:
        # share of all chunks using the term in any inflected form (an upper
        # bound: a chunk with two forms counts twice); names are rare, words
        # like "Mitgliedern" or "strategy" are not
        using = sum(n for w, per in df.items() if names(w, term) for n in per.values())
        return using <= max(3, 0.1 * total)

    return {doc: {w for w in ws if in_titles[w] == 1 and rare(w)} for doc, ws in words.items()}


@dataclass
class QueryPlan:
    text: str
    lang: str
    terms: dict[str, float]  # stemmed lexical terms of the question, with weights
    translated: dict[str, float]  # stemmed terms of its lexical translation


class Retriever:
    def __init__(self, store: ChunkStore, settings: Settings):
        self.store = store
        self.settings = settings
        self._lock = threading.Lock()
        # chosen with scripts/ablate_retrieval.py on the dev sets (README)
        self.weights = {"dense_e5": 1.0, "dense_use": 0.5, "bm25": 1.0, "doc_mention": 1.0}
        self.translation_weight = 1.0
        self.reload()

    def reload(self) -> None:
        """Re-read the chunks (after an ingest) and rebuild the lexical index."""
        chunks = self.store.all_chunks()
        lexical = LexicalIndex([lexical_text(c) for c in chunks], [c.lang or "de" for c in chunks])
        with self._lock:
            self.chunks = chunks
            self.by_id = {c.chunk_id: c for c in chunks}
            self.row = {c.chunk_id: i for i, c in enumerate(chunks)}
            self._doc = np.array([c.doc for c in chunks], dtype=object)
            self._lang = np.array([c.lang for c in chunks], dtype=object)
            self._year = np.array([c.year if c.year is not None else -1 for c in chunks])
            self.lexical = lexical
            self.title_terms = distinctive_title_terms(chunks)

    @property
    def size(self) -> int:
        return len(self.chunks)

    # ---- pieces

    def plan(self, query: str) -> QueryPlan:
        lang = question_language(query)
        terms: dict[str, float] = {}
        for t in analyze(query, lang):
            terms[t] = terms.get(t, 0.0) + 1.0
        translated: dict[str, float] = {}
        if self.settings.cross_lingual:
            from .translate import Lexicon

            other = OTHER.get(lang, "de")
            for term, w in Lexicon.default().translate(query, lang, other):
                for stem in analyze(term, other):
                    translated[stem] = max(translated.get(stem, 0.0), w)
        return QueryPlan(query, lang, terms, translated)

    def _mask(self, filters: dict | None) -> np.ndarray | None:
        if not filters:
            return None
        mask = np.ones(self.size, dtype=bool)
        if filters.get("doc"):
            mask &= np.isin(self._doc, list(filters["doc"]))
        if filters.get("lang"):
            mask &= np.isin(self._lang, list(filters["lang"]))
        if filters.get("year"):
            mask &= np.isin(self._year, [int(y) for y in filters["year"]])
        return mask

    def lexical_ranking(
        self, terms: dict[str, float], n: int, mask: np.ndarray | None, plan: QueryPlan | None = None
    ) -> list[str]:
        """BM25 ranking. With a plan that has a translation, chunks in the other
        language are scored with the question's terms plus the translated ones,
        chunks in its own language with its terms only (there the translation's
        wrong senses are noise); one list, so neither language gets a bonus."""
        scores = self.lexical.scores(terms)
        if plan is not None and plan.translated:
            merged = dict(terms)
            for t, w in plan.translated.items():
                merged[t] = max(merged.get(t, 0.0), self.translation_weight * w)
            other = self._lang != plan.lang
            scores = np.where(other, self.lexical.scores(merged), scores)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        top = np.argsort(-scores, kind="stable")[:n]
        return [self.chunks[i].chunk_id for i in top if scores[i] > 0]

    def dense_ranking(self, embedder: str, query: str, n: int, where: dict | None, trace: dict | None = None) -> list[str]:
        emb = get_embedder(embedder, self.settings.embed_threads)
        vec = emb.embed_queries([query])[0]
        if trace is not None:  # the caller's own request: answers reuse the query vector
            trace.setdefault("qvec", {})[embedder] = vec
        return [cid for cid, _ in self.store.query(embedder, vec, n, where) if cid in self.by_id]

    def collapse_duplicates(self, ids: list[str], query_lang: str, limit: int) -> tuple[list[str], dict[str, str]]:
        """Drop a chunk whose near-twin in the other language ranks nearby, keeping
        the one in the question's language (the 2024 strategy exists in both)."""
        emb = "use" if "use" in self.store.embedders else self.store.embedders[0]
        window = ids[: limit * 3]
        vecs = self.store.vectors(emb, window)
        keep: list[str] = []
        dropped: dict[str, str] = {}
        for cid in window:
            c = self.by_id[cid]
            v = vecs.get(cid)
            twin = None
            if v is not None:
                for kid in keep:
                    k = self.by_id[kid]
                    if k.lang != c.lang and k.doc != c.doc and vecs.get(kid) is not None:
                        if float(np.dot(v, vecs[kid])) >= self.settings.dedupe_threshold:
                            twin = kid
                            break
            if twin is None:
                keep.append(cid)
            elif c.lang == query_lang and self.by_id[twin].lang != query_lang:
                keep[keep.index(twin)] = cid  # its twin's place, in the question's language
                dropped[twin] = cid
            else:
                dropped[cid] = twin
            if len(keep) >= limit:
                break
        return keep, dropped

    # ---- the whole thing

    def candidate_lists(
        self, query: str, n: int, filters: dict | None = None, trace: dict | None = None
    ) -> tuple[QueryPlan, dict[str, list[str]]]:
        """Every ranked list that fusion combines, best first. ``trace``, when
        given, receives the plan and the query vectors (for the answer layer)."""
        plan = self.plan(query)
        if trace is not None:
            trace["plan"] = plan
        where = where_clause(filters)
        mask = self._mask(filters)
        lists: dict[str, list[str]] = {}
        for emb in self.store.embedders:
            lists[f"dense_{emb}"] = self.dense_ranking(emb, query, n, where, **({"trace": trace} if trace is not None else {}))
        lists["bm25"] = self.lexical_ranking(plan.terms, n, mask, plan)
        mentioned = self.mentioned_docs(plan)
        if mentioned:
            # A question that names a document ("laut Masterplan", "the Strategy
            # 2030") votes once more for that document's passages, in fused order.
            first = rrf(lists, self.weights, self.settings.rrf_k)
            lists["doc_mention"] = [cid for cid, _, _ in first if self.by_id[cid].doc in mentioned]
        return plan, lists

    def mentioned_docs(self, plan: QueryPlan) -> set[str]:
        """Documents whose distinctive title words the question uses (inflected
        forms too: "Masterplans" names the masterplan)."""
        words = _WORD.findall(plan.text.lower())
        return {
            doc
            for doc, terms in self.title_terms.items()
            if any(names(w, t) for t in terms for w in words)
        }

    def search(self, query: str, k: int = 10, filters: dict | None = None, trace: dict | None = None) -> list[ScoredChunk]:
        query = (query or "").strip()
        if not query:
            raise BadQuery("the query is empty")
        if len(query) > MAX_QUERY_CHARS:
            raise BadQuery(f"the query is too long ({len(query)} characters; at most {MAX_QUERY_CHARS})")
        if k < 1 or k > 100:
            raise BadQuery("k must be between 1 and 100")
        if not self.size:
            raise IndexEmpty("the index is empty: run `lsn ingest` first")
        extra = {"trace": trace} if trace is not None else {}
        plan, lists = self.candidate_lists(query, max(self.settings.candidate_k, k * 3), filters, **extra)
        fused = rrf(lists, self.weights, self.settings.rrf_k)
        ids = [cid for cid, _, _ in fused]
        info = {cid: (score, ranks) for cid, score, ranks in fused}
        if self.settings.dedupe_threshold < 1.0:
            ids, dropped = self.collapse_duplicates(ids, plan.lang, k)
            # a twin moved into its partner's place also takes that place's score
            for twin, cid in dropped.items():
                if cid in info and twin in info and info[twin][0] > info[cid][0]:
                    info[cid] = (info[twin][0], info[cid][1])
        out = []
        for rank, cid in enumerate(ids[:k], start=1):
            score, ranks = info[cid]
            out.append(ScoredChunk(self.by_id[cid], score, rank, {f"rank_{n}": r for n, r in ranks.items()}))
        return out
