"""Streaming statistics of one run (a replication or a live window): counters, histograms, per-minute series.

Nothing here grows with the number of shoppers: every record folds into fixed
counters, bounded histograms and arrays with one cell per minute.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from scanrush.domain.outcomes import CAUSES, HUABEI_FAILURES, Cause, Outcome
from scanrush.results import ReplicationStats
from scanrush.stats.histogram import Histogram

HUABEI_FEE = 0.006
"""Face-to-face standard merchant rate (alipay.md §4); Huabei receipts fall under it."""
_PAID = (Outcome.PAID_HUABEI, Outcome.PAID_OTHER, Outcome.PAID_OTHER_AFTER_FAILURE, Outcome.UNRESOLVED)
_LOST = (Outcome.LEFT_UNPAID, Outcome.ABANDONED_QUEUE)
_PAID_OTHER = Outcome.PAID_OTHER


class ZoneTally:
    """One mall zone's count of finished shoppers by outcome.

    Each terminal holds its zone's tally and hands it to ``Collector.finish``, which counts the
    outcome here instead of in one run-wide dict: the zone costs nothing per shopper, and the
    run's outcomes are the sum over zones.
    """

    __slots__ = ("name", "outcomes")

    def __init__(self, name: str) -> None:
        self.name = name
        self.outcomes = dict.fromkeys(Outcome, 0)

    def as_dict(self) -> dict[str, int]:
        """``ReplicationStats.zones`` counts: shoppers, Huabei checkouts, paid with Huabei, abandoned."""
        o = self.outcomes
        return {"shoppers": sum(o.values()),
                "huabei_checkouts": o[Outcome.PAID_HUABEI] + sum(o[f] for f in HUABEI_FAILURES),
                "paid_huabei": o[Outcome.PAID_HUABEI], "abandoned": o[Outcome.ABANDONED_QUEUE]}


class Collector:
    def __init__(self, duration: float, index: int, seed_key: list[int], zones: Sequence[str]) -> None:
        self.index = index
        self.seed_key = seed_key
        self.zones = [ZoneTally(name) for name in zones]
        """The mall's zones in scenario order: ``zones[i]`` is the tally of zone index ``i``."""
        self.minutes = max(1, math.ceil(duration / 60.0))
        self.by_cause = {cause: dict.fromkeys(HUABEI_FAILURES, 0) for cause in Cause}
        self.attempts: dict[str, int] = {}
        self.checkout_time = Histogram()
        self.queue_wait = Histogram()
        self.payment_latency_histogram = Histogram()
        self.shoppers = 0
        self.waited = 0
        self.retries = 0
        self.revenue = 0.0
        self.revenue_lost = 0.0
        self.huabei_revenue = 0.0
        names = ["arrivals", "paid_huabei", "huabei_failed", "abandoned", "queue_length", "gateway_busy",
                 "huabei_checkouts", *(f"failures_{c.value}" for c in CAUSES)]
        self.series = {name: [0.0] * self.minutes for name in names}
        self._arrivals = self.series["arrivals"]
        self._abandoned = self.series["abandoned"]
        self._huabei_checkouts = self.series["huabei_checkouts"]
        self._paid_huabei = self.series["paid_huabei"]
        self._huabei_failed = self.series["huabei_failed"]
        self._failures = {c: self.series[f"failures_{c.value}"] for c in CAUSES}
        self.payment_latency_of: Callable[[float], None] = self.payment_latency_histogram.record

    @property
    def outcomes(self) -> dict[Outcome, int]:
        """Finished shoppers by outcome, over all zones."""
        total = dict.fromkeys(Outcome, 0)
        for zone in self.zones:
            for outcome, count in zone.outcomes.items():
                total[outcome] += count
        return total

    def _minute(self, t: float) -> int:
        return min(int(t // 60.0), self.minutes - 1)

    def arrival(self, t: float) -> None:
        self.shoppers += 1
        self._arrivals[min(int(t // 60.0), self.minutes - 1)] += 1

    def started(self, wait: float) -> None:
        if wait > 0:
            self.waited += 1
        self.queue_wait.record(wait)

    def attempt(self, key: str) -> None:
        self.attempts[key] = self.attempts.get(key, 0) + 1

    def payment_latency(self, seconds: float) -> None:
        self.payment_latency_of(seconds)

    def retry(self) -> None:
        self.retries += 1

    def finish(  # noqa: PLR0917 - once per shopper: positional arguments are the cheapest call
            self, outcome: Outcome, cause: Cause | None, basket: float, arrived: float, now: float, zone: ZoneTally,
    ) -> None:
        """One shopper's end; ``zone`` is the tally (from ``zones``) of the zone they shopped in."""
        # Runs once per shopper: the minute is computed inline and the series looked up once
        # (self._minute and self.series[...] cost a call or a dict lookup each).
        zone.outcomes[outcome] += 1
        minute = int(now // 60.0)
        if minute >= self.minutes:
            minute = self.minutes - 1
        if outcome is _PAID_OTHER:  # the commonest outcome: paid, then only the checkout time
            self.revenue += basket
            self.checkout_time.record(now - arrived)
            return
        if outcome in _PAID:
            self.revenue += basket
        elif outcome in _LOST:
            self.revenue_lost += basket
        if outcome is Outcome.ABANDONED_QUEUE:
            self._abandoned[minute] += 1
            return
        self.checkout_time.record(now - arrived)
        self._huabei_checkouts[minute] += 1
        if outcome is Outcome.PAID_HUABEI:
            self.huabei_revenue += basket
            self._paid_huabei[minute] += 1
            return
        failed_cause = cause or Cause.NETWORK
        self.by_cause[failed_cause][outcome] += 1
        self._huabei_failed[minute] += 1
        self._failures[failed_cause][minute] += 1

    def gateway_busy(self, start: float, service: float) -> None:
        """Spread a request's service time over the minutes it spans."""
        series = self.series["gateway_busy"]
        end = start + service
        minute = int(start // 60.0)
        if minute < self.minutes - 1 and end <= (minute + 1) * 60.0:  # the usual case: within one minute
            series[minute] += service
            return
        while start < end:
            minute = self._minute(start)
            boundary = (minute + 1) * 60.0 if minute < self.minutes - 1 else end
            step = min(end, boundary) - start
            series[minute] += step
            start += step

    def to_stats(self, *, ledger: dict[str, int], gateway: dict[str, float]) -> ReplicationStats:
        failures = {cause.value: sum(per.values()) for cause, per in self.by_cause.items()}
        return ReplicationStats(
            index=self.index,
            seed=self.seed_key,
            shoppers=self.shoppers,
            outcomes={o.value: n for o, n in self.outcomes.items()},
            failures_by_cause=failures,
            outcome_by_cause={c.value: {o.value: n for o, n in per.items()} for c, per in self.by_cause.items()},
            attempt_results=dict(sorted(self.attempts.items())),
            retries=self.retries,
            waited=self.waited,
            revenue=round(self.revenue, 2),
            revenue_lost=round(self.revenue_lost, 2),
            fees=round(self.huabei_revenue * HUABEI_FEE, 2),
            checkout_time=self.checkout_time,
            queue_wait=self.queue_wait,
            payment_latency=self.payment_latency_histogram,
            series=self.series,
            ledger=ledger,
            gateway=gateway,
            mechanism="simulated",
            zones={zone.name: zone.as_dict() for zone in self.zones},
        )


class WindowCollector:
    """The same statistics restricted to the live window's shoppers, collected alongside a replication.

    A shopper belongs to the window when they arrive in ``[start, end)`` at one of ``stores``
    (None: every store), whenever they finish: exactly the shoppers a live run of the window
    re-enacts (``load.engine.plan.LivePlan.arrivals``) and counts, drain included.  Times are
    on the window's clock (seconds since ``start``), as the live run keeps them.

    Callers test the arrival time inline (it is one comparison for the many shoppers outside
    the window) and call these methods only for shoppers who arrived inside it.
    """

    def __init__(self, window: tuple[float, float], index: int, seed_key: list[int], zones: Sequence[str] = (),
                 stores: frozenset[int] | None = None) -> None:
        self.start, self.end = window
        self.stores = stores
        self.collector = Collector(self.end - self.start, index, seed_key, zones)

    def includes(self, store: int) -> bool:
        return self.stores is None or store in self.stores

    def started(self, store: int, wait: float) -> None:
        if self.includes(store):
            self.collector.started(wait)

    def finish(self, outcome: Outcome, cause: Cause | None, basket: float, arrived: float, now: float, *,
               store: int, zone: int) -> None:
        """Count a window shopper (arrival and end at once: in a simulation every shopper finishes)."""
        if self.stores is not None and store not in self.stores:
            return
        collector, start = self.collector, self.start
        collector.arrival(arrived - start)
        collector.finish(outcome, cause, basket, arrived - start, now - start, collector.zones[zone])

    def to_stats(self, *, terminals: int, stores: int) -> ReplicationStats:
        """The window's statistics; ledger and gateway stay empty (they cannot be split by shopper)."""
        stats = self.collector.to_stats(ledger={}, gateway={})
        # Only series counted per window shopper mean anything here.
        for name in ("queue_length", "gateway_busy"):
            stats.series.pop(name, None)
        stats.extra.update({"window": [self.start, self.end], "terminals": terminals, "stores": stores})
        return stats


class ObserverPair:
    """The visit flow's observer for a window shopper: every event goes to both collectors."""

    __slots__ = ("first", "second")

    def __init__(self, first: Collector, second: Collector) -> None:
        self.first = first
        self.second = second

    def attempt(self, key: str) -> None:
        self.first.attempt(key)
        self.second.attempt(key)

    def payment_latency(self, seconds: float) -> None:
        self.first.payment_latency(seconds)
        self.second.payment_latency(seconds)

    def retry(self) -> None:
        self.first.retry()
        self.second.retry()
