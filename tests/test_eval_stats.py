"""Bootstrap intervals and the paired sign-flip test (eval.stats), on cases
small enough to work out by hand."""

from __future__ import annotations

import math

import pytest

from eval.stats import EXACT_MAX, PERMUTATIONS, bootstrap_ci, paired_bootstrap_ci, sign_flip_p


def test_bootstrap_ci_edge_cases():
    assert bootstrap_ci([]) is None
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)  # no spread, no interval


def test_bootstrap_ci_of_two_values():
    # resampled means of [0, 1]: 0 (p 1/4), 0.5 (1/2), 1 (1/4): the 2.5th
    # percentile is 0 and the 97.5th is 1
    assert bootstrap_ci([0.0, 1.0]) == (0.0, 1.0)


def test_bootstrap_ci_near_the_normal_approximation():
    values = [0.0, 1.0] * 25  # mean 0.5, n 50: 0.5 ± 1.96 * sqrt(0.25 / 50) = [0.361, 0.639]
    low, high = bootstrap_ci(values)
    half = 1.96 * math.sqrt(0.25 / 50)
    assert low == pytest.approx(0.5 - half, abs=0.03) and high == pytest.approx(0.5 + half, abs=0.03)


def test_bootstrap_is_reproducible():
    values = [0.0, 0.5, 1.0, 1.0, 0.0, 0.25]
    assert bootstrap_ci(values) == bootstrap_ci(list(values))
    assert bootstrap_ci(values, resamples=50, seed=1) != bootstrap_ci(values, resamples=50, seed=2)


def test_paired_bootstrap_ci_is_the_interval_of_the_differences():
    a, b = [0.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 1.0]
    assert paired_bootstrap_ci(a, b) == bootstrap_ci([1.0, 0.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap_ci([1.0], [1.0, 0.0])


@pytest.mark.parametrize(
    "a, b, p",
    [
        ([0, 0, 0], [1, 1, 1], 2 / 8),  # only all-plus and all-minus reach |mean| 1
        ([0] * 6, [1] * 6, 2 / 64),
        ([0, 0], [3, 1], 0.5),  # d = (3, 1): sign patterns give 2, 1, -1, -2: two of four reach 2
        ([0, 1], [2, 0], 1.0),  # d = (2, -1): |mean| 0.5; every pattern reaches it
        ([0, 0, 0], [1, 0, 0], 1.0),  # one difference: its sign never changes |mean|
        ([1, 0], [0, 1], 1.0),  # mean 0
        ([0.5, 0.5], [0.5, 0.5], 1.0),
    ],
)
def test_sign_flip_p_exact(a, b, p):
    assert sign_flip_p(a, b) == pytest.approx(p)


def test_sign_flip_p_mixed_signs():
    # d = (-0.5, 1, 0.5), |mean| 1/3: the 8 sums -0.5 s1 + s2 + 0.5 s3 are
    # 1, 0, -1, -2, 2, 1, 0, -1; six reach |sum| >= 1
    assert sign_flip_p([1, 0, 0.5], [0.5, 1, 1]) == pytest.approx(6 / 8)


def test_sign_flip_p_sampled_beyond_the_exact_limit():
    n = EXACT_MAX + 4
    p = sign_flip_p([0.0] * n, [1.0] * n)
    # exact p is 2 / 2^20; with PERMUTATIONS draws about none reach it: p = (hits + 1) / (draws + 1)
    assert 1 / (PERMUTATIONS + 1) <= p <= 3 / (PERMUTATIONS + 1)
    assert sign_flip_p([0.0] * n, [1.0] * n) == p  # fixed seed
    assert sign_flip_p([], []) is None
