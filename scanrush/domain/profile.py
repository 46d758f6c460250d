"""The rush profile and the risk schedule as pure functions of time.

The simulator's arrival process and the live load shape both call these, so a
profile is never written twice.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator, Sequence

import numpy as np

from scanrush.scenario.schema import ArrivalPoint, Risk


class RushProfile:
    """Arrival rate (shoppers per second) at time t, linear between points, flat after the last."""

    def __init__(self, points: Sequence[ArrivalPoint]) -> None:
        self._times = [p.at for p in points]
        self._rates = [p.rate for p in points]

    def rate_at(self, t: float) -> float:
        index = bisect.bisect_right(self._times, t) - 1
        if index < 0:
            return self._rates[0]
        if index >= len(self._times) - 1:
            return self._rates[-1]
        t0, t1 = self._times[index], self._times[index + 1]
        r0, r1 = self._rates[index], self._rates[index + 1]
        return r0 + (r1 - r0) * (t - t0) / (t1 - t0) if t1 > t0 else r1

    def piece(self, t: float) -> tuple[float, float, float, float, float, float]:
        """The linear piece of the profile around ``t``: ``(start, end, t0, r0, dr, dt)``.

        For every ``start <= u < end``, ``rate_at(u) == r0 + dr * (u - t0) / dt`` exactly (the same
        float operations in the same order); a flat piece has ``dr == 0`` and ``dt == 1``, ``t0 == start``.
        """
        times, rates = self._times, self._rates
        index = bisect.bisect_right(times, t) - 1
        if index < 0:
            return -math.inf, times[0], times[0], rates[0], 0.0, 1.0
        if index >= len(times) - 1:
            return times[-1], math.inf, times[-1], rates[-1], 0.0, 1.0
        t0, t1 = times[index], times[index + 1]
        r0, r1 = rates[index], rates[index + 1]
        if t1 > t0:
            return t0, t1, t0, r0, r1 - r0, t1 - t0
        return t0, t1, t0, r1, 0.0, 1.0

    def peak(self) -> float:
        return max(self._rates)

    def expected_arrivals(self, start: float, end: float) -> float:
        """∫ rate over [start, end): the mean of the Poisson arrival count."""
        knots = sorted({start, end, *(t for t in self._times if start < t < end)})
        total = 0.0
        for a, b in itertools.pairwise(knots):
            total += (self.rate_at(a) + self.rate_at(b)) / 2.0 * (b - a)  # exact: linear pieces
        return total


def arrival_times(profile: RushProfile, rng: np.random.Generator, start: float, end: float) -> Iterator[float]:
    """Non-homogeneous Poisson arrivals on [start, end) by thinning (Lewis & Shedler 1979).

    Candidates come at the peak rate; each is kept with probability rate(t)/peak.
    Draws come in numpy blocks (a scalar numpy draw costs ~10x a block's share).
    """
    peak = profile.peak()
    if peak <= 0:
        return
    t = start
    # profile.rate_at(t), with the piece of the profile kept between candidates (t only grows):
    # a flat piece of a linear one gives r0 + 0.0 * x / 1.0 == r0, exactly the flat rate.
    low, high, t0, r0, dr, dt = profile.piece(t)
    while True:
        gaps = rng.exponential(1.0 / peak, 4096).tolist()
        keeps = rng.random(4096).tolist()
        for gap, keep in zip(gaps, keeps, strict=True):
            t += gap
            if t >= end:
                return
            if not low <= t < high:
                low, high, t0, r0, dr, dt = profile.piece(t)
            if keep * peak < (r0 + dr * (t - t0) / dt if dr else r0):
                yield t


def risk_reject_at(risk: Risk, t: float) -> float:
    """The platform's rejection probability for a pay request at time t."""
    rate = risk.reject
    if not risk.promotion_registered:
        for surge in risk.surges:
            if surge.contains(t):
                rate = max(rate, surge.reject)
    return rate
