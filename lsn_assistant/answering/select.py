"""Which units the answer quotes, from their fitted probabilities; or none
(abstain) when no unit is likely enough."""

from __future__ import annotations

from .question import typed_match
from .scorer import Thresholds
from .units import Unit

# a person and a rhythm come in too many forms to require one
REQUIRED_TYPES = ("money", "date", "count", "number", "contact")

LISTY = ("list", "headings", "data")


def select(units: list[Unit], thresholds: Thresholds, listy: bool, parts: int = 1) -> list[Unit]:
    """For a list question whose best list-like unit clears
    ``thresholds.list_answer``, that list and nothing else; else the best unit
    when it clears ``thresholds.answer``,
    otherwise up to ``max_units`` units that each clear ``select`` and a share
    of the best one's probability (more for a list question and for each
    further part of a question). Units overlapping a chosen one (the same
    sentence inside a chosen list) and units with no word beyond the
    question's own (``features["novel"]``, set by ``featurize``) are
    skipped: a unit that only repeats the question answers nothing."""
    ranked = sorted((u for u in units if u.features.get("novel", 1)), key=lambda u: -u.prob)
    if listy:
        lists = [u for u in ranked if u.kind in LISTY]
        if lists and lists[0].prob >= thresholds.list_answer:
            return [lists[0]]
    if not ranked or ranked[0].prob < thresholds.answer:
        return []
    best = ranked[0]
    limit = (thresholds.max_list_units if listy else thresholds.max_units) + thresholds.per_part * (parts - 1)
    chosen = [best]
    for u in ranked[1:]:
        if len(chosen) >= limit:
            break
        if u.prob < thresholds.select or u.prob < thresholds.relative * best.prob:
            break
        if any(_overlaps(u, c) for c in chosen):
            continue
        chosen.append(u)
    return chosen


def _overlaps(a: Unit, b: Unit) -> bool:
    ka, kb = a.key, b.key
    if ka == kb or (ka and kb and (ka in kb or kb in ka)):
        return True
    # by what is shown: a sentence quoted with the one it points back to
    # overlaps that one
    return any(pa.chunk.doc == pb.chunk.doc and (pa.quote in pb.quote or pb.quote in pa.quote)
               for pa in a.quoted for pb in b.quoted)


def missing_types(units: list[Unit], ctx, top: int) -> list[str]:
    """The kinds of thing the question asks for (an amount, a date, a count of
    the asked thing, a figure, contact details) that none of its ``top`` most
    likely units holds."""
    if not top:
        return []
    best = sorted(units, key=lambda u: -u.prob)[:top]
    return [t for t in sorted(ctx.wants) if t in REQUIRED_TYPES
            and not any(typed_match(u.text, {t}, ctx.question, ctx.counted, u.lang or "de", ctx.title_words,
                                           ctx.count_window) for u in best)]
