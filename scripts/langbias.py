"""The language bias of the dense encoders, estimated and taken out
(an experiment of scripts/retrieval_lab.py; measured and not kept, README
"Issue 11").

Multilingual encoders place a text by its language as well as by its meaning:
an English question sits closer to English passages than to German ones that
say the same. The corpus measures this itself: the 2024 strategy exists in both
languages, and its aligned passages (each English passage with its German
twin) differ by language only. The mean difference of their vectors is the
language offset of an encoder; shifting a question's vector by a share of it
towards the other language puts passages of both languages on a more even
footing (a training-free correction reported for multilingual retrievers:
subtracting language-specific means).

Twins are found without knowing which documents are editions of each other:
passages of different languages that are each other's nearest neighbour with a
cosine of at least ``min_cosine`` in the USE space (translations score 0.81-0.9
there, unrelated passages at most 0.82; see ``Settings.dedupe_threshold``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_COSINE = 0.85
MIN_PAIRS = 5  # fewer twins than this: no estimate, no shift
MAX_PER_LANG = 4000  # larger corpora: an even sample keeps the estimate cheap


def aligned_pairs(vectors: np.ndarray, langs: list[str], min_cosine: float = MIN_COSINE) -> list[tuple[int, int]]:
    """(English row, German row) pairs that are each other's nearest neighbour
    in the other language with a cosine >= ``min_cosine``. ``vectors``: one
    unit row per chunk (the aligning encoder's, USE)."""
    lang = np.asarray(langs, dtype=object)
    en = np.flatnonzero(lang == "en")
    de = np.flatnonzero(lang == "de")
    if not len(en) or not len(de):
        return []
    en = en[:: max(1, len(en) // MAX_PER_LANG)]
    de = de[:: max(1, len(de) // MAX_PER_LANG)]
    sim = vectors[en] @ vectors[de].T
    best_de = sim.argmax(axis=1)
    best_en = sim.argmax(axis=0)
    return [
        (int(en[i]), int(de[j]))
        for i, j in enumerate(best_de)
        if best_en[j] == i and sim[i, j] >= min_cosine
    ]


@dataclass(frozen=True)
class LanguageOffset:
    """Mean English-minus-German difference of one encoder's twin vectors."""

    vector: np.ndarray
    pairs: int

    @classmethod
    def estimate(cls, vectors: np.ndarray, pairs: list[tuple[int, int]]) -> "LanguageOffset | None":
        if len(pairs) < MIN_PAIRS:
            return None
        en = np.array([i for i, _ in pairs])
        de = np.array([j for _, j in pairs])
        return cls((vectors[en] - vectors[de]).mean(axis=0).astype(np.float32), len(pairs))

    def shift(self, query: np.ndarray, lang: str, share: float) -> np.ndarray:
        """The query vector moved by ``share`` of the offset towards the other
        language (an English question towards German and vice versa), unit length."""
        if not share or lang not in ("de", "en"):
            return query
        sign = -1.0 if lang == "en" else 1.0
        out = query + sign * share * self.vector
        return (out / max(float(np.linalg.norm(out)), 1e-6)).astype(np.float32)


def blend(query: np.ndarray, other: np.ndarray | None, share: float) -> np.ndarray:
    """A query vector mixed with the vector of its lexical rendering in the
    other language (``share`` of the sum), unit length."""
    if other is None or not share:
        return query
    out = (1.0 - share) * query + share * other
    return (out / max(float(np.linalg.norm(out)), 1e-6)).astype(np.float32)
