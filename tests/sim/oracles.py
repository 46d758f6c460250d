"""Exact queueing results the simulator is checked against (simulation.md §3).

Pure Python, no numpy: each function is a formula from §3, small enough to read
next to the reference.  Times and rates are in whatever unit the caller uses,
as long as it is the same one throughout (the tests use minutes).

* M/M/c: Erlang B by the stable recursion, Erlang C, E[Wq], P(Wq > t), Wq
  quantiles, Lq and L by Little's law (§3.1, §3.2).
* M/M/c/K: the truncated birth-death chain (§3.3).
* Erlang-A (M/M/c+M): the birth-death chain with abandonment, solved in log
  space so large λ/θ cannot overflow (§3.4).
* Time-varying arrivals: the Poisson mean Λ(a, b) of a piecewise-linear rate,
  and the M_t/M/∞ mean m(t) (Eick, Massey & Whitt 1993) (§3.6).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

RatePoints = Sequence[tuple[float, float]]
"""``[(t0, rate0), (t1, rate1), ...]``: linear between points, flat after the last (like a scenario)."""


# --------------------------------------------------------------------------- M/M/c


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``a`` = λ/μ.

    The recursion B(k) = a·B(k−1)/(k + a·B(k−1)) never forms a! or a^c, so it
    stays accurate for hundreds of servers where the textbook sum overflows.
    """
    if c < 0 or a < 0:
        raise ValueError(f"need c >= 0 and a >= 0, got c={c}, a={a}")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """P(an arrival waits) in a stable M/M/c: C = c·B / (c − a(1 − B))."""
    _require_stable(c, a)
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_mean_wait(c: int, lam: float, mu: float) -> float:
    """E[Wq] over all arrivals: C / (cμ − λ)."""
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_wait_tail(c: int, lam: float, mu: float, t: float) -> float:
    """P(Wq > t) = C·exp(−(cμ − λ)t) for t ≥ 0 (FCFS)."""
    return erlang_c(c, lam / mu) * math.exp(-(c * mu - lam) * t)


def mmc_wait_quantile(c: int, lam: float, mu: float, q: float) -> float:
    """The q-quantile of Wq: 0 inside the atom at zero (q ≤ 1 − C), else ln(C/(1−q))/(cμ−λ)."""
    if not 0.0 <= q < 1.0:
        raise ValueError(f"quantile level must be in [0, 1), got {q}")
    waits = erlang_c(c, lam / mu)
    if q <= 1.0 - waits:
        return 0.0
    return math.log(waits / (1.0 - q)) / (c * mu - lam)


def mmc_queue_length(c: int, lam: float, mu: float) -> float:
    """Lq = λ·E[Wq] (Little)."""
    return lam * mmc_mean_wait(c, lam, mu)


def mmc_in_system(c: int, lam: float, mu: float) -> float:
    """L = Lq + λ/μ (Little, applied to the queue and to the servers)."""
    return mmc_queue_length(c, lam, mu) + lam / mu


def _require_stable(c: int, a: float) -> None:
    if c < 1 or not 0.0 <= a < c:
        raise ValueError(f"M/M/c needs c >= 1 and 0 <= a < c for a steady state, got c={c}, a={a}")


# --------------------------------------------------------------------------- birth-death chains


def _log_stationary(c: int, lam: float, mu: float, theta: float, top: int) -> list[float]:
    """Normalised log π_n, n = 0..top, for birth rate λ and death rate min(n,c)μ + max(n−c,0)θ."""
    logs = [0.0]
    log_lam = math.log(lam)
    for n in range(1, top + 1):
        death = min(n, c) * mu + max(n - c, 0) * theta
        logs.append(logs[-1] + log_lam - math.log(death))
    peak = max(logs)
    log_total = peak + math.log(math.fsum(math.exp(x - peak) for x in logs))
    return [x - log_total for x in logs]


@dataclass(frozen=True)
class ErlangA:
    """Steady state of M/M/c+M; probabilities are per arrival (PASTA)."""

    p_wait: float
    """P(an arrival finds all c servers busy)."""
    p_abandon: float
    """θ·E[Lq]/λ: the abandonment rate over the arrival rate (rate balance)."""
    mean_wait: float
    """E[Wq] over all arrivals (abandoners count their time in queue): E[Lq]/λ."""
    mean_queue: float
    truncated_mass: float
    """π_N at the truncation point; should be ~0, else raise N."""


def erlang_a(c: int, lam: float, mu: float, theta: float, top: int | None = None) -> ErlangA:
    """M/M/c with Exp(θ) patience, by the birth-death chain truncated at N = c + 50 + 20λ/θ."""
    if c < 1 or lam <= 0 or mu <= 0 or theta <= 0:
        raise ValueError("Erlang-A needs c >= 1 and positive λ, μ, θ")
    n_max = top if top is not None else c + 50 + math.ceil(20 * lam / theta)
    pi = [math.exp(x) for x in _log_stationary(c, lam, mu, theta, n_max)]
    p_wait = math.fsum(pi[c:])
    mean_queue = math.fsum((n - c) * p for n, p in enumerate(pi) if n > c)
    return ErlangA(
        p_wait=p_wait,
        p_abandon=theta * mean_queue / lam,
        mean_wait=mean_queue / lam,
        mean_queue=mean_queue,
        truncated_mass=pi[-1],
    )


@dataclass(frozen=True)
class FiniteQueue:
    """Steady state of M/M/c/K (K = servers + waiting places); probabilities per arrival."""

    p_block: float
    """P(an arrival finds K in the system and is turned away)."""
    p_wait: float
    """P(an arrival finds c..K−1 in the system): admitted, but has to queue."""
    mean_wait_admitted: float
    """E[Wq | admitted] = E[Lq] / (λ(1 − P(block)))."""


def mmck(c: int, capacity: int, lam: float, mu: float) -> FiniteQueue:
    """M/M/c/K: no abandonment, so the chain is the Erlang-A one with θ = 0, cut at K."""
    if capacity < c:
        raise ValueError(f"K must be at least c, got K={capacity}, c={c}")
    logs = [0.0]
    for n in range(1, capacity + 1):
        logs.append(logs[-1] + math.log(lam) - math.log(min(n, c) * mu))
    peak = max(logs)
    weights = [math.exp(x - peak) for x in logs]
    total = math.fsum(weights)
    pi = [w / total for w in weights]
    p_block = pi[capacity]
    mean_queue = math.fsum((n - c) * p for n, p in enumerate(pi) if n > c)
    return FiniteQueue(
        p_block=p_block,
        p_wait=math.fsum(pi[c:capacity]),
        mean_wait_admitted=mean_queue / (lam * (1.0 - p_block)),
    )


# --------------------------------------------------------------------------- time-varying arrivals


def rate_at(points: RatePoints, t: float) -> float:
    """λ(t) of a piecewise-linear profile: linear between points, flat before the first and after the last."""
    times = [p[0] for p in points]
    i = bisect.bisect_right(times, t) - 1
    if i < 0:
        return points[0][1]
    if i >= len(points) - 1:
        return points[-1][1]
    (t0, r0), (t1, r1) = points[i], points[i + 1]
    return r0 + (r1 - r0) * (t - t0) / (t1 - t0) if t1 > t0 else r1


def _knots(points: RatePoints, a: float, b: float) -> list[float]:
    """``a``, ``b`` and every profile point between them: λ is linear on each gap."""
    return sorted({a, b, *(t for t, _ in points if a < t < b)})


def poisson_mean(points: RatePoints, a: float, b: float) -> float:
    """Λ(a, b) = ∫_a^b λ(u) du, exactly (the trapezoid rule is exact on linear pieces).

    N(a, b) of an NHPP, hence of correct thinning, is Poisson with this mean.
    """
    knots = _knots(points, a, b)
    return math.fsum((rate_at(points, u) + rate_at(points, v)) / 2.0 * (v - u)
                     for u, v in itertools.pairwise(knots))


def simpson(f: Callable[[float], float], a: float, b: float, intervals: int = 256) -> float:
    """Composite Simpson's rule (``intervals`` is rounded up to an even number)."""
    n = intervals + intervals % 2
    h = (b - a) / n
    inner = math.fsum((4.0 if k % 2 else 2.0) * f(a + k * h) for k in range(1, n))
    return h / 3.0 * (f(a) + inner + f(b))


def mt_infinity_mean(points: RatePoints, mu: float, t: float) -> float:
    """m(t) = ∫₀ᵗ λ(u)·e^{−μ(t−u)} du: mean number in an M_t/M/∞ system that starts empty.

    The number in system at t is Poisson with this mean (Eick, Massey & Whitt
    1993).  Integrated numerically piece by piece: the integrand is smooth on
    each linear piece of λ, where Simpson's error (~h⁴·μ⁴) is negligible.
    """
    def integrand(u: float) -> float:
        return rate_at(points, u) * math.exp(-mu * (t - u))

    knots = _knots(points, 0.0, t)
    return math.fsum(simpson(integrand, u, v) for u, v in itertools.pairwise(knots))


# --------------------------------------------------------------------------- the §3.6 test profile

RUSH_RATE: tuple[tuple[float, float], ...] = ((0.0, 2.0), (60.0, 2.0), (90.0, 12.0), (120.0, 12.0), (180.0, 2.0))
"""simulation.md §3.6 ``rush_rate`` (minutes, per minute): 2/min, ramp to 12/min over 60–90,
flat to 120, back down by 180, then 2/min to the end (240)."""
