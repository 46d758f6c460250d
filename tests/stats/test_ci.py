"""Confidence intervals: known values, honest edge cases, coverage, and the CRN payoff."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from scanrush.stats.ci import Interval, one_sided_bounds, paired_difference, t_interval, wilson


def test_t_interval_known_value() -> None:
    ci = t_interval([1, 2, 3, 4, 5])
    # mean 3, s = sqrt(2.5), t_{0.975,4} = 2.776445 -> half width 1.963243
    assert ci.estimate == 3.0
    assert ci.half_width == pytest.approx(1.9632432, rel=1e-7)
    assert (ci.low, ci.high) == pytest.approx((1.0367568, 4.9632432), rel=1e-7)
    assert (ci.n, ci.confidence, ci.method) == (5, 0.95, "t")
    assert ci.finite
    assert ci.contains(3.0)
    assert ci.excludes_zero()


def test_t_interval_other_confidence() -> None:
    ci = t_interval([1, 2, 3, 4, 5], confidence=0.99)
    assert ci.half_width == pytest.approx(4.604094871 * math.sqrt(2.5 / 5), rel=1e-8)


def test_t_interval_matches_scipy() -> None:
    values = np.random.default_rng(11).normal(10, 3, 17)
    low, high = stats.t.interval(0.9, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    ci = t_interval(list(values), 0.9)
    assert (ci.low, ci.high) == pytest.approx((low, high), rel=1e-12)


def test_t_interval_with_one_value_has_infinite_bounds() -> None:
    ci = t_interval([0.97])
    assert ci.estimate == 0.97
    assert (ci.low, ci.high, ci.half_width) == (-math.inf, math.inf, math.inf)
    assert not ci.finite
    assert not ci.excludes_zero()


def test_t_interval_with_no_values_is_nan() -> None:
    ci = t_interval([])
    assert ci.n == 0
    assert all(math.isnan(x) for x in (ci.estimate, ci.low, ci.high, ci.half_width))
    assert not ci.finite


def test_nan_replication_makes_the_interval_nan() -> None:
    ci = t_interval([0.9, math.nan, 0.95])
    assert math.isnan(ci.estimate)
    assert math.isnan(ci.low)
    assert not ci.finite


def test_identical_values_give_zero_width() -> None:
    ci = t_interval([0.0] * 10)
    assert (ci.estimate, ci.low, ci.high, ci.half_width) == (0.0, 0.0, 0.0, 0.0)


def test_one_sided_bounds_known_value() -> None:
    ci = one_sided_bounds([1, 2, 3, 4, 5], 0.95)
    # t_{0.95,4} = 2.131847 -> half width 1.507443
    assert ci.low == pytest.approx(3 - 1.5074433, rel=1e-7)
    assert ci.high == pytest.approx(3 + 1.5074433, rel=1e-7)
    assert ci.method == "t one-sided"
    two_sided = t_interval([1, 2, 3, 4, 5], 0.90)
    assert (ci.low, ci.high) == pytest.approx((two_sided.low, two_sided.high))


def test_one_sided_bounds_edge_cases() -> None:
    assert one_sided_bounds([2.0]).high == math.inf
    assert math.isnan(one_sided_bounds([]).high)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (5, 10, 0.2365931, 0.7634069),
        (0, 40, 0.0, 0.0876216),  # simulation.md §5.2: "0/40 days ... Wilson [0, 0.088]"
        (40, 40, 0.9123784, 1.0),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_known_values(k: int, n: int, low: float, high: float) -> None:
    ci = wilson(k, n)
    assert ci.low == pytest.approx(low, abs=1e-4)
    assert ci.high == pytest.approx(high, abs=1e-4)
    assert ci.estimate == k / n
    assert ci.method == "wilson"


def test_wilson_edge_cases_and_validation() -> None:
    empty = wilson(0, 0)
    assert math.isnan(empty.estimate)
    assert (empty.low, empty.high) == (0.0, 1.0)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson(5, 4)
    for n in (1, 7, 1358, 10**6):  # none observed: the bound is 0 itself, so it overlaps an exact 0
        assert wilson(0, n).low == 0.0
        assert wilson(n, n).high == 1.0
    with pytest.raises(ValueError, match="confidence"):
        wilson(1, 4, confidence=95)


@pytest.mark.slow
def test_t_interval_coverage_is_nominal() -> None:
    trials, true_mean = 2000, 4.2
    rng = np.random.default_rng(20261212)
    covered = sum(t_interval(list(rng.normal(true_mean, 1.7, 10))).contains(true_mean) for _ in range(trials))
    se = math.sqrt(0.95 * 0.05 / trials)
    assert 0.94 - 3 * se <= covered / trials <= 0.96 + 3 * se


def test_paired_difference_is_narrower_for_correlated_pairs() -> None:
    rng = np.random.default_rng(3)
    shared = rng.normal(0.0, 5.0, 30)  # the same shoppers in both scenarios
    a = shared + rng.normal(0.0, 0.5, 30)
    b = shared + 0.8 + rng.normal(0.0, 0.5, 30)
    paired = paired_difference(list(a), list(b))
    unpaired = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert paired.method == "paired t"
    assert paired.estimate == pytest.approx(float(np.mean(b - a)))
    assert paired.half_width < (unpaired.high - unpaired.low) / 2 / 5
    assert paired.excludes_zero()
    assert paired.low > 0


def test_paired_difference_is_b_minus_a_and_checks_lengths() -> None:
    d = paired_difference([1.0, 2.0, 3.0], [2.0, 4.0, 6.0])
    assert d.estimate == 2.0
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1.0], [1.0, 2.0])


def test_interval_is_frozen() -> None:
    ci = Interval(1.0, 0.0, 2.0, 1.0, 5, 0.95, "t")
    with pytest.raises(AttributeError):
        ci.low = 3.0  # type: ignore[misc]
