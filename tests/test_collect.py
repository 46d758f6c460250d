"""The streaming collector: per-zone tallies, the live window's collector, the observer pair."""

from __future__ import annotations

import math

from scanrush.collect import Collector, ObserverPair, WindowCollector
from scanrush.domain.outcomes import Cause, Outcome

ENDINGS: list[tuple[Outcome, Cause | None]] = [
    (Outcome.PAID_HUABEI, None), (Outcome.PAID_HUABEI, None), (Outcome.PAID_OTHER, None),
    (Outcome.ABANDONED_QUEUE, None), (Outcome.LEFT_UNPAID, Cause.NETWORK), (Outcome.UNRESOLVED, Cause.RISK),
    (Outcome.PAID_OTHER_AFTER_FAILURE, Cause.CAPACITY),
]


def test_zone_tallies_add_up_to_the_totals() -> None:
    collector = Collector(600.0, 0, [1, 0], ["hall", "kiosks"])
    for i, (outcome, cause) in enumerate(ENDINGS * 3):
        collector.arrival(10.0 * i)
        collector.finish(outcome, cause, 100.0, 10.0 * i, 10.0 * i + 30.0, collector.zones[i % 2])
    stats = collector.to_stats(ledger={}, gateway={})
    assert set(stats.zones) == {"hall", "kiosks"}
    for key in ("shoppers", "huabei_checkouts", "paid_huabei", "abandoned"):
        assert sum(counts[key] for counts in stats.zones.values()) > 0
    assert sum(c["shoppers"] for c in stats.zones.values()) == stats.shoppers == 21
    assert sum(c["huabei_checkouts"] for c in stats.zones.values()) == stats.huabei_checkouts() == 15
    assert sum(c["paid_huabei"] for c in stats.zones.values()) == stats.outcomes["paid_huabei"] == 6
    assert sum(c["abandoned"] for c in stats.zones.values()) == stats.outcomes["abandoned_queue"] == 3


def test_outcomes_are_counted_per_zone_and_summed() -> None:
    collector = Collector(60.0, 0, [1, 0], ["hall", "kiosks"])
    collector.finish(Outcome.PAID_OTHER, None, 10.0, 0.0, 5.0, collector.zones[1])
    collector.finish(Outcome.PAID_OTHER, None, 10.0, 0.0, 5.0, collector.zones[0])
    collector.finish(Outcome.PAID_HUABEI, None, 10.0, 0.0, 5.0, collector.zones[1])
    assert collector.outcomes[Outcome.PAID_OTHER] == 2
    assert collector.outcomes[Outcome.PAID_HUABEI] == 1
    assert collector.zones[1].as_dict() == {"shoppers": 2, "huabei_checkouts": 1, "paid_huabei": 1, "abandoned": 0}
    assert Collector(60.0, 0, [1, 0], []).to_stats(ledger={}, gateway={}).zones == {}


def test_window_collector_counts_on_the_window_clock_and_filters_stores() -> None:
    window = WindowCollector((600.0, 780.0), 3, [1, 3], ["hall"], stores=frozenset({2}))
    assert window.includes(2)
    assert not window.includes(5)
    window.started(2, 4.0)
    window.started(5, 4.0)  # not a window store: ignored
    window.finish(Outcome.PAID_HUABEI, None, 50.0, 650.0, 700.0, store=2, zone=0)
    window.finish(Outcome.PAID_HUABEI, None, 50.0, 650.0, 700.0, store=5, zone=0)
    window.finish(Outcome.LEFT_UNPAID, Cause.FIRMWARE, 50.0, 770.0, 900.0, store=2, zone=0)
    stats = window.to_stats(terminals=2, stores=1)
    assert stats.shoppers == 2
    assert stats.outcomes["paid_huabei"] == 1
    assert stats.failures_by_cause["firmware"] == 1
    assert stats.zones == {"hall": {"shoppers": 2, "huabei_checkouts": 2, "paid_huabei": 1, "abandoned": 0}}
    assert stats.queue_wait.count == 1
    assert stats.checkout_time.count == 2
    assert math.isclose(stats.checkout_time.max, 130.0, rel_tol=0.05)
    assert stats.series["arrivals"] == [1.0, 0.0, 1.0]  # minutes 0 and 2 of the window
    assert stats.series["huabei_failed"][-1] == 1.0  # ended in the drain: the last minute, as live
    assert "queue_length" not in stats.series
    assert "gateway_busy" not in stats.series
    assert stats.extra == {"window": [600.0, 780.0], "terminals": 2, "stores": 1}
    assert stats.index == 3
    assert stats.seed == [1, 3]


def test_observer_pair_reports_to_both() -> None:
    first, second = Collector(60.0, 0, [1, 0], []), Collector(60.0, 0, [1, 0], [])
    pair = ObserverPair(first, second)
    pair.attempt("10000")
    pair.payment_latency(0.2)
    pair.retry()
    for collector in (first, second):
        assert collector.attempts == {"10000": 1}
        assert collector.payment_latency_histogram.count == 1
        assert collector.retries == 1
