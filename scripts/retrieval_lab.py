"""Retrieval variants on a real index, scored on test sets (train only).

The experiment bench behind issue 11's table in the README and behind
``scripts/fit_retrieval.py``: it computes every ranked list the retriever can
fuse, for every question, under a *recipe* (what ``lsn_assistant/retrieve.py``
does, with the values of ``fitted.FittedRetrieval``, plus the variants that
were measured and dropped), and scores fused rankings with the measures
``lsn eval`` reports (hit@k, MRR, key facts in the top 5, by type and language
direction). The lists are made with the retriever's own pieces (``lexical.py``:
``LexicalIndex``, ``query_terms``, ``translated_terms``, ``bm25_scores``;
``retrieve.py``: ``rrf``, ``mentioned_docs``, ``collapse_duplicates``), so a
recipe with the packaged values gives ``lsn eval``'s figures.

Dense rankings are exact cosine over the stored vectors (the store's HNSW index
over a few hundred chunks returns the same order), query vectors are cached per
text, so a grid over fusion weights costs milliseconds per point.

    LSN_DATA_DIR=... .venv/bin/python scripts/retrieval_lab.py eval/testsets/train/*.jsonl --markdown
    # the variants on top of a recipe, each with fusion weights refit:
    ... --on '{"compounds": true, "bm25_balance": 1.0}' --refit

Variants that did not help (README, "Issue 11") live only here: the chunks'
lexical translation as a second BM25 field (``passage_terms``), the dense
language offset and its projection (``langbias.py``), the gloss blend
(``gloss``), per-language lists, sentence vectors; ``LSN_LAB_SUPPLEMENT=FILE``
adds a lexicon supplement (scripts/build_lexicon_ding.py) as a variant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from eval.metrics import build_qrels, doc_key, key_fact_recall  # noqa: E402
from eval.runner import search_query  # noqa: E402
from eval.testset import Question, doc_language, load_testset  # noqa: E402
from lsn_assistant import Assistant  # noqa: E402
from lsn_assistant.embeddings import get_embedder  # noqa: E402
from langbias import LanguageOffset, aligned_pairs, blend  # noqa: E402
from lsn_assistant.fitted import FittedRetrieval  # noqa: E402
from lsn_assistant.lexical import (  # noqa: E402
    OTHER_LANG,
    LexicalIndex,
    analyze,
    balance_languages,
    cross_lingual_scores,
    query_terms,
    translated_terms,
)
from lsn_assistant.retrieve import OTHER, lexical_text, rrf  # noqa: E402
from lsn_assistant.translate import Lexicon, tokenize  # noqa: E402


# ---- dropped variants: their pieces live here only


def passage_terms(lex: Lexicon, text: str, src: str, tgt: str, max_per_word: int = 2, min_weight: float = 0.5) -> list[str]:
    """The words of a passage in the other language, for a translated BM25
    field: every content word's best translations (weight >= ``min_weight``;
    names and numbers pass through). A lexical gloss, not a translation: it
    only has to share words with a question asked in ``tgt``."""
    return [t for t, w in lex.translate(text, src, tgt, max_per_word=max_per_word) if w >= min_weight]


def gloss(lex: Lexicon, text: str, src: str, tgt: str) -> str:
    """Word-by-word rendering of a short text in ``tgt``, in the text's word
    order (the best translation of each content word; names, numbers and
    unknown words as written). For a dense encoder, which reads word order,
    where BM25 needs only the bag of ``translate``."""
    out: list[str] = []
    for word, _initial in tokenize(text):
        got = lex.translate([word], src, tgt, max_per_word=1)
        if got:
            out.append(got[0][0])
    return " ".join(out)


class TranslatedField(LexicalIndex):
    """BM25 over each chunk's ``passage_terms`` in the other language, already
    analysed: an English question meets a German passage on its own words."""

    def __init__(self, texts: list[str], langs: list[str], lex: Lexicon, per_word: int, compounds: bool):
        corpus = []
        for text, lang in zip(texts, langs):
            other = OTHER_LANG.get(lang or "de", "en")
            terms = passage_terms(lex, text, lang or "de", other, max_per_word=per_word)
            corpus.append([s for t in terms for s in analyze(t, other, compounds)])
        self.size = len(texts)
        self.compounds = compounds
        self._bm25 = self._build(corpus, 1.2, 0.75)
        self._lock = threading.Lock()


@dataclass(frozen=True)
class Recipe:
    """What the lists are made of (fusion weights are separate). The first
    four fields are ``FittedRetrieval``'s lexical knobs (``params``); the rest
    are dropped variants. ``Recipe()`` is the retrieval of before issue 11."""

    compounds: bool = False  # German compounds also index and search their parts
    part_weight: float = 0.5  # weight of a query compound's parts
    translation_weight: float = 1.0  # query translation terms, for other-language chunks
    bm25_balance: float = 0.0  # other-language BM25 scores scaled towards the question language's best
    doc_translation: float = 0.0  # weight of the chunks' translated field (0: none)
    doc_translation_per_word: int = 2
    offset: tuple[tuple[str, float], ...] = ()  # (embedder, share of the language offset)
    gloss: tuple[tuple[str, float], ...] = ()  # (embedder, share of the gloss vector)
    project: tuple[tuple[str, float], ...] = ()  # (embedder, share of the language direction projected out)
    balance: bool = False  # each list split into question-language / other-language lists
    sentences: bool = False  # e5 sentence vectors, best sentence per chunk, as a list
    supplement: str = ""  # a lexicon supplement file read after FreeDict's ("" none)

    def key(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    @classmethod
    def of(cls, p: FittedRetrieval) -> "Recipe":
        """The recipe of what the retriever does with ``p``."""
        return cls(compounds=p.compounds, part_weight=p.part_weight, translation_weight=p.translation_weight,
                   bm25_balance=p.balance)

    def params(self, weights: dict[str, float], rrf_k: float) -> FittedRetrieval:
        """The retriever's parameters for this recipe (its dropped variants left out)."""
        return FittedRetrieval(weights=MappingProxyType(dict(weights)), rrf_k=float(rrf_k),
                               compounds=self.compounds, part_weight=self.part_weight,
                               translation_weight=self.translation_weight, balance=self.bm25_balance)


BASE_WEIGHTS = dict(FittedRetrieval().weights)  # the hand-set list weights


@dataclass
class Scored:
    summary: dict
    by_type: dict = field(default_factory=dict)
    by_direction: dict = field(default_factory=dict)
    first: dict = field(default_factory=dict)  # qid -> first gold rank or None


def direction(q: Question) -> str:
    langs = sorted({doc_language(d) for d in q.evidence_docs})
    return f"{q.lang}->{'+'.join(langs)}"


class Lab:
    def __init__(self, testsets: list[Path], n: int = 100):
        self.assistant = Assistant.open()
        self.r = self.assistant.retriever
        self.n = n
        self.chunks = self.r.chunks
        self.ids = [c.chunk_id for c in self.chunks]
        self.row = {cid: i for i, cid in enumerate(self.ids)}
        self.langs = np.array([c.lang or "de" for c in self.chunks], dtype=object)
        self.docs = np.array([c.doc for c in self.chunks], dtype=object)
        self.embedders = list(self.r.store.embedders)
        self.vec = {}
        for emb in self.embedders:
            got = self.r.store.vectors(emb, self.ids)
            self.vec[emb] = np.stack([np.asarray(got[cid], dtype=np.float32) for cid in self.ids])
        # collapse_duplicates reads vectors from the store: serve them from memory
        use = "use" if "use" in self.vec else self.embedders[0]
        self.r.store.vectors = lambda emb, ids: {cid: self.vec[emb][self.row[cid]] for cid in ids if cid in self.row}
        self.questions = [q for p in testsets for q in load_testset(p)]
        self.answerable = [q for q in self.questions if q.answerable]
        self.query = {q.id: search_query(self.assistant, q) for q in self.answerable}
        self.qrels = build_qrels(self.answerable, [c.to_dict() for c in self.chunks])
        self.text = {c.chunk_id: c.text for c in self.chunks}
        self._qvec: dict[tuple[str, str], np.ndarray] = {}
        self._lexical: dict[tuple, LexicalIndex] = {}
        self._lists: dict[str, dict[str, dict[str, list[str]]]] = {}
        self.pairs = aligned_pairs(self.vec[use], list(self.langs))
        self.offsets = {emb: LanguageOffset.estimate(self.vec[emb], self.pairs) for emb in self.embedders}
        self.lex = Lexicon.default().warm_up()
        self._lexicons: dict[str, Lexicon] = {}
        self._sentences = None

    # ---- pieces

    def qvec(self, emb: str, text: str) -> np.ndarray:
        key = (emb, text)
        if key not in self._qvec:
            self._qvec[key] = get_embedder(emb, 2).embed_queries([text])[0]
        return self._qvec[key]

    def lexicon(self, recipe: Recipe) -> Lexicon:
        if not recipe.supplement:
            return self.lex
        if recipe.supplement not in self._lexicons:
            self._lexicons[recipe.supplement] = Lexicon(supplements=[recipe.supplement]).warm_up()
        return self._lexicons[recipe.supplement]

    def lexical(self, recipe: Recipe) -> LexicalIndex:
        """The BM25 index as ``IndexSnapshot.build`` makes it."""
        key = ("text", recipe.compounds)
        if key not in self._lexical:
            texts = [lexical_text(c) for c in self.chunks]
            self._lexical[key] = LexicalIndex(texts, list(self.langs), compounds=recipe.compounds)
        return self._lexical[key]

    def translated_field(self, recipe: Recipe) -> LexicalIndex:
        key = ("translated", recipe.compounds, recipe.doc_translation_per_word, recipe.supplement)
        if key not in self._lexical:
            texts = [lexical_text(c) for c in self.chunks]
            self._lexical[key] = TranslatedField(texts, list(self.langs), self.lexicon(recipe),
                                                 recipe.doc_translation_per_word, recipe.compounds)
        return self._lexical[key]

    def plan(self, text: str, recipe: Recipe):
        plan = self.r.plan(text)
        terms = query_terms(text, plan.lang, recipe.compounds, recipe.part_weight)
        translated = translated_terms(text, plan.lang, recipe.compounds, self.lexicon(recipe))
        return replace(plan, terms=terms, translated=translated)

    def bm25(self, plan, recipe: Recipe) -> np.ndarray:
        """``lexical.bm25_scores``, with the translated field (a dropped
        variant) added before the languages are balanced."""
        other = self.langs != plan.lang
        scores = cross_lingual_scores(self.lexical(recipe), plan.terms, plan.translated, other,
                                      recipe.translation_weight)
        if recipe.doc_translation:
            field = self.translated_field(recipe).scores(plan.terms)
            scores = scores + np.where(other, recipe.doc_translation * field, 0.0)
        return balance_languages(scores, other, recipe.bm25_balance)

    def dense(self, emb: str, text: str, lang: str, recipe: Recipe) -> np.ndarray:
        q = self.qvec(emb, text)
        share_gloss = dict(recipe.gloss).get(emb, 0.0)
        if share_gloss:
            g = gloss(self.lexicon(recipe), text, lang, OTHER.get(lang, "de"))
            q = blend(q, self.qvec(emb, g) if g.strip() else None, share_gloss)
        share = dict(recipe.offset).get(emb, 0.0)
        if share and self.offsets.get(emb) is not None:
            q = self.offsets[emb].shift(q, lang, share)
        scores = self.vec[emb] @ q
        proj = dict(recipe.project).get(emb, 0.0)
        if proj and self.offsets.get(emb) is not None:
            u = self.offsets[emb].vector / np.linalg.norm(self.offsets[emb].vector)
            scores = scores - proj * (self.vec[emb] @ u) * float(q @ u)
        return scores

    def sentence_scores(self, text: str) -> np.ndarray:
        if self._sentences is None:
            got, _ = self.assistant.answerer.vectors["e5"].get(self.chunks)
            owner, rows = [], []
            for i, (_, v) in enumerate(got):
                if len(v):
                    rows.append(np.asarray(v, dtype=np.float32))
                    owner.extend([i] * len(v))
            self._sentences = (np.concatenate(rows), np.array(owner))
        mat, owner = self._sentences
        sims = mat @ self.qvec("e5", text)
        best = np.full(len(self.chunks), -1.0, dtype=np.float32)
        np.maximum.at(best, owner, sims)
        return best

    def top(self, scores: np.ndarray, positive: bool = False) -> list[str]:
        order = np.argsort(-scores, kind="stable")[: self.n]
        return [self.ids[i] for i in order if not positive or scores[i] > 0]

    def lists(self, recipe: Recipe) -> dict[str, dict[str, list[str]]]:
        """Per question: every ranked list (chunk ids, best first) of ``recipe``."""
        key = recipe.key()
        if key in self._lists:
            return self._lists[key]
        out = {}
        for q in self.answerable:
            text = self.query[q.id]
            plan = self.plan(text, recipe)
            scores = {f"dense_{emb}": self.dense(emb, text, plan.lang, recipe) for emb in self.embedders}
            scores["bm25"] = self.bm25(plan, recipe)
            if recipe.sentences:
                scores["sent_e5"] = self.sentence_scores(text)
            ql: dict[str, list[str]] = {}
            for name, s in scores.items():
                positive = name == "bm25"
                if recipe.balance:
                    same = self.langs == plan.lang
                    ql[f"{name}@same"] = self.top(np.where(same, s, -np.inf) if not positive else np.where(same, s, 0), positive)
                    ql[f"{name}@other"] = self.top(np.where(~same, s, -np.inf) if not positive else np.where(~same, s, 0), positive)
                    ql[f"{name}@same"] = [c for c in ql[f"{name}@same"] if self.langs[self.row[c]] == plan.lang]
                    ql[f"{name}@other"] = [c for c in ql[f"{name}@other"] if self.langs[self.row[c]] != plan.lang]
                else:
                    ql[name] = self.top(s, positive)
            ql["_mentioned"] = sorted(self.r.mentioned_docs(plan))
            ql["_lang"] = [plan.lang]
            out[q.id] = ql
        self._lists[key] = out
        return out

    # ---- fusion and scores

    def rank(self, ql: dict[str, list[str]], weights: dict[str, float], k_rrf: float, k: int = 10) -> list[str]:
        lists = {n: v for n, v in ql.items() if not n.startswith("_")}
        mentioned = set(ql["_mentioned"])
        if mentioned:
            first = rrf(lists, weights, k_rrf)
            lists["doc_mention"] = [cid for cid, _, _ in first if self.docs[self.row[cid]] in mentioned]
        fused = [cid for cid, _, _ in rrf(lists, weights, k_rrf)]
        keep, _ = self.r.collapse_duplicates(fused, ql["_lang"][0], k)
        return keep[:k]

    def score(self, lists: dict[str, dict[str, list[str]]], weights: dict[str, float], k_rrf: float,
              ids: list[str] | None = None) -> Scored:
        rows = []
        first = {}
        for q in self.answerable:
            if ids is not None and q.id not in ids:
                continue
            ranked = self.rank(lists[q.id], weights, k_rrf)
            gold = self.qrels.get(q.id, {})
            f = next((i + 1 for i, cid in enumerate(ranked) if cid in gold), None)
            first[q.id] = f
            rows.append({
                "type": q.type, "dir": direction(q),
                "hit@1": float(f == 1), "hit@3": float(f is not None and f <= 3),
                "hit@5": float(f is not None and f <= 5), "hit@10": float(f is not None),
                "mrr": 1.0 / f if f else 0.0,
                "facts@5": key_fact_recall(q.key_facts, [self.text[c] for c in ranked[:5]]),
            })

        def agg(rs):
            keys = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr", "facts@5")
            return {"n": len(rs), **{k: sum(r[k] for r in rs) / len(rs) for k in keys}} if rs else {"n": 0}

        by_type = {}
        by_dir = {}
        for r in rows:
            by_type.setdefault(r["type"], []).append(r)
            by_dir.setdefault(r["dir"], []).append(r)
        summary = agg(rows)
        xl = by_type.get("cross-lingual", [])
        summary["xl_hit@5"] = sum(r["hit@5"] for r in xl) / len(xl) if xl else None
        return Scored(summary, {k: agg(v) for k, v in by_type.items()}, {k: agg(v) for k, v in sorted(by_dir.items())}, first)


def objective(s: dict) -> float:
    """What fitting maximises: passage hit@5 and MRR, key facts in the top 5,
    and the cross-lingual hit@5 the issue singles out."""
    return s["hit@5"] + s["mrr"] + 0.5 * s["facts@5"] + 0.5 * (s.get("xl_hit@5") or 0.0)


def weights_for(recipe: Recipe, base: dict[str, float] | None = None) -> dict[str, float]:
    base = dict(base or BASE_WEIGHTS)
    if recipe.sentences:
        base.setdefault("sent_e5", 0.5)
    if recipe.balance:
        out = {"doc_mention": base.get("doc_mention", 1.0)}
        for n, w in base.items():
            if n != "doc_mention":
                out[f"{n}@same"] = w
                out[f"{n}@other"] = w
        return out
    return base


def line(label: str, s: Scored) -> str:
    m = s.summary
    dirs = " ".join(f"{d}={v['hit@5']:.3f}({v['n']})" for d, v in s.by_direction.items())
    return (f"{label:44} hit@1 {m['hit@1']:.3f} hit@5 {m['hit@5']:.3f} hit@10 {m['hit@10']:.3f} "
            f"MRR {m['mrr']:.3f} facts@5 {m['facts@5']:.3f} xl@5 {m['xl_hit@5'] or 0:.3f} | {dirs}")


def md_row(label: str, s: Scored, dirs: list[str]) -> str:
    m = s.summary
    cells = [f"{m['hit@5']:.3f}", f"{m['mrr']:.3f}", f"{m['xl_hit@5'] or 0:.3f}", f"{m['facts@5']:.3f}"]
    cells += [f"{s.by_direction[d]['hit@5']:.3f}" if d in s.by_direction else "-" for d in dirs]
    return f"| {label} | " + " | ".join(cells) + " |"


def refit(lab: Lab, recipe: Recipe, weights: dict[str, float], k_rrf: float) -> tuple[dict[str, float], float]:
    """Fusion weights and RRF constant refit for ``recipe`` (coordinate ascent
    as in fit_retrieval.py, fusion only), so a variant is not judged with
    weights tuned for another."""
    from fit_retrieval import Point, fit

    p = fit(lab, Point(recipe, weights, k_rrf), None)
    return p.weights, p.rrf_k


VARIANTS = {
    "compounds": Recipe(compounds=True),
    "compounds, parts weight 1": Recipe(compounds=True, part_weight=1.0),
    "doc translation 0.5": Recipe(doc_translation=0.5),
    "doc translation 1.0": Recipe(doc_translation=1.0),
    "doc translation 1.0, 1 sense per word": Recipe(doc_translation=1.0, doc_translation_per_word=1),
    "bm25 balance 0.5": Recipe(bm25_balance=0.5),
    "bm25 balance 1.0": Recipe(bm25_balance=1.0),
    "per-language lists": Recipe(balance=True),
    "offset e5 0.2": Recipe(offset=(("e5", 0.2),)),
    "offset use 0.2": Recipe(offset=(("use", 0.2),)),
    "offset e5 0.5": Recipe(offset=(("e5", 0.5),)),
    "offset use 0.5": Recipe(offset=(("use", 0.5),)),
    "project e5 1.0": Recipe(project=(("e5", 1.0),)),
    "project use 1.0": Recipe(project=(("use", 1.0),)),
    "gloss e5 0.3": Recipe(gloss=(("e5", 0.3),)),
    "gloss use 0.3": Recipe(gloss=(("use", 0.3),)),
    "sentence vectors": Recipe(sentences=True),
}
if os.environ.get("LSN_LAB_SUPPLEMENT"):
    # a lexicon supplement built by scripts/build_lexicon_ding.py --out FILE
    VARIANTS["lexicon supplement"] = Recipe(supplement=os.environ["LSN_LAB_SUPPLEMENT"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("testsets", nargs="+", type=Path)
    ap.add_argument("--only", nargs="*", default=None, help="variants whose label contains one of these")
    ap.add_argument("--on", default="", help="apply the variants on top of this recipe (JSON of Recipe fields)")
    ap.add_argument("--fitted", action="store_true",
                    help="start from the packaged fitted parameters (what lsn eval measures) instead of Recipe()")
    ap.add_argument("--refit", action="store_true", help="refit fusion weights and k for each variant")
    ap.add_argument("--markdown", action="store_true", help="rows for the README table")
    args = ap.parse_args()
    t = time.perf_counter()
    lab = Lab(args.testsets)
    print(f"{len(lab.answerable)} answerable questions, {len(lab.chunks)} chunks, "
          f"{len(lab.pairs)} aligned twin pairs ({time.perf_counter() - t:.1f} s)")
    on = {k: (tuple(tuple(x) for x in v) if isinstance(v, list) else v) for k, v in json.loads(args.on or "{}").items()}
    if args.fitted:
        from lsn_assistant.fitted import fitted

        p = fitted()
        base = replace(Recipe.of(p), **on)
        weights, k_rrf = weights_for(base, dict(p.weights)), p.rrf_k
    else:
        base = Recipe(**on)
        weights, k_rrf = weights_for(base), 10.0
    if args.refit:
        weights, k_rrf = refit(lab, base, weights, k_rrf)
    first = lab.score(lab.lists(base), weights, k_rrf)
    dirs = sorted(first.by_direction)
    if args.markdown:
        print("| variant | hit@5 | MRR | cross-lingual hit@5 | facts@5 | " + " | ".join(dirs) + " |")
        print("|" + " --- |" * (5 + len(dirs)))
        print(md_row("base" + (" (fitted)" if args.fitted else "") + (f" ({args.on})" if args.on else ""), first, dirs))
    else:
        print(line("base", first))
    chosen = {k: v for k, v in VARIANTS.items() if not args.only or any(o in k for o in args.only)}
    for label, variant in chosen.items():
        changes = {f: getattr(variant, f) for f in variant.__dataclass_fields__ if getattr(variant, f) != getattr(Recipe(), f)}
        recipe = replace(base, **changes)
        w = weights_for(recipe, {k: v for k, v in weights.items() if "@" not in k})
        kk = k_rrf
        if args.refit:
            w, kk = refit(lab, recipe, w, kk)
        s = lab.score(lab.lists(recipe), w, kk)
        print(md_row(label, s, dirs) if args.markdown else line(label, s), flush=True)


if __name__ == "__main__":
    main()
