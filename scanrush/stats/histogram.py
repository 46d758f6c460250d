"""A mergeable, log-bucketed histogram of durations with bounded relative error.

Locust rounds latencies to about two significant digits before it computes
percentiles, which can flip a gate that sits near its threshold
(load-testing.md §0 item 4).  We keep our own histogram instead:

* bucket ``i`` covers ``[LOW·G**i, LOW·G**(i+1))`` with ``G = 1.001``, i.e. the
  index is ``floor(ln(v/LOW)·K)`` with ``K = 1/ln(G)``; a bucket's representative
  is its geometric midpoint, within 0.05% of every value in it (≤0.1% promised);
* ``LOW = 1e-4`` s to ``HIGH = 1e5`` s: 20,734 buckets in a fixed-size list,
  so memory does not grow with the number of samples;
* exact zeros (a shopper who did not queue at all) are counted on their own, so
  ``P(value == 0)`` is exact; ``0 < v < LOW`` goes to an underflow bucket and
  ``v ≥ EDGE`` (1e5 rounded up to a bucket edge) to an overflow bucket;
* count, sum (hence the mean), min and max are kept from the raw values.

``record`` runs about a million times per replication, so its fast path is one
comparison, a log, a truncation to int and a list increment (plus the running
sum, min and max), with the constants in module globals rather than on ``self``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from operator import add
from typing import Any

LOW = 1e-4
"""Smallest value with its own bucket (seconds)."""
HIGH = 1e5
"""Nominal top of the range (seconds); overflow starts at the next bucket edge, ``EDGE``."""
GROWTH = 1.001
"""Ratio between successive bucket edges: the relative resolution."""

# ln(v/LOW)/ln(G) == log2(v/LOW)/log2(G): log2 is used because math.log (which takes an
# optional base) costs ~70 ns a call on CPython 3.11 and math.log2 ~25 ns.
_K2 = 1.0 / math.log2(GROWTH)
_LOG2_LOW = math.log2(LOW)
_NBUCKETS = math.ceil(math.log(HIGH / LOW) / math.log(GROWTH))
EDGE = LOW * GROWTH**_NBUCKETS
"""Upper edge of the last bucket (≈1.0004e5 s): values at or above it overflow."""
_log2 = math.log2


class Histogram:
    """Durations in seconds: ``record`` them, then ask for percentiles, the mean, the CDF.

    Percentiles use the inverted-CDF definition (``numpy.percentile(...,
    method="inverted_cdf")``): the smallest recorded value ``x`` such that at
    least ``q``% of the samples are ``≤ x``; the answer is that sample's bucket
    representative (within 0.05%), clamped to the exact ``[min, max]``, and the
    exact min or max when ``x`` is the first or last sample.  Zeros are exact;
    other values below ``LOW`` are reported as ``LOW`` (or the max, if smaller),
    values at or above ``EDGE`` as the exact max.
    """

    __slots__ = ("_counts", "_max", "_min", "_over", "_sum", "_under", "_zeros")

    def __init__(self) -> None:
        self._counts: list[int] = [0] * _NBUCKETS
        self._zeros = 0
        self._under = 0
        self._over = 0
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf

    # -- recording ---------------------------------------------------------------

    def record(self, v: float) -> None:
        """Add one duration (seconds, ``≥ 0`` and finite)."""
        # Hot path. One comparison (a chained ``LOW <= v < HIGH`` costs ~30 ns more);
        # the top of the range is found by the list's own IndexError, which is free in
        # 3.11 until raised.  ``float.__trunc__`` is ~40 ns cheaper than ``int()`` and
        # truncates toward 0, so a rounding error of -1e-16 at v == LOW cannot wrap to
        # index -1 as ``floor`` would.
        if v >= LOW:
            try:
                self._counts[((_log2(v) - _LOG2_LOW) * _K2).__trunc__()] += 1
            except (IndexError, OverflowError):
                self._record_outside(v, 1)
                return
            self._sum += v
            # Plain ifs, not min()/max(): a builtin call would cost more than the compare.
            if v < self._min:  # noqa: PLR1730
                self._min = v
            if v > self._max:  # noqa: PLR1730
                self._max = v
        elif v == 0.0:  # common (no queue at all), so kept off the slow path too
            self._zeros += 1
            self._min = 0.0
            if self._max < 0.0:  # noqa: PLR1730  (only while empty: max starts at -inf)
                self._max = 0.0
        else:
            self._record_outside(v, 1)

    def record_n(self, v: float, n: int) -> None:
        """Add the same duration ``n`` times (``n ≥ 0``)."""
        if n < 0:
            raise ValueError(f"record_n needs n >= 0, got {n}")
        if n == 0:
            return
        if LOW <= v < EDGE:
            index = min(((_log2(v) - _LOG2_LOW) * _K2).__trunc__(), _NBUCKETS - 1)
            self._counts[index] += n
            self._note(v, n)
        else:
            self._record_outside(v, n)

    def _record_outside(self, v: float, n: int) -> None:
        # Off the fast path: zeros, underflow, overflow, and bad input.
        if v == 0.0:
            self._zeros += n
        elif 0.0 < v < LOW:
            self._under += n
        elif LOW <= v < math.inf:
            self._over += n
        else:
            raise ValueError(f"a duration must be >= 0 and finite, got {v!r}")
        self._note(v, n)

    def _note(self, v: float, n: int) -> None:
        self._sum += v * n
        self._min = min(self._min, v)
        self._max = max(self._max, v)

    def merge(self, other: Histogram) -> Histogram:
        """Add every sample of ``other`` into this histogram; returns ``self``."""
        self._counts = list(map(add, self._counts, other._counts))
        self._zeros += other._zeros
        self._under += other._under
        self._over += other._over
        self._sum += other._sum
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)
        return self

    @classmethod
    def merged(cls, histograms: Iterable[Histogram]) -> Histogram:
        """A new histogram holding the samples of all ``histograms``."""
        total = cls()
        for histogram in histograms:
            total.merge(histogram)
        return total

    def copy(self) -> Histogram:
        return Histogram().merge(self)

    # -- summary statistics ------------------------------------------------------

    @property
    def count(self) -> int:
        return self._zeros + self._under + self._over + sum(self._counts)

    @property
    def zeros(self) -> int:
        """How many samples were exactly 0."""
        return self._zeros

    @property
    def sum(self) -> float:
        """Sum of the recorded values themselves (not of bucket representatives)."""
        return self._sum

    @property
    def mean(self) -> float:
        """Exact mean of the recorded values; NaN when empty."""
        n = self.count
        return self._sum / n if n else math.nan

    @property
    def min(self) -> float:
        """Exact smallest value; NaN when empty."""
        return self._min if self._min != math.inf else math.nan

    @property
    def max(self) -> float:
        """Exact largest value; NaN when empty."""
        return self._max if self._max != -math.inf else math.nan

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (``0 ≤ q ≤ 100``); NaN when empty."""
        return self.percentiles([q])[0]

    def percentiles(self, qs: Sequence[float]) -> list[float]:
        """Several percentiles in one pass over the buckets (same definition as ``percentile``)."""
        for q in qs:
            if not 0.0 <= q <= 100.0:
                raise ValueError(f"a percentile must be within 0..100, got {q!r}")
        n = self.count
        if n == 0 or not qs:
            return [math.nan] * len(qs)
        # Same arithmetic as numpy's inverted_cdf: rank = ceil(n * (q/100)), at least 1.
        ranks = sorted((max(1, math.ceil(n * (q / 100.0))), i) for i, q in enumerate(qs))
        out = [math.nan] * len(qs)
        pending = iter(ranks)
        rank, slot = next(pending)
        for value, cumulative in self._cumulative():
            while rank <= cumulative:
                # The first and last order statistics are known exactly.
                out[slot] = self._min if rank == 1 else self._max if rank == n else value
                step = next(pending, None)
                if step is None:
                    return out
                rank, slot = step
        return out  # unreachable: the last cumulative count is n

    def fraction_above(self, t: float) -> float:
        """Share of samples greater than ``t`` (seconds); NaN when empty.

        Exact at 0 (zeros are counted exactly) and beyond the exact min/max;
        elsewhere a sample counts as above ``t`` when its bucket representative
        is, so the answer can be off by the samples of the one bucket holding ``t``
        (values within 0.1% of ``t``).  Consistent with ``percentile``:
        ``fraction_above(percentile(q)) ≤ 1 − q/100``.
        """
        n = self.count
        if n == 0:
            return math.nan
        below = 0
        for value, cumulative in self._cumulative():
            if value > t:
                break
            below = cumulative
        return (n - below) / n

    def cdf_points(self) -> list[tuple[float, float]]:
        """``(value, P(X ≤ value))`` at each non-empty bucket, for plotting a CDF."""
        n = self.count
        return [(value, cumulative / n) for value, cumulative in self._cumulative()]

    def _cumulative(self) -> Iterable[tuple[float, int]]:
        """(representative value, cumulative count) for each non-empty bucket, ascending."""
        lo, hi = self._min, self._max
        cumulative = self._zeros
        if cumulative:
            yield 0.0, cumulative
        if self._under:
            cumulative += self._under
            yield min(LOW, hi), cumulative
        for index, c in enumerate(self._counts):
            if c:
                cumulative += c
                yield min(max(representative(index), lo), hi), cumulative
        if self._over:
            yield hi, cumulative + self._over

    # -- serialisation -----------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Sparse, JSON-ready form: only non-empty buckets, as ``[index, count]`` pairs."""
        empty = self.count == 0
        return {
            "low": LOW,
            "high": HIGH,
            "growth": GROWTH,
            "count": self.count,
            "zeros": self._zeros,
            "underflow": self._under,
            "overflow": self._over,
            "sum": self._sum,
            "min": None if empty else self._min,
            "max": None if empty else self._max,
            "buckets": [[i, c] for i, c in enumerate(self._counts) if c],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        """Inverse of ``to_dict``; ``ValueError`` if the bucket scheme or the counts do not fit."""
        scheme = (data["low"], data["high"], data["growth"])
        if scheme != (LOW, HIGH, GROWTH):
            raise ValueError(f"histogram bucket scheme {scheme} is not this version's {(LOW, HIGH, GROWTH)}")
        h = cls()
        for index, c in data["buckets"]:
            if not (isinstance(index, int) and 0 <= index < _NBUCKETS and isinstance(c, int) and c > 0):
                raise ValueError(f"bad histogram bucket [{index!r}, {c!r}]")
            h._counts[index] += c
        h._zeros, h._under, h._over = _count(data["zeros"]), _count(data["underflow"]), _count(data["overflow"])
        h._sum = float(data["sum"])
        if h.count != data["count"]:
            raise ValueError(f"histogram count {data['count']!r} does not match its buckets ({h.count})")
        if h.count:
            h._min, h._max = float(data["min"]), float(data["max"])
        return h

    def __getstate__(self) -> tuple[list[tuple[int, int]], int, int, int, float, float, float]:
        # Sparse for pickling: replications cross process boundaries in a pool.
        sparse = [(i, c) for i, c in enumerate(self._counts) if c]
        return sparse, self._zeros, self._under, self._over, self._sum, self._min, self._max

    def __setstate__(self, state: tuple[list[tuple[int, int]], int, int, int, float, float, float]) -> None:
        sparse, self._zeros, self._under, self._over, self._sum, self._min, self._max = state
        self._counts = [0] * _NBUCKETS
        for index, c in sparse:
            self._counts[index] = c

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Histogram(count={self.count}, mean={self.mean:.6g}, p50={self.percentile(50):.6g})"


def representative(index: int) -> float:
    """Geometric midpoint of bucket ``index``: within √1.001−1 ≈ 0.05% of any value in it."""
    return float(2.0 ** (_LOG2_LOW + (index + 0.5) / _K2))


def bucket_bounds(index: int) -> tuple[float, float]:
    """``[lower, upper)`` edges of bucket ``index`` (seconds)."""
    return float(2.0 ** (_LOG2_LOW + index / _K2)), float(2.0 ** (_LOG2_LOW + (index + 1) / _K2))


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"a histogram count must be a non-negative integer, got {value!r}")
    return value
