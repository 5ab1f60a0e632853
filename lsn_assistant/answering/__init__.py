"""Grounded answers without an LLM: answer units of the retrieved passages,
scored by a fitted model, quoted verbatim with ``[n]`` citations, or an
abstention.

The pipeline, one job per module:

- ``units``: answer units from the passages' layout (a sentence, a whole list
  with its lead-in, the numbered sub-headings of a section, a label and its
  value, figure lines, an abbreviation or imprint entry);
- ``features``: general features of a (question, unit) pair;
- ``scorer``: the fitted logistic regression (``data/answer-model.json``,
  written by ``scripts/fit_answerer.py``), numpy at run time;
- ``select``: the units whose probability clears the fitted thresholds, or
  none (then the answer abstains);
- ``wording``: the text with ``[n]`` citations, framed in the question's language.

``Answerer.run(query, hits)`` never retrieves: the ``Assistant`` searches and
passes the hits, the query plan and the query vector in.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple
from pathlib import Path

import numpy as np

from ..config import Settings
from ..conversation import content_words
from ..lexical import analyze
from ..retrieve import QueryPlan
from ..translate import Lexicon
from ..types import Answer, Chunk, ScoredChunk
from .corpus import LexicalStats, SentenceVectors, SourceTexts
from .features import FEATURES, QuestionContext, featurize, question_features
from .question import answer_types, is_list_question, question_parts
from .scorer import Scorer, Thresholds
from .select import missing_types, select
from .units import Line, Part, Unit, build_units, display, furniture_lines, lines_of, stream
from .wording import LABELS, compose, labels

__all__ = [
    "Answerer", "ChunkLines", "Query", "SentenceVectors", "labels", "LABELS", "display", "is_list_question",
    "answer_types", "question_parts", "Scorer", "Thresholds", "FEATURES",
]


class ChunkLines(NamedTuple):
    """A chunk's lines as the units read them, each line's vectors and stems
    by its index (cached per index generation)."""

    lines: list[Line]
    e5: np.ndarray  # e5 passage vector per line
    stems: list[frozenset[str]]
    use: np.ndarray  # multilingual USE vector per line


# How far the layout reader looks from a retrieved passage (method constants;
# the operator's knob is Settings.answer_max_unknown, the fitted ones are in the
# model file):
AROUND = 1  # neighbouring passages read for a list the chunk boundary cuts
WIDE = 4  # neighbouring passages read for numbered sub-headings


@dataclass(frozen=True)
class Query:
    """What the answerer needs of a question, made by the Assistant."""

    question: str  # the words that decide the kind of answer (a follow-up: its own)
    text: str  # what was searched
    lang: str
    plan: QueryPlan  # stems, translation, abbreviation variant, index generation
    qvec: np.ndarray  # e5 query vector
    mentioned: frozenset[str] = frozenset()  # documents the question names


class Answerer:
    """The extractive answerer: ``run(query, hits) -> Answer``."""

    def __init__(self, settings: Settings, cache_dir: Path | None | str = "default", scorer: Scorer | None = None):
        self.settings = settings
        if cache_dir == "default":
            cache_dir = Path(settings.data_dir) / "cache"
        self.vectors = {name: SentenceVectors(settings, cache_dir, name) for name in ("e5", "use")}
        self.sources = SourceTexts(settings.corpus_dir)
        self._scorer = scorer
        self._lock = threading.Lock()

    @property
    def scorer(self) -> Scorer:
        if self._scorer is None:
            self._scorer = Scorer.load()
        return self._scorer

    @property
    def passages(self) -> int:
        """How many retrieved passages an answer draws from by default: fitted
        with the scorer (a larger pool holds more of the answers and more noise)."""
        return self.scorer.thresholds.passages

    # ---- what is derived from one generation of the index

    @staticmethod
    def stats(index) -> LexicalStats:
        return index.derived("answer.lexical_stats", lambda: LexicalStats(list(index.chunks)))

    @staticmethod
    def _layout(index):
        """Per generation: furniture lines, each document's passages in
        order, and a cache of each chunk's classified lines."""
        def make():
            order: dict[str, list[Chunk]] = {}
            for c in index.chunks:
                if c.kind == "passage":
                    order.setdefault(c.doc, []).append(c)
            for doc in order:
                order[doc].sort(key=lambda c: c.position)
            at = {c.chunk_id: (c.doc, i) for doc, cs in order.items() for i, c in enumerate(cs)}
            return furniture_lines(list(index.chunks)), order, at, {}
        return index.derived("answering.layout", make)

    @staticmethod
    def title_words(index) -> frozenset[str]:
        return index.derived(
            "answer.title_words",
            lambda: frozenset(w.lower() for c in index.chunks for w in re.findall(r"\w+", c.title) if not w.isdigit()),
        )

    def query_weights(self, query: Query) -> tuple[dict[str, float], dict[str, float]]:
        """IDF-weighted stems of the question and of its lexical translation;
        the words that only name a document left out."""
        ix = query.plan.index
        st = self.stats(ix)
        naming: set[str] = set()
        for doc in query.mentioned:
            for term in ix.title_terms.get(doc, ()):
                naming.update(analyze(term, "de"))
                naming.update(analyze(term, "en"))
        own = {t: w * st.idf(t) for t, w in query.plan.terms.items() if t not in naming}
        trans = {t: w * st.idf(t) for t, w in query.plan.translated.items() if t not in naming}
        return own, trans

    def unknown_share(self, question: str, lang: str, index) -> float:
        """Share of the question's content words that occur nowhere in the
        index, in either language: a question mostly about things the
        documents never mention is off topic."""
        st = self.stats(index)
        other = "en" if lang == "de" else "de"
        words = [w for w in content_words(question) if not w.isdigit()]
        if not words:
            return 0.0
        unknown = 0
        for w in words:
            forms = set(analyze(w, lang)) | set(analyze(w, other))
            for t, weight in Lexicon.default().translate(w, lang, other):
                if weight >= 0.5:
                    forms.update(analyze(t, other))
            if forms and not any(st.known(f) for f in forms):
                unknown += 1
        return unknown / len(words)

    def context(self, query: Query) -> QuestionContext:
        own, trans = self.query_weights(query)
        ix = query.plan.index
        return QuestionContext.make(query.question, query.lang, own, trans, query.qvec, self.title_words(ix),
                                    Lexicon.default(), self.unknown_share(query.text, query.lang, ix),
                                    query.plan.aliases, self.scorer.thresholds.count_window)

    # ---- units

    def _lines(self, chunks: list[Chunk], index) -> dict[str, ChunkLines]:
        furniture, _, _, cache = self._layout(index)
        todo = [c for c in chunks if c.chunk_id not in cache]
        if todo:
            found, _ = self.vectors["e5"].get(todo)
            found_use, _ = self.vectors["use"].get(todo)
            for c, (spans, vecs), (_, use) in zip(todo, found, found_use):
                lines = lines_of(c, list(spans), furniture)
                stems = [frozenset(analyze(ln.text, c.lang or "de")) for ln in lines]
                cache[c.chunk_id] = ChunkLines(lines, np.asarray(vecs, dtype=np.float32), stems,
                                               np.asarray(use, dtype=np.float32))
        return {c.chunk_id: cache[c.chunk_id] for c in chunks}

    def units(self, hits: list[ScoredChunk], index) -> tuple[list[Unit], dict]:
        """The candidate units of ``hits`` (best-ranked first, each quoted once)
        and the lines (with vectors and stems) of every chunk they touch."""
        _, order, at, _ = self._layout(index)
        need: dict[str, Chunk] = {}
        plan: list[tuple[ScoredChunk, list[Chunk], list[Chunk]]] = []
        for h in hits:
            c = h.chunk
            if c.kind != "passage" or c.chunk_id not in at:
                near, wide = [c], [c]
            else:
                doc, i = at[c.chunk_id]
                cs = order[doc]
                near = cs[max(0, i - AROUND): i + AROUND + 1]
                wide = cs[max(0, i - WIDE): i + WIDE + 1]
            plan.append((h, near, wide))
            for x in wide:
                need[x.chunk_id] = x
        lines = self._lines(list(need.values()), index)
        out: list[Unit] = []
        seen: set[str] = set()
        for h, near, wide in plan:
            near_lines = stream([lines[c.chunk_id].lines for c in near])
            wide_lines = stream([lines[c.chunk_id].lines for c in wide])
            for u in build_units(h, near_lines, wide_lines):
                key = u.key
                if not key or key in seen:
                    continue
                if not all(self.sources.holds(part.chunk.doc, part.quote) for part in u.parts):
                    parts = self._verbatim_parts(u, lines)
                    if parts is None:
                        continue  # spliced by the cleaner: not verbatim in the document
                    u.parts = parts
                if u.context and not all(self.sources.holds(p.chunk.doc, p.quote) for p in u.context):
                    u.context = ()  # quoted alone rather than with a spliced sentence
                seen.add(key)
                out.append(u)
        return out, lines

    def _verbatim_parts(self, u: Unit, lines: dict) -> tuple[Part, ...] | None:
        """The parts of ``u`` cut into runs of lines that each stand verbatim in
        the document, where the cleaner only changed what lies between its
        lines (a bullet glyph made "- "); None when a line itself is not
        verbatim (a sentence the cleaner spliced together), except a list's
        further sentence of an item, which is left out (as a long list keeps
        only each item's first sentence)."""
        out: list[Part] = []
        first = (u.parts[0].chunk.chunk_id, u.parts[0].lines[0])
        for part in u.parts:
            if self.sources.holds(part.chunk.doc, part.quote):
                out.append(part)
                continue
            chunk_lines = lines[part.chunk.chunk_id].lines
            run: Part | None = None
            for i in part.lines:
                ln = chunk_lines[i]
                if not self.sources.holds(part.chunk.doc, ln.text):
                    if u.kind == "list" and ln.cls not in ("item", "numbered") and (part.chunk.chunk_id, i) != first:
                        if run is not None:
                            out.append(run)
                        run = None
                        continue
                    return None
                joined = Part(part.chunk, run.start, ln.end, run.lines + (i,)) if run is not None else None
                if joined is not None and self.sources.holds(part.chunk.doc, joined.quote):
                    run = joined
                else:
                    if run is not None:
                        out.append(run)
                    run = Part(part.chunk, ln.start, ln.end, (i,))
            if run is not None:
                out.append(run)
        return tuple(out)

    def candidates(self, query: Query, hits: list[ScoredChunk]) -> tuple[list[Unit], np.ndarray, QuestionContext]:
        """Units with their features (and, with a model, probabilities)."""
        index = query.plan.index
        units, lines = self.units(hits, index)
        ctx = self.context(query)
        # the question's vectors (embedded by retrieval's lists already), and
        # those of its variant in the documents' abbreviations when it has one:
        # a sentence is as close as it is to the nearer of the two
        variant = query.plan.variant
        qvecs = np.stack([query.qvec] + ([variant.vector("e5")] if variant is not None else []))
        uvecs = np.stack([query.plan.vector("use")] + ([variant.vector("use")] if variant is not None else []))
        cos, use_cos, stems, near = [], [], [], []
        for u in units:
            cs, us, st = [], [], set()
            for part in u.parts:
                cl = lines[part.chunk.chunk_id]
                for i in part.lines:
                    if i < len(cl.e5):
                        cs.append(float((qvecs @ cl.e5[i]).max()))
                        st |= cl.stems[i]
                    if i < len(cl.use):
                        us.append(float((uvecs @ cl.use[i]).max()))
            first, last = u.parts[0], u.parts[-1]
            around = [(first.chunk.chunk_id, first.lines[0] - 1), (last.chunk.chunk_id, last.lines[-1] + 1)]
            near.append(max((float((qvecs @ lines[cid].e5[i]).max()) for cid, i in around
                             if 0 <= i < len(lines[cid].e5)), default=0.0))
            cos.append(np.asarray(cs))
            use_cos.append(np.asarray(us))
            stems.append(frozenset(st))
        x = featurize(units, cos, stems, ctx, near, use_cos)
        return units, x, ctx

    # ---- the whole thing

    def run(self, query: Query, hits: list[ScoredChunk]) -> Answer:
        """The extractive answer to ``query`` from ``hits``."""
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        units, x, ctx = self.candidates(query, hits)
        probs = self.scorer.proba(x)
        for u, pr in zip(units, probs):
            u.prob = float(pr)
        timings["sentences"] = (time.perf_counter() - t0) * 1000  # units, features, probabilities
        t1 = time.perf_counter()
        answerable = self.scorer.answerable(question_features(units, probs, ctx, hits[0].score if hits else 0.0))
        th = self.scorer.thresholds
        missing = missing_types(units, ctx, th.type_top)
        off_topic = ctx.unknown >= self.settings.answer_max_unknown
        chosen = [] if answerable < th.abstain or missing or off_topic else select(units, th, ctx.listy, ctx.parts)
        best = max(units, key=lambda u: u.prob) if units else None
        evidence = {
            "n_candidates": len(units),
            "best_prob": round(best.prob, 4) if best else 0.0,
            "answerable": round(answerable, 4),
            "best_kind": best.kind if best else None,
            "answer_types": sorted(ctx.wants),
            "missing_types": missing,
            "list_question": ctx.listy,
            "unknown_share": round(ctx.unknown, 4),
            "top_fused": round(hits[0].score, 5) if hits else 0.0,
            "chosen": [{"kind": u.kind, "prob": round(u.prob, 4)} for u in chosen],
        }
        timings["select"] = (time.perf_counter() - t1) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        if not chosen:
            return Answer(labels(query.lang)["abstain"], query.lang, True, (), "extractive", None,
                          tuple(h.to_dict() for h in hits[:3]), timings, query.question, query.text, evidence)
        text, citations = compose(chosen, query.lang, ctx.listy)
        return Answer(text, query.lang, False, tuple(citations), "extractive", None, (), timings, query.question,
                      query.text, evidence)

    def prepare(self, chunks: list[Chunk]) -> int:
        """Embed the sentences of ``chunks`` now (into the cache), so that no
        question pays for it later; returns how many were embedded."""
        chunks = list(chunks)
        total = 0
        for i in range(0, len(chunks), 16):
            total += self.vectors["e5"].get(chunks[i : i + 16])[1]
        return total
