"""General features of a (question, unit) pair, for the fitted scorer.

No feature names a word of one document or the phrasing of one question:
they are similarities (e5 cosine, IDF-weighted stem overlap), the passage's
retrieval rank and score, the unit's kind and size, whether it holds the kind
of thing the question asks for (a number, a date, an amount, a person, a count
of the asked thing, a list for a plural), its language and its place.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from ..lexical import analyze
from .question import (
    _NUMBER_WORDS,
    COUNT_WINDOW,
    _stem_in,
    answer_types,
    counted_words,
    is_contact_line,
    is_list_question,
    question_parts,
    typed_match,
)
from .units import KINDS, Unit, refers_back

# a count the question names ("Welche sechs Themenfelder", "the four guiding philosophies")
_COUNT_WORDS = {
    "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10,
    "elf": 11, "zwölf": 12, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}

FEATURES = (
    "cos", "cos_mean", "cos_z", "cos_gap", "cos_rank", "lex", "lex_gap", "lex_rank", "combo_rank", "best_in_passage",
    "use_cos", "use_z", "use_rank", "rare_match", "plain_share", "neighbour_cos_z", "passage_best_z", "rank_dense", "rank_use", "rank_bm25", "rank_inv", "score_ratio",
    *(f"kind_{k}" for k in KINDS),
    "log_words", "n_parts", "wants_type", "typed", "wants_missing", "list_q", "list_q_x_list", "list_q_x_single",
    "count_named", "items_match_count", "same_lang", "first_in_passage", "refers_back", "noise", "question_like", "unknown_share",
)


@dataclass
class QuestionContext:
    """What the features need of a question, computed once per answer."""

    question: str  # the question as asked (its own words decide the answer type)
    lang: str
    own: dict[str, float]  # IDF-weighted stems of the question
    trans: dict[str, float]  # of its lexical translation
    qvec: np.ndarray
    wants: set[str] = field(default_factory=set)
    listy: bool = False
    counted: list[set[str]] = field(default_factory=list)
    named_count: int = 0
    title_words: frozenset[str] = frozenset()
    unknown: float = 0.0  # share of its content words the index never uses
    parts: int = 1  # things it asks for ("Wer leitet …, und wer sitzt … vor?": 2)
    aliases: dict = field(default_factory=dict)  # a stem -> the stems of the abbreviation that says it too
    count_window: int = COUNT_WINDOW  # a count stands within this many content words of the counted thing

    @classmethod
    def make(cls, question: str, lang: str, own: dict, trans: dict, qvec: np.ndarray, title_words=frozenset(),
             lexicon=None, unknown: float = 0.0, aliases=None, count_window: int = COUNT_WINDOW) -> "QuestionContext":
        wants = answer_types(question)
        counted = []
        if "count" in wants:
            other = "en" if lang == "de" else "de"
            for w in counted_words(question):
                forms = set(analyze(w, lang))
                if lexicon is not None:
                    for t, _ in lexicon.translate(w, lang, other):
                        forms.update(analyze(t, other))
                if forms:
                    counted.append(forms)
        named = 0
        for w in re.findall(r"\w+", question.lower()):
            if w in _COUNT_WORDS:
                named = _COUNT_WORDS[w]
            elif re.fullmatch(r"[0-9]{1,2}", w) and 2 <= int(w) <= 20:  # ASCII digits: "³" is a digit too
                named = int(w)
        return cls(question, lang, own, trans, qvec, wants, is_list_question(question), counted, named, title_words, unknown,
                   min(3, question_parts(question)), dict(aliases or {}), count_window)


def matched_terms(stems: frozenset[str], lang: str, ctx: QuestionContext) -> tuple[set[str], set[str]]:
    """The question's stems in the unit (as is or as a compound part), and
    for a unit in the other language those of its lexical translation."""
    own = {t for t in ctx.own if _stem_in(t, stems) or ctx.aliases.get(t, frozenset()) & stems}
    trans = {t for t in ctx.trans if t not in ctx.own and _stem_in(t, stems)} if lang != ctx.lang else set()
    return own, trans


def lexical_share(matched: tuple[set[str], set[str]], ctx: QuestionContext) -> float:
    total = sum(ctx.own.values()) or 1.0
    own, trans = matched
    return min(1.0, (sum(ctx.own[t] for t in own) + sum(ctx.trans[t] for t in trans)) / total)


def featurize(units: list[Unit], cos: list[np.ndarray], stems: list[frozenset[str]], ctx: QuestionContext,
              neighbour_cos: list[float] | None = None, use_cos: list[np.ndarray] | None = None) -> np.ndarray:
    """The feature matrix (units x FEATURES); also kept on each unit.
    ``neighbour_cos``: per unit, the best cosine of the sentence just before
    or after it in its passage (an answer often follows a relevant lead);
    ``use_cos``: per unit, the multilingual USE cosines of its sentences (a
    second encoder's view of the same pairs)."""
    if not units:
        return np.zeros((0, len(FEATURES)))
    cmax = np.array([float(c.max()) if len(c) else 0.0 for c in cos])
    cmean = np.array([float(c.mean()) if len(c) else 0.0 for c in cos])
    matches = [matched_terms(s, u.lang, ctx) for u, s in zip(units, stems)]
    lex = np.array([lexical_share(m, ctx) for m in matches])
    sd = float(cmax.std()) or 1.0
    centre = {lang: float(np.median([c for c, u in zip(cmax, units) if u.lang == lang])) for lang in {u.lang for u in units}}
    top_score = max(u.hit.score for u in units) or 1.0
    z = (cmax - cmax.mean()) / sd + lex
    cos_rank = _ranks(cmax)
    umax = np.array([float(c.max()) if len(c) else 0.0 for c in use_cos]) if use_cos is not None else np.zeros(len(units))
    usd = float(umax.std()) or 1.0
    use_rank = _ranks(umax)
    lex_rank = _ranks(lex)
    combo_rank = _ranks(z)
    best_here: dict[str, float] = {}
    for u, v in zip(units, z):
        best_here[u.hit.chunk.chunk_id] = max(best_here.get(u.hit.chunk.chunk_id, -9.0), float(v))
    neighbour_cos = neighbour_cos or [0.0] * len(units)
    # what the question itself says (its stems, their translation, the abbreviations for them)
    given = frozenset(ctx.own) | frozenset(ctx.trans) | frozenset().union(*ctx.aliases.values())
    top_w = max(ctx.own.values(), default=0.0) or 1.0
    rows = []
    for k, (u, c, cm, lx) in enumerate(zip(units, cmax, cmean, lex)):
        matched = [ctx.own[t] for t in matches[k][0]]
        ranks = u.hit.scores or {}
        text = u.text
        n_items = len(u.items)
        typed = bool(ctx.wants) and typed_match(text, ctx.wants, ctx.question, ctx.counted, u.lang or "de", ctx.title_words,
                                                  ctx.count_window)
        listy_unit = u.kind in ("list", "headings", "data")
        f = {
            "cos": c,
            "cos_mean": cm,
            "cos_z": (c - centre[u.lang]) / sd,
            "cos_gap": c - float(cmax.max()),
            "cos_rank": 1.0 / cos_rank[k],
            "lex": lx,
            "lex_gap": lx - float(lex.max()),
            "lex_rank": 1.0 / lex_rank[k],
            "combo_rank": 1.0 / combo_rank[k],
            "best_in_passage": float(z[k] >= best_here[u.hit.chunk.chunk_id]),
            "use_cos": float(umax[k]),
            "use_z": float((umax[k] - umax.mean()) / usd),
            "use_rank": 1.0 / use_rank[k],
            "rare_match": max(matched, default=0.0) / top_w,
            "plain_share": len(matched) / max(1, len(ctx.own)),
            "neighbour_cos_z": (neighbour_cos[k] - centre[u.lang]) / sd if neighbour_cos[k] else -3.0,
            "passage_best_z": best_here[u.hit.chunk.chunk_id],
            "rank_dense": 1.0 / ranks.get("rank_dense_e5", 100),
            "rank_use": 1.0 / ranks.get("rank_dense_use", 100),
            "rank_bm25": 1.0 / ranks.get("rank_bm25", 100),
            "rank_inv": 1.0 / u.hit.rank,
            "score_ratio": u.hit.score / top_score,
            **{f"kind_{k}": float(u.kind == k) for k in KINDS},
            "log_words": math.log1p(u.words),
            "n_parts": float(len(u.parts)),
            "wants_type": float(bool(ctx.wants)),
            "typed": float(typed),
            "wants_missing": float(bool(ctx.wants) and not typed),
            "list_q": float(ctx.listy),
            "list_q_x_list": float(ctx.listy and listy_unit),
            "list_q_x_single": float(ctx.listy and not listy_unit),
            "count_named": float(ctx.named_count > 0),
            "items_match_count": float(ctx.named_count > 0 and (n_items == ctx.named_count or _names_count(text, ctx.named_count))),
            "same_lang": float(u.lang == ctx.lang),
            "first_in_passage": float(u.parts[0].lines[0] == 0),
            "refers_back": float(refers_back(u.parts[0].quote)),
            "noise": float("contact" not in ctx.wants and is_contact_line(text)),
            "question_like": float(text.rstrip().endswith("?")),
            "unknown_share": ctx.unknown,
        }
        u.features = f
        # not a model feature but a condition of being quoted (``select``): a
        # unit must say something beyond the question's own words ("LSN |
        # Life Science Nord" answers no question about Life Science Nord's members)
        u.features["novel"] = float(any(not _stem_in(st, given) for st in stems[k]))
        rows.append([f[name] for name in FEATURES])
    return np.asarray(rows, dtype=float)


def _ranks(values: np.ndarray) -> np.ndarray:
    """1 for the largest value, 2 for the next, …"""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks


def _names_count(text: str, n: int) -> bool:
    """The unit says the count the question names ("sechs zentrale Themenfelder")."""
    words = set(re.findall(r"\w+", text.lower()))
    return str(n) in words or any(_COUNT_WORDS.get(w) == n for w in words if w in _NUMBER_WORDS)


QUESTION_FEATURES = ("best_prob", "second_prob", "top3_prob", "typed_gap", "type_missing", "unknown_share", "best_cos",
                     "best_use")


def question_features(units: list[Unit], probs: np.ndarray, ctx: QuestionContext, top_fused: float = 0.0) -> np.ndarray:
    """Whether the passages answer the question at all: how likely its best
    units are, whether the best of those holding the asked kind of thing (a
    count, a date, an amount …) falls short of the best overall, whether none
    of the ten best holds it, how much of the question the index knows, how
    close the likeliest unit is in the second encoder's (USE) view.

    Not a feature: how many of the question's words the likeliest units share.
    On train it separates better (CV AUC 0.71 -> 0.78) but the wrong way round
    for a member: the train questions that are answerable were written as
    paraphrases and the unanswerable ones as near misses in the documents'
    words, so the model learnt "shares the words, so unanswerable" and
    abstained on the plainest questions ("Wie viele Mitglieder hat Life Science
    Nord?", P 0.13)."""
    order = np.argsort(-probs) if len(probs) else np.zeros(0, dtype=int)
    p = probs[order] if len(probs) else np.zeros(0)
    best = float(p[0]) if len(p) else 0.0
    typed = [float(probs[i]) for i in order if units[i].features.get("typed")]
    top = [units[i] for i in order[:10]]
    f = {
        "best_prob": best,
        "second_prob": float(p[1]) if len(p) > 1 else 0.0,
        "top3_prob": float(p[:3].mean()) if len(p) else 0.0,
        "typed_gap": (best - (max(typed) if typed else 0.0)) if ctx.wants else 0.0,
        "type_missing": float(bool(ctx.wants) and not any(u.features.get("typed") for u in top)),
        "unknown_share": ctx.unknown,
        "best_cos": max((u.features["cos"] for u in units), default=0.0),
        "best_use": units[order[0]].features["use_cos"] if len(order) else 0.0,
    }
    return np.array([f[name] for name in QUESTION_FEATURES], dtype=float)
