"""Hybrid retrieval: dense (one list per embedder) + BM25 (German compounds
also as their parts, lexical query translation for the other language's
chunks, whose scores are brought to the question language's level), fused by
weighted reciprocal rank, filtered, and with the English/German duplicates
collapsed. Fusion weights, the RRF constant and the BM25 knobs are fitted on
the train split (``fitted.py``, ``scripts/fit_retrieval.py``).

A search sees one generation of the index from start to end: an
``IndexSnapshot`` that is never changed once built. ``Retriever.reload``
builds the next one and swaps the reference; a search, an answer or a stream
takes the snapshot once at its start and hands it down, so uploads and deletes
running at the same time can never mix two generations in one result.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, TypeVar

import numpy as np

from .config import Settings
from .embeddings import get_embedder
from .errors import BadQuery, IndexEmpty
from ingest.structure import LABELS as ENTRY_LABELS, defined_abbreviations

from .fitted import ALIAS, FittedRetrieval, fitted
from .language import question_language
from .lexical import LexicalIndex, bm25_scores, query_terms, translated_terms
from .store import ChunkStore, where_clause
from .types import Chunk, Filters, ScoredChunk

MAX_QUERY_CHARS = 2000
OTHER = {"de": "en", "en": "de"}


def rrf(ranked: dict[str, list[str]], weights: Mapping[str, float], k: float = 60) -> list[tuple[str, float, dict[str, int]]]:
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
    """Per document, the words of its title and its year of publication that
    no other title (or year) has and that the corpus uses rarely
    ("masterplan", "2030", "clusterstrategie", "2009"):
    a question naming them is about that document. Generic title words
    ("Cluster", "Teil") occur elsewhere and do not count, nor do parenthesised
    remarks ("(web text)"). Surface words, not stems, so that the test is the
    same in both languages."""
    titles: dict[str, str] = {}
    years: dict[str, int] = {}
    df: dict[str, dict[str, int]] = {}
    for c in chunks:
        titles.setdefault(c.doc, c.title)
        if c.year:
            years.setdefault(c.doc, c.year)
        for w in set(_WORD.findall(c.text.lower())):
            per = df.setdefault(w, {})
            per[c.doc] = per.get(c.doc, 0) + 1
    words = {
        doc: {w for w in _WORD.findall(re.sub(r"\([^)]*\)", " ", title).lower()) if len(w) >= 5 or (w.isdigit() and len(w) == 4)}
        for doc, title in titles.items()
    }
    # The year a document was published names it as its title does ("the
    # 2009 plan"), under the same tests: no other document of that year, and
    # rare in the corpus text.
    for doc, year in years.items():
        words[doc].add(str(year))
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


def _read_only(values: list, dtype=None) -> np.ndarray:
    array = np.array(values, dtype=dtype)
    array.flags.writeable = False
    return array


T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class IndexSnapshot:
    """One generation of the index: the visible chunks (documents whose every
    chunk is in every collection) and everything derived from them. Built
    once, never changed; a new generation is a new snapshot."""

    chunks: tuple[Chunk, ...]
    by_id: Mapping[str, Chunk]
    doc: np.ndarray  # per chunk, in ``chunks`` order: the filter columns
    lang: np.ndarray
    year: np.ndarray
    lexical: LexicalIndex
    title_terms: Mapping[str, frozenset[str]]
    pending: tuple[str, ...] = ()  # documents being written, not visible yet
    _derived: dict = field(default_factory=dict, repr=False)
    _derived_lock: Any = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def build(cls, chunks: Iterable[Chunk], pending: Iterable[str] = (), compounds: bool = True) -> "IndexSnapshot":
        """``compounds``: BM25 also indexes the parts of German compounds
        (the fitted parameters say whether)."""
        chunks = tuple(chunks)
        return cls(
            chunks=chunks,
            by_id=MappingProxyType({c.chunk_id: c for c in chunks}),
            doc=_read_only([c.doc for c in chunks], dtype=object),
            lang=_read_only([c.lang for c in chunks], dtype=object),
            year=_read_only([c.year if c.year is not None else -1 for c in chunks]),
            lexical=LexicalIndex([lexical_text(c) for c in chunks], [c.lang or "de" for c in chunks], compounds=compounds),
            title_terms=MappingProxyType({d: frozenset(t) for d, t in distinctive_title_terms(list(chunks)).items()}),
            pending=tuple(sorted(pending)),
        )

    @property
    def size(self) -> int:
        return len(self.chunks)

    def derived(self, key: str, make: Callable[[], T]) -> T:
        """A value computed from this generation (the answerer's IDF table,
        ...), made once and dropped with the snapshot: nothing derived from an
        old generation outlives it or leaks into a newer one."""
        value = self._derived.get(key)
        if value is None:
            with self._derived_lock:
                value = self._derived.get(key)
                if value is None:
                    value = self._derived[key] = make()
        return value


@dataclass
class QueryPlan:
    """A query as retrieval and the answer layer use it, made once per search
    (like llama-index's ``QueryBundle``): its text and language, its stemmed
    terms and their lexical translation, the index generation it was planned
    against, and its vector per embedder (``vector``: embedded on first use,
    then shared by everything holding the plan, copies made with
    ``dataclasses.replace`` included)."""

    text: str
    lang: str
    terms: dict[str, float]  # stemmed lexical terms of the question, with weights
    translated: dict[str, float]  # stemmed terms of its lexical translation
    index: IndexSnapshot | None = None  # the generation it was planned against (its title terms)
    # stems of what it spells out that the documents abbreviate -> the abbreviation's
    # stems ("lif", "scienc", "nord" -> "lsn"): a passage writing the abbreviation says them
    aliases: Mapping[str, frozenset[str]] = field(default_factory=dict)
    variant: "QueryPlan | None" = None  # the question in the documents' abbreviations, as searched too
    vectors: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def vector(self, embedder: str, threads: int = 2) -> np.ndarray:
        """The query's vector for ``embedder`` (one embedding per plan)."""
        if embedder not in self.vectors:
            self.vectors[embedder] = get_embedder(embedder, threads).embed_queries([self.text])[0]
        return self.vectors[embedder]


@dataclass(frozen=True)
class Retrieved:
    """What a search returns to the answer layer: the query as planned (with
    its vectors) and the passages, best first."""

    query: QueryPlan
    hits: list[ScoredChunk]


class Retriever:
    def __init__(self, store: ChunkStore, settings: Settings, params: FittedRetrieval | None = None):
        """``params``: the fitted retrieval parameters; by default the
        packaged file's (``lsn_assistant/data/fitted-retrieval.json``)."""
        self.store = store
        self.settings = settings
        self.params = params if params is not None else fitted()
        self._reloading = threading.Lock()
        self.index: IndexSnapshot = IndexSnapshot.build((), compounds=self.params.compounds)
        self.reload()

    def reload(self) -> IndexSnapshot:
        """Read what the store shows now (after an ingest) into a new snapshot
        and swap it in. Readers are never blocked: one already running keeps
        the snapshot it took. Reloads run one at a time, so an older one that
        finishes late cannot replace a newer one."""
        with self._reloading:
            chunks, pending = self.store.visible_chunks()
            self.index = IndexSnapshot.build(chunks, pending, compounds=self.params.compounds)
            return self.index

    def _ix(self, index: IndexSnapshot | None, plan: QueryPlan | None = None) -> IndexSnapshot:
        if index is not None:
            return index
        if plan is not None and plan.index is not None:
            return plan.index
        return self.index

    # The current generation, for callers that read it once (listing documents,
    # scripts); a search takes ``index`` once and passes it down instead.

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        return self.index.chunks

    @property
    def by_id(self) -> Mapping[str, Chunk]:
        return self.index.by_id

    @property
    def title_terms(self) -> Mapping[str, frozenset[str]]:
        return self.index.title_terms

    @property
    def lexical(self) -> LexicalIndex:
        return self.index.lexical

    @property
    def _lang(self) -> np.ndarray:
        return self.index.lang

    @property
    def size(self) -> int:
        return self.index.size

    # ---- pieces

    def plan(self, query: str, index: IndexSnapshot | None = None) -> QueryPlan:
        p = self.params
        lang = question_language(query)
        terms = query_terms(query, lang, p.compounds, p.part_weight)
        translated = translated_terms(query, lang, p.compounds) if self.settings.cross_lingual else {}
        ix = self._ix(index)
        aliases: dict[str, frozenset[str]] = {}
        for pattern, abbr in self.aliases(ix):
            for m in pattern.finditer(query):
                short = frozenset(query_terms(abbr, lang, False, 0.0))
                for stem in query_terms(m.group(0), lang, False, 0.0):
                    aliases[stem] = aliases.get(stem, frozenset()) | short
        return QueryPlan(query, lang, terms, translated, ix, aliases)

    def _mask(self, filters: Filters | None, index: IndexSnapshot | None = None) -> np.ndarray | None:
        if not filters:
            return None
        ix = self._ix(index)
        mask = np.ones(ix.size, dtype=bool)
        if filters.doc:
            mask &= np.isin(ix.doc, list(filters.doc))
        if filters.lang:
            mask &= np.isin(ix.lang, list(filters.lang))
        if filters.year:
            mask &= np.isin(ix.year, [int(y) for y in filters.year])
        return mask

    def lexical_ranking(
        self,
        terms: dict[str, float],
        n: int,
        mask: np.ndarray | None,
        plan: QueryPlan | None = None,
        index: IndexSnapshot | None = None,
    ) -> list[str]:
        """BM25 ranking. With a plan, chunks in the other language are scored
        with the question's terms plus the translated ones, chunks in its own
        language with its terms only (there the translation's wrong senses are
        noise), and the two languages' scores are balanced (lexical.py); one
        list, so neither language gets a bonus. Without a plan, ``terms`` alone."""
        ix = self._ix(index, plan)
        if plan is None:
            scores = ix.lexical.scores(terms)
        else:
            p = self.params
            scores = bm25_scores(ix.lexical, terms, plan.translated, ix.lang, plan.lang, p.translation_weight, p.balance)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        top = np.argsort(-scores, kind="stable")[:n]
        return [ix.chunks[i].chunk_id for i in top if scores[i] > 0]

    def dense_ranking(
        self,
        embedder: str,
        plan: QueryPlan,
        n: int,
        where: dict | None,
        index: IndexSnapshot | None = None,
    ) -> list[str]:
        ix = self._ix(index)
        vec = plan.vector(embedder, self.settings.embed_threads)
        # The store holds more than the snapshot shows (a document being
        # written, one deleted since): only the snapshot's chunks count.
        return [cid for cid, _ in self.store.query(embedder, vec, n, where) if cid in ix.by_id]

    def collapse_duplicates(
        self, ids: list[str], query_lang: str, limit: int, index: IndexSnapshot | None = None
    ) -> tuple[list[str], dict[str, str]]:
        """Drop a chunk whose near-twin in the other language ranks nearby, keeping
        the one in the question's language (the 2024 strategy exists in both)."""
        by_id = self._ix(index).by_id
        emb = "use" if "use" in self.store.embedders else self.store.embedders[0]
        window = ids[: limit * 3]
        vecs = self.store.vectors(emb, window)  # a chunk deleted since the snapshot has none: no twin test
        keep: list[str] = []
        dropped: dict[str, str] = {}
        for cid in window:
            c = by_id[cid]
            v = vecs.get(cid)
            twin = None
            if v is not None:
                for kid in keep:
                    k = by_id[kid]
                    if k.lang != c.lang and k.doc != c.doc and vecs.get(kid) is not None:
                        if float(np.dot(v, vecs[kid])) >= self.settings.dedupe_threshold:
                            twin = kid
                            break
            if twin is None:
                keep.append(cid)
            elif c.lang == query_lang and by_id[twin].lang != query_lang:
                keep[keep.index(twin)] = cid  # its twin's place, in the question's language
                dropped[twin] = cid
            else:
                dropped[cid] = twin
            if len(keep) >= limit:
                break
        return keep, dropped

    # ---- the whole thing

    def candidate_lists(
        self,
        query: str,
        n: int,
        filters: Filters | Mapping | None = None,
        index: IndexSnapshot | None = None,
    ) -> tuple[QueryPlan, dict[str, list[str]]]:
        """The query's plan (its vectors filled) and every ranked list that
        fusion combines, best first."""
        ix = self._ix(index)
        plan = self.plan(query, index=ix)
        filters = Filters.of(filters)
        where = where_clause(filters)
        mask = self._mask(filters, ix)
        lists: dict[str, list[str]] = {}
        for emb in self.store.embedders:
            lists[f"dense_{emb}"] = self.dense_ranking(emb, plan, n, where, index=ix)
        lists["bm25"] = self.lexical_ranking(plan.terms, n, mask, plan)
        variant = self.alias_variant(query, ix) if self.params.alias_weight > 0 else None
        if variant:
            # The documents define abbreviations and then write them: the
            # question as it would read in their words ranks too.
            vplan = self.plan(variant, index=ix)
            plan.variant = vplan
            for emb in self.store.embedders:
                lists[f"dense_{emb}{ALIAS}"] = self.dense_ranking(emb, vplan, n, where, index=ix)
            lists[f"bm25{ALIAS}"] = self.lexical_ranking(vplan.terms, n, mask, vplan)
        mentioned = self.mentioned_docs(plan)
        if mentioned:
            # A question that names a document ("laut Masterplan", "the Strategy
            # 2030") votes once more for that document's passages, in fused order.
            first = rrf(lists, self.params.weights_for(lists), self.params.rrf_k)
            lists["doc_mention"] = [cid for cid, _, _ in first if ix.by_id[cid].doc in mentioned]
        return plan, lists

    def aliases(self, index: IndexSnapshot | None = None) -> tuple[tuple[re.Pattern, str], ...]:
        """What the indexed documents abbreviate, from their abbreviation
        entries (ingest/structure.py): (the spelled-out form as a pattern that
        allows any case and a hyphen for a space, its abbreviation)."""
        ix = self._ix(index)
        heads = tuple(f"{labels['abbr']} > " for labels in ENTRY_LABELS.values())

        def make():
            found: dict[str, str] = {}
            for c in ix.chunks:
                if c.kind == "entry" and c.section.startswith(heads):
                    for abbr, long in defined_abbreviations(c):
                        found.setdefault(long.lower(), abbr)
            return tuple(
                (re.compile(r"(?<!\w)" + r"[\s-]+".join(re.escape(w) for w in long.split()) + r"(?!\w)", re.IGNORECASE),
                 abbr)
                for long, abbr in sorted(found.items(), key=lambda kv: -len(kv[0]))  # longest first
            )

        return ix.derived("retrieval.aliases", make)

    def alias_variant(self, query: str, index: IndexSnapshot | None = None) -> str | None:
        """The question with each spelled-out form the documents abbreviate
        written as that abbreviation ("Wie viele Mitglieder hat Life Science
        Nord?" -> "… hat LSN?"), or None when it spells out none (or already
        names the abbreviation too)."""
        out = query
        for pattern, abbr in self.aliases(index):
            if pattern.search(out) and not re.search(rf"(?<!\w){re.escape(abbr)}(?!\w)", out):
                out = pattern.sub(abbr, out)
        return out if out != query else None

    def mentioned_docs(self, plan: QueryPlan) -> set[str]:
        """Documents whose distinctive title words the question uses (inflected
        forms too: "Masterplans" names the masterplan)."""
        words = _WORD.findall(plan.text.lower())
        return {
            doc
            for doc, terms in self._ix(None, plan).title_terms.items()
            if any(names(w, t) for t in terms for w in words)
        }

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters | Mapping | None = None,
        index: IndexSnapshot | None = None,
    ) -> list[ScoredChunk]:
        """The k best passages for ``query`` in one generation of the index:
        ``index`` when given (an answer searching twice), else the current one,
        taken once here."""
        return self.retrieve(query, k, filters, index).hits

    def retrieve(
        self,
        query: str,
        k: int = 10,
        filters: Filters | Mapping | None = None,
        index: IndexSnapshot | None = None,
    ) -> Retrieved:
        """``search``, with the query as planned (terms, translation, vectors)
        for the answer layer, which then needs neither to plan nor to embed
        the question again."""
        ix = self._ix(index)
        query = (query or "").strip()
        if not query:
            raise BadQuery("the query is empty")
        if len(query) > MAX_QUERY_CHARS:
            raise BadQuery(f"the query is too long ({len(query)} characters; at most {MAX_QUERY_CHARS})")
        if k < 1 or k > 100:
            raise BadQuery("k must be between 1 and 100")
        if not ix.size:
            raise IndexEmpty("the index is empty: run `lsn ingest` first")
        plan, lists = self.candidate_lists(query, max(self.settings.candidate_k, k * 3), filters, index=ix)
        fused = rrf(lists, self.params.weights_for(lists), self.params.rrf_k)
        ids = [cid for cid, _, _ in fused]
        info = {cid: (score, ranks) for cid, score, ranks in fused}
        if self.settings.dedupe_threshold < 1.0:
            ids, dropped = self.collapse_duplicates(ids, plan.lang, k, index=ix)
            # a twin moved into its partner's place also takes that place's score
            for twin, cid in dropped.items():
                if cid in info and twin in info and info[twin][0] > info[cid][0]:
                    info[cid] = (info[twin][0], info[cid][1])
        out = []
        for rank, cid in enumerate(ids[:k], start=1):
            score, ranks = info[cid]
            out.append(ScoredChunk(ix.by_id[cid], score, rank, {f"rank_{n}": r for n, r in ranks.items()}))
        return Retrieved(plan, out)
