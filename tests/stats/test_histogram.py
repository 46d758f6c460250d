"""Histogram: percentiles within 0.1% of numpy's, exact zeros, merge, round trip, bounded memory."""

from __future__ import annotations

import itertools
import json
import math
import pickle
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanrush.stats.histogram import EDGE, GROWTH, LOW, Histogram, bucket_bounds, representative

QS = [0, 0.1, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.9, 100]
in_range = st.floats(min_value=LOW, max_value=1e4, allow_nan=False, allow_infinity=False)


def filled(values: list[float] | np.ndarray) -> Histogram:
    h = Histogram()
    for v in values:
        h.record(float(v))
    return h


def assert_close(got: float, expected: float, rel: float = 1e-3) -> None:
    assert abs(got - expected) <= rel * abs(expected), (got, expected, abs(got - expected) / abs(expected))


@pytest.mark.parametrize("seed", range(4))
def test_percentiles_within_0_1_percent_of_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    data = np.concatenate([rng.lognormal(0.0, 1.5, 20_000), rng.exponential(0.08, 5_000), rng.uniform(1, 600, 5_000)])
    h = filled(data)
    for q in QS:
        assert_close(h.percentile(q), float(np.percentile(data, q, method="inverted_cdf")))


@settings(max_examples=200, deadline=None)
@given(st.lists(in_range, min_size=1, max_size=300), st.floats(min_value=0, max_value=100))
def test_percentile_property(values: list[float], q: float) -> None:
    h = filled(values)
    assert_close(h.percentile(q), float(np.percentile(values, q, method="inverted_cdf")))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.just(0.0), in_range), min_size=1, max_size=200))
def test_zeros_are_exact(values: list[float]) -> None:
    h = filled(values)
    zeros = sum(1 for v in values if v == 0.0)
    assert h.zeros == zeros
    assert h.count == len(values)
    assert h.fraction_above(0.0) == (len(values) - zeros) / len(values)
    for q in QS:
        expected = float(np.percentile(values, q, method="inverted_cdf"))
        got = h.percentile(q)
        if expected == 0.0:
            assert got == 0.0
        else:
            assert_close(got, expected)


def test_percentile_zero_and_hundred_are_the_exact_min_and_max() -> None:
    data = np.random.default_rng(7).lognormal(0, 1, 1000)
    h = filled(data)
    assert h.percentile(0) == data.min() == h.min
    assert h.percentile(100) == data.max() == h.max


def test_count_mean_min_max_are_exact() -> None:
    data = [0.0, 0.5, 1.25, 3.0, 7.5]
    h = filled(data)
    assert h.count == 5
    assert h.sum == pytest.approx(sum(data), rel=1e-15)
    assert h.mean == pytest.approx(sum(data) / 5, rel=1e-15)
    assert (h.min, h.max) == (0.0, 7.5)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.just(0.0), in_range), max_size=100),
       st.lists(st.one_of(st.just(0.0), in_range), max_size=100))
def test_merge_equals_recording_everything(a: list[float], b: list[float]) -> None:
    merged = filled(a).merge(filled(b))
    together = filled(a + b)
    assert merged.to_dict()["buckets"] == together.to_dict()["buckets"]
    assert (merged.count, merged.zeros) == (together.count, together.zeros)
    assert merged.sum == pytest.approx(together.sum, rel=1e-12, abs=1e-12)
    if a or b:
        assert (merged.min, merged.max) == (together.min, together.max)
        assert merged.percentiles(QS) == together.percentiles(QS)


def test_merged_classmethod_and_copy() -> None:
    parts = [filled([1.0, 2.0]), filled([3.0]), Histogram()]
    total = Histogram.merged(parts)
    assert total.count == 3
    assert parts[0].count == 2  # inputs untouched
    clone = total.copy()
    clone.record(4.0)
    assert (total.count, clone.count) == (3, 4)


def test_record_n_equals_repeated_record() -> None:
    a, b = Histogram(), Histogram()
    for v, n in [(0.0, 3), (5e-5, 2), (0.25, 4), (2e5, 1), (1.0, 0)]:
        a.record_n(v, n)
        for _ in range(n):
            b.record(v)
    assert a == b
    with pytest.raises(ValueError, match="n >= 0"):
        a.record_n(1.0, -1)


def test_underflow_and_overflow() -> None:
    h = filled([5e-5, 2e-5, 1.0, 2e5, 3e5])
    d = h.to_dict()
    assert (d["underflow"], d["overflow"], h.count) == (2, 2, 5)
    assert h.percentile(20) == 2e-5  # the first order statistic is the exact min
    assert h.percentile(40) == LOW  # other underflow values are reported as "below 0.1 ms"
    assert h.percentile(100) == 3e5  # overflow is reported as the exact max
    assert h.min == 2e-5
    assert pytest.approx(1e5, rel=1e-3) == EDGE


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, -math.inf])
def test_rejects_values_that_are_not_durations(bad: float) -> None:
    h = Histogram()
    with pytest.raises(ValueError, match="duration"):
        h.record(bad)
    with pytest.raises(ValueError, match="duration"):
        h.record_n(bad, 2)
    assert h.count == 0
    assert h.sum == 0.0


def test_every_value_lands_in_a_bucket_that_contains_it() -> None:
    for v in np.geomspace(LOW, 9.99e4, 5000):
        h = filled([float(v)])
        (index, _), = h.to_dict()["buckets"]
        low, high = bucket_bounds(index)
        assert low * (1 - 1e-12) <= v < high * (1 + 1e-12)
        assert abs(representative(index) - v) <= 5.0001e-4 * v
    assert bucket_bounds(0)[1] / bucket_bounds(0)[0] == pytest.approx(GROWTH)


def test_fraction_above() -> None:
    data = np.random.default_rng(3).exponential(10.0, 10_000)
    h = filled(data)
    for t in (0.5, 5.0, 10.0, 30.0, 60.0):
        exact = float(np.mean(data > t))
        near = float(np.mean(np.abs(data - t) <= 1e-3 * t))  # samples sharing t's bucket
        assert abs(h.fraction_above(t) - exact) <= near + 1e-12
    assert h.fraction_above(-1.0) == 1.0
    assert h.fraction_above(h.max) == 0.0
    assert math.isnan(Histogram().fraction_above(1.0))


def test_fraction_above_agrees_with_percentile() -> None:
    data = np.random.default_rng(5).lognormal(1, 1, 3000)
    h = filled(data)
    for q in (50, 90, 95, 99):
        assert h.fraction_above(h.percentile(q)) <= 1 - q / 100 + 1e-12


def test_cdf_points_are_monotone_and_end_at_one() -> None:
    h = filled([0.0, 0.0, 1.0, 2.0, 2.0, 10.0])
    points = h.cdf_points()
    assert points[0] == pytest.approx((0.0, 2 / 6))
    assert points[-1][1] == 1.0
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in itertools.pairwise(points))
    assert Histogram().cdf_points() == []


def test_empty_histogram_answers_nan() -> None:
    h = Histogram()
    assert h.count == 0
    assert all(math.isnan(x) for x in (h.mean, h.min, h.max, h.percentile(50)))
    assert Histogram.from_dict(json.loads(json.dumps(h.to_dict()))) == h


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e6)), max_size=100))
def test_json_round_trip(values: list[float]) -> None:
    h = filled(values)
    back = Histogram.from_dict(json.loads(json.dumps(h.to_dict())))
    assert back == h
    assert back.sum == h.sum
    assert back.percentiles(QS) == h.percentiles(QS)


def test_to_dict_is_sparse_and_memory_is_bounded() -> None:
    h = filled([1.0, 1.0, 2.0])
    assert h.to_dict()["buckets"] == [[next(iter(filled([1.0]).to_dict()["buckets"]))[0], 2],
                                      [next(iter(filled([2.0]).to_dict()["buckets"]))[0], 1]]
    size_before = sys.getsizeof(h._counts)
    h.record_n(3.0, 10**6)
    for v in np.random.default_rng(1).uniform(1, 2, 10_000):
        h.record(float(v))
    assert sys.getsizeof(h._counts) == size_before  # a fixed list of bucket counts, not samples
    assert len(h.to_dict()["buckets"]) <= 700  # [1, 2] spans ln 2 / ln 1.001 ≈ 694 buckets, plus 3.0


def test_from_dict_rejects_other_schemes_and_inconsistent_counts() -> None:
    d = filled([1.0, 2.0]).to_dict()
    with pytest.raises(ValueError, match="scheme"):
        Histogram.from_dict({**d, "growth": 1.01})
    with pytest.raises(ValueError, match="count"):
        Histogram.from_dict({**d, "count": 3})
    with pytest.raises(ValueError, match="bucket"):
        Histogram.from_dict({**d, "buckets": [[10**9, 1]]})


def test_pickles_for_process_pools() -> None:
    h = filled([0.0, 0.3, 4.0, 2e5])
    assert pickle.loads(pickle.dumps(h)) == h


def test_percentile_rejects_out_of_range_q() -> None:
    with pytest.raises(ValueError, match=r"0\.\.100"):
        filled([1.0]).percentile(101)


def test_pickle_is_sparse() -> None:
    assert len(pickle.dumps(filled([0.1, 1.0, 10.0]))) < 500
