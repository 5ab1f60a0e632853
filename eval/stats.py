"""Uncertainty of the measures: bootstrap intervals and paired tests.

Pure numpy, reproducible: every random draw comes from a generator seeded with
``SEED``, so the same run gives the same intervals and p-values every time.

* ``bootstrap_ci``: percentile interval of a mean (resample the questions).
* ``paired_bootstrap_ci``: the same for the mean of paired differences.
* ``sign_flip_p``: two-sided p-value of a paired permutation test: under "no
  difference", each question's difference is as likely to have either sign.
  Exact (all 2^n sign patterns) up to ``EXACT_MAX`` pairs, else ``PERMUTATIONS``
  random patterns, counting the observed one (``(hits + 1) / (draws + 1)``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

SEED = 20240611
RESAMPLES = 2000
LEVEL = 0.95
EXACT_MAX = 16
PERMUTATIONS = 20000
_EPS = 1e-12


def bootstrap_ci(
    values: Sequence[float], level: float = LEVEL, resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean of ``values``; None for no values."""
    x = np.asarray(values, dtype=float)
    if not x.size:
        return None
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def paired_bootstrap_ci(
    a: Sequence[float], b: Sequence[float], level: float = LEVEL, resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float] | None:
    """Bootstrap interval of mean(b - a), resampling the pairs together."""
    return bootstrap_ci(_differences(a, b), level, resamples, seed)


def sign_flip_p(a: Sequence[float], b: Sequence[float], permutations: int = PERMUTATIONS, seed: int = SEED) -> float | None:
    """Two-sided p-value of the paired sign-flip test of mean(b - a) = 0.

    None for no pairs; 1.0 when no pair differs.
    """
    d = _differences(a, b)
    if not d.size:
        return None
    observed = abs(d.mean())
    if observed < _EPS:
        return 1.0
    if d.size <= EXACT_MAX:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
        return float(np.mean(np.abs(signs @ d) / d.size >= observed - _EPS))
    rng = np.random.default_rng(seed)
    signs = rng.choice((1.0, -1.0), size=(permutations, d.size))
    hits = int(np.sum(np.abs(signs @ d) / d.size >= observed - _EPS))
    return (hits + 1) / (permutations + 1)


def _differences(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired values differ in length: {x.size} and {y.size}")
    return y - x
