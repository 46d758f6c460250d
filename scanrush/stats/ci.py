"""Confidence intervals for go/no-go decisions (simulation.md §5).

The rush is a terminating simulation, so the unit of evidence is the
*replication*: one number per replication, a t-interval over them.  Shoppers
within one replication share queues, outages and the gateway, so they are not
independent trials; pooling them into a Wilson interval understates the
uncertainty (2x in the reference model, §5.2).  Wilson is for genuinely
independent 0/1 outcomes only.  When two scenarios are run with the same seeds
(common random numbers), compare them with ``paired_difference``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from scipy import stats as _stats


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate with a confidence interval.

    With fewer than two replications there is no estimate of spread: the
    bounds are then ``-inf``/``+inf`` (one value) or NaN (no values), never a
    made-up zero width; ``finite`` says whether the interval is usable.
    """

    estimate: float
    low: float
    high: float
    half_width: float
    n: int
    confidence: float
    method: str

    @property
    def finite(self) -> bool:
        """Both bounds are real numbers (at least two replications, no NaN inputs)."""
        return math.isfinite(self.low) and math.isfinite(self.high)

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def excludes_zero(self) -> bool:
        """The interval lies entirely on one side of 0 (the difference is clear)."""
        return self.low > 0.0 or self.high < 0.0


def t_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Two-sided t-interval for the mean of independent replication values.

    ``x̄ ± t_{(1+c)/2, n−1}·s/√n``.  n = 1 gives infinite bounds, n = 0 NaN.
    A NaN among the values (a metric undefined in some replication) makes the
    whole interval NaN rather than silently dropping that replication.
    """
    _check_confidence(confidence)
    half = _t_half_width(values, _t_quantile((1.0 + confidence) / 2.0, len(values) - 1))
    mean = _mean(values)
    return Interval(mean, mean - half, mean + half, half, len(values), confidence, "t")


def one_sided_bounds(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """One-sided t bounds for the mean at ``confidence`` each.

    ``low`` is a one-sided lower bound and ``high`` a one-sided upper bound, each
    holding with probability ``confidence``: ``x̄ ∓ t_{c, n−1}·s/√n``.  (Together
    they form a two-sided interval at ``2c − 1``.)  This is what the three-way
    decision rule needs: GO if ``high < τ``, NO-GO if ``low > τ`` (§5.4).
    """
    _check_confidence(confidence)
    half = _t_half_width(values, _t_quantile(confidence, len(values) - 1))
    mean = _mean(values)
    return Interval(mean, mean - half, mean + half, half, len(values), confidence, "t one-sided")


def wilson(k: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for ``k`` successes in ``n`` *independent* 0/1 trials.

    Only for genuinely independent outcomes: the fraction of replications that
    met an SLA, or fresh requests in a controlled experiment.  Never for
    shoppers pooled within a replication (they share queues and outages; use
    ``t_interval`` over per-replication rates).  ``estimate`` is ``k/n``;
    ``half_width`` is half the (asymmetric) width.  n = 0 gives NaN with bounds
    [0, 1].
    """
    _check_confidence(confidence)
    if not 0 <= k <= n:
        raise ValueError(f"wilson needs 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return Interval(math.nan, 0.0, 1.0, 0.5, 0, confidence, "wilson")
    z = _z_quantile((1.0 + confidence) / 2.0)
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    spread = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    # At k = 0 (k = n) the bound is exactly 0 (1); rounding would leave it an ulp inside.
    low = 0.0 if k == 0 else max(0.0, centre - spread)
    high = 1.0 if k == n else min(1.0, centre + spread)
    return Interval(p, low, high, (high - low) / 2.0, n, confidence, "wilson")


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> Interval:
    """Paired t-interval of ``b − a`` over replications run with the same seeds.

    With common random numbers, replication ``i`` of ``a`` and of ``b`` saw the
    same shoppers, so their difference cancels most of the shared noise
    (25x variance reduction in the reference model, §5.3).  Pairs must be in
    replication order.
    """
    if len(a) != len(b):
        raise ValueError(f"paired_difference needs equal lengths, got {len(a)} and {len(b)}")
    interval = t_interval([y - x for x, y in zip(a, b, strict=True)], confidence)
    return Interval(interval.estimate, interval.low, interval.high, interval.half_width,
                    interval.n, confidence, "paired t")


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


def _t_half_width(values: Sequence[float], quantile: float) -> float:
    n = len(values)
    if n == 0:
        return math.nan
    if n == 1:
        return math.inf if math.isfinite(values[0]) else math.nan
    mean = _mean(values)
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return quantile * math.sqrt(variance / n)


@lru_cache(maxsize=1024)
def _t_quantile(p: float, df: int) -> float:
    # Cached: an aggregate asks for the same (p, df) once per metric.
    if df < 1:
        return math.nan
    return float(_stats.t.ppf(p, df))


@lru_cache(maxsize=64)
def _z_quantile(p: float) -> float:
    return float(_stats.norm.ppf(p))


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")


def quantile_ranks(n: int, q: float, confidence: float = 0.95) -> tuple[int | None, int | None]:
    """Distribution-free one-sided bounds on the ``q``-quantile (0 < q < 1) of i.i.d. samples.

    Returns ranks ``(j, k)`` (1-based order statistics of ``n`` samples) such that
    ``X_(j) ≤ ξ_q`` and ``X_(k) ≥ ξ_q`` each hold with probability at least
    ``confidence``, whatever the distribution: the number of samples below ``ξ_q`` is
    Binomial(n, q) (stochastically at most that with ties), so ``k − 1`` is its
    ``confidence`` quantile and ``j − 1`` the largest count whose CDF stays ≤ 1 − confidence.
    ``None`` where ``n`` is too small for a bound on that side (e.g. the p99 upper bound
    of 50 samples at 95%).
    """
    _check_confidence(confidence)
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must lie strictly between 0 and 1, got {q!r}")
    if n < 1:
        return None, None
    alpha = 1.0 - confidence
    upper = int(_stats.binom.ppf(confidence, n, q)) + 1
    below = int(_stats.binom.ppf(alpha, n, q))
    if _stats.binom.cdf(below, n, q) > alpha:
        below -= 1  # ppf is the smallest count whose CDF reaches alpha; we need it not to exceed alpha
    lower = below + 1
    return (lower if lower >= 1 else None), (upper if upper <= n else None)
