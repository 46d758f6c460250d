"""Fast tests of the SimPy model: invariants, one cause at a time, seeds, common random numbers.

Each scenario here is small (minutes of simulated time, a handful of tills) so
every test runs well under two seconds.  Scenarios come from the clean base in
``conftest.py`` (nothing can fail there) plus the one thing a test breaks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scanrush.domain.outcomes import CAUSES, HUABEI_FAILURES, Cause, Outcome
from scanrush.results import ReplicationStats
from scanrush.run import replicate
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import Scenario

ScenarioBuilder = Callable[..., Scenario]
FAILURES = tuple(o.value for o in HUABEI_FAILURES)

OLD_FIRMWARE_ONLY = {
    "terminals": {"firmware": [{"version": "2.8", "share": "100%", "accepts": [{"prefixes": 28, "lengths": "16-18"}]}]},
    "shoppers": {"codes": [{"format": {"prefixes": "25-30", "lengths": "19-24"}, "share": "100%"}]},
}
"""Every till parses only the pre-2017 '28, 16–18 digits' codes; every shopper shows a newer one."""

ONE_CAUSE: dict[Cause, dict[str, Any]] = {
    Cause.FIRMWARE: OLD_FIRMWARE_ONLY,
    Cause.MERCHANT: {"merchants": {"default": {"qualified": "0%"}}},
    Cause.RISK: {"gateway": {"risk": {"reject": "100%"}}},
    # The outage outlasts the promotion and the drain after it: no packet ever gets through.
    Cause.NETWORK: {"networks": {"lan": {"rtt": "5ms", "outages": [{"at": 0, "for": "24h"}]}}},
    # One worker, each request holding it 10 s, and at most 1 s of queueing before "system busy".
    # 10 s is inside the terminal's 15 s read timeout, so no timeout muddles the cause with network.
    Cause.CAPACITY: {"gateway": {"workers": 1, "service_time": "10s", "queue_timeout": "1s"}},
}


def check_invariants(stats: ReplicationStats) -> None:
    """What must hold after any replication of any scenario."""
    outcomes = stats.outcomes
    # Flow conservation: arrivals = the outcomes (nobody is left inside: the model drains).
    assert sum(outcomes.values()) == stats.shoppers
    assert math.fsum(stats.series["arrivals"]) == stats.shoppers
    # Every failed Huabei checkout has exactly one cause.
    assert sum(stats.failures_by_cause.values()) == sum(outcomes[o] for o in FAILURES)
    for cause, per_outcome in stats.outcome_by_cause.items():
        assert sum(per_outcome.values()) == stats.failures_by_cause[cause]
    # Waits: everyone who reached a till recorded one wait, none negative.
    served = stats.shoppers - outcomes[Outcome.ABANDONED_QUEUE.value]
    assert stats.queue_wait.count == served
    assert stats.waited == served - stats.queue_wait.zeros
    for histogram in (stats.queue_wait, stats.checkout_time, stats.payment_latency):
        assert histogram.count == 0 or histogram.min >= 0.0
    # Rates are rates.
    rate = stats.huabei_success_rate()
    assert math.isnan(rate) if stats.huabei_checkouts() == 0 else 0.0 <= rate <= 1.0
    # The ledger audits every trade exactly once.
    ledger = stats.ledger
    assert ledger["trades"] == ledger["paid"] + ledger["closed"] + ledger["refunded"]
    assert 0 <= ledger["one_sided"] <= ledger["paid"]
    check_zones_and_window(stats)


def check_zones_and_window(stats: ReplicationStats) -> None:
    """Zone counts add up to the totals; the live window's shoppers are a part of them."""
    zones = stats.zones.values()
    assert sum(z["shoppers"] for z in zones) == stats.shoppers
    assert sum(z["huabei_checkouts"] for z in zones) == stats.huabei_checkouts()
    assert sum(z["paid_huabei"] for z in zones) == stats.outcomes[Outcome.PAID_HUABEI.value]
    assert sum(z["abandoned"] for z in zones) == stats.outcomes[Outcome.ABANDONED_QUEUE.value]
    window = stats.window
    assert window is not None
    assert window.window is None
    assert sum(window.outcomes.values()) == window.shoppers <= stats.shoppers
    assert all(window.outcomes[o] <= n for o, n in stats.outcomes.items())
    assert all(window.failures_by_cause[c] <= n for c, n in stats.failures_by_cause.items())
    assert sum(z["shoppers"] for z in window.zones.values()) == window.shoppers
    assert window.checkout_time.count == window.shoppers - window.outcomes[Outcome.ABANDONED_QUEUE.value]
    assert window.queue_wait.count == window.checkout_time.count


def only_cause(stats: ReplicationStats, cause: Cause) -> None:
    failed = sum(stats.outcomes[o] for o in FAILURES)
    assert failed > 0
    assert stats.failures_by_cause == {c.value: failed if c is cause else 0 for c in CAUSES}


# --------------------------------------------------------------------------- conservation, causes


def test_minimal_scenario_conserves_shoppers(minimal_scenario: Path) -> None:
    stats = replicate(load_scenario(minimal_scenario), 0)
    assert stats.shoppers > 0
    check_invariants(stats)


def test_clean_scenario_pays_everyone_with_huabei(build_scenario: ScenarioBuilder) -> None:
    stats = replicate(build_scenario(), 0)
    check_invariants(stats)
    assert stats.shoppers > 100
    assert stats.outcomes[Outcome.PAID_HUABEI.value] == stats.shoppers
    assert stats.huabei_success_rate() == 1.0
    assert stats.ledger["double_charges"] == 0
    assert stats.ledger["one_sided"] == 0
    assert sum(stats.failures_by_cause.values()) == 0


@pytest.mark.parametrize("cause", list(ONE_CAUSE), ids=lambda c: c.value)
def test_one_broken_thing_gives_one_cause(build_scenario: ScenarioBuilder, cause: Cause) -> None:
    stats = replicate(build_scenario(ONE_CAUSE[cause]), 0)
    check_invariants(stats)
    only_cause(stats, cause)
    if cause is not Cause.CAPACITY:  # a saturated gateway still serves some
        assert stats.outcomes[Outcome.PAID_HUABEI.value] == 0


def test_old_firmware_rejects_before_sending(build_scenario: ScenarioBuilder) -> None:
    # The firmware refuses the code locally: the gateway never hears of these shoppers.
    stats = replicate(build_scenario(OLD_FIRMWARE_ONLY), 0)
    assert stats.gateway["requests"] == 0
    assert stats.ledger["trades"] == 0


def test_all_causes_at_once_still_one_cause_each(build_scenario: ScenarioBuilder,
                                                  all_causes: Mapping[str, Any]) -> None:
    stats = replicate(build_scenario(all_causes), 1)
    check_invariants(stats)
    assert all(stats.failures_by_cause[c.value] > 0 for c in CAUSES)


# --------------------------------------------------------------------------- seeds


def test_same_seed_and_index_is_deterministic(build_scenario: ScenarioBuilder,
                                              all_causes: Mapping[str, Any]) -> None:
    scenario = build_scenario(all_causes)
    assert replicate(scenario, 3).to_dict() == replicate(scenario, 3).to_dict()


def test_different_index_is_a_different_replication(build_scenario: ScenarioBuilder,
                                                    all_causes: Mapping[str, Any]) -> None:
    scenario = build_scenario(all_causes)
    first, second = replicate(scenario, 0), replicate(scenario, 1)
    assert first.series["arrivals"] != second.series["arrivals"]
    assert first.outcomes != second.outcomes


def test_common_random_numbers_across_gateway_sizes(build_scenario: ScenarioBuilder,
                                                   all_causes: Mapping[str, Any]) -> None:
    # Arrivals and shoppers have their own streams, so a bigger gateway sees the same shoppers
    # arrive at the same times, replication by replication, however differently they fare.
    small = build_scenario(all_causes)
    large = build_scenario(all_causes, gateway={**all_causes["gateway"], "workers": 64})
    for index in range(3):
        a, b = replicate(small, index), replicate(large, index)
        assert a.shoppers == b.shoppers
        assert a.series["arrivals"] == b.series["arrivals"]
        assert a.gateway["rejected_busy"] > b.gateway["rejected_busy"]  # yet they did fare differently


# --------------------------------------------------------------------------- properties


DRAIN_BUDGET = 2 * 3600.0
"""Seconds of work the random scenarios may leave at closing; the model drains for 4 h after
closing and then stops, so more than that would leave shoppers uncounted (see
test_shoppers_still_inside_when_the_drain_ends_are_counted)."""
SLOW_PAYMENT = 60.0
"""A generous bound on the seconds a Huabei payment adds (scan, timeouts, polls, cancels)."""


def offered_work(scenario: Scenario) -> float:
    """A bound on the seconds of work per till: peak-rate arrivals × (checkout + slowest payment)."""
    shoppers = scenario.shoppers
    arrivals = max(point.rate for point in shoppers.arrivals) * scenario.duration
    per_shopper = shoppers.checkout_time.mean() + shoppers.other_method_time.mean() + SLOW_PAYMENT
    return arrivals * per_shopper / scenario.terminal_count


@st.composite
def small_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """10–20 simulated minutes of a small mall with random rates, tills, loss and patience."""
    queue = draw(st.sampled_from(["per_terminal", "shared"]))
    query_on_timeout = draw(st.booleans())
    patience = draw(st.one_of(st.none(), st.integers(20, 600)))
    shoppers: dict[str, Any] = {
        "arrivals": [{"at": 0, "rate": f"{draw(st.integers(30, 1500))}/h"},
                     {"at": "5m", "rate": f"{draw(st.integers(30, 1500))}/h"}],
        "huabei_share": draw(st.floats(0.0, 1.0)),
        "basket": {"lognormal": {"median": draw(st.integers(20, 800)), "sigma": 0.7}},
        "checkout_time": {"exponential": {"mean": f"{draw(st.integers(5, 90))}s"}},
        "credit": {"password_free_limit": 500, "confirm_fail": draw(st.floats(0.0, 0.3))},
    }
    if patience is not None:
        shoppers["patience"] = {"exponential": {"mean": f"{patience}s"}}
    return {
        "seed": draw(st.integers(0, 2**31)),
        "duration": f"{draw(st.integers(10, 20))}m",
        "mall": {"zones": [{"name": "hall", "stores": draw(st.integers(1, 3)),
                            "terminals_per_store": draw(st.integers(1, 4)), "network": "lan", "queue": queue}]},
        "networks": {"lan": {"rtt": f"{draw(st.integers(5, 300))}ms", "jitter": "10ms",
                             "loss": draw(st.floats(0.0, 0.15))}},
        "terminals": {"firmware": [{"version": "x", "share": "100%", "query_on_timeout": query_on_timeout,
                                    "misread": draw(st.floats(0.0, 0.1))}]},
        "merchants": {"default": {"qualified": draw(st.floats(0.5, 1.0))}},
        "shoppers": shoppers,
        "gateway": {"workers": draw(st.integers(1, 8)),
                    "service_time": {"exponential": {"mean": f"{draw(st.integers(20, 2000))}ms"}},
                    "risk": {"reject": draw(st.floats(0.0, 0.2))}},
    }


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(overrides=small_scenarios(), index=st.integers(0, 1000))
def test_invariants_hold_for_random_small_scenarios(build_scenario: ScenarioBuilder, overrides: dict[str, Any],
                                                    index: int) -> None:
    scenario: Scenario = build_scenario(overrides)
    assume(offered_work(scenario) < DRAIN_BUDGET)
    stats = replicate(scenario, index)
    check_invariants(stats)
    if all(f.query_on_timeout for f in scenario.terminals.firmware):
        # A terminal that queries and cancels leaves a trade waiting for the buyer only when
        # it could not settle it: that checkout ends unresolved (manual reconciliation).
        assert stats.ledger["waiting_at_end"] <= stats.outcomes[Outcome.UNRESOLVED.value]


def test_shoppers_still_inside_when_the_drain_ends_are_counted(build_scenario: ScenarioBuilder) -> None:
    # One till, 10 minutes per shopper, an hour of 60/h: ~10 h of work, the drain stops after 4 h.
    # Every shopper must still end in exactly one outcome (DESIGN.md), e.g. counted as abandoned
    # or reported as unfinished; today about half of them silently vanish from the outcomes.
    stats = replicate(build_scenario({
        "duration": "1h",
        "mall": {"zones": [{"name": "hall", "stores": 1, "terminals_per_store": 1, "network": "lan"}]},
        "shoppers": {"arrivals": [{"at": 0, "rate": "60/h"}], "huabei_share": "0%", "checkout_time": "10m"},
    }), 0)
    assert sum(stats.outcomes.values()) == stats.shoppers


LATE_CHARGE: dict[str, Any] = {
    # A 3 s RTT against a 1 s read timeout: every pay request reaches the gateway (and charges
    # the shopper's Huabei) after the terminal gave up.  Old firmware treats the timeout as a
    # failure and the shopper pays another way: each one is charged twice.
    "networks": {"lan": {"rtt": "3s"}},
    "pos": {"read_timeout": "1s", "connect_timeout": "10s"},
    "terminals": {"firmware": [{"version": "2.8", "share": "100%", "query_on_timeout": False}]},
    "shoppers": {"on_failure": {"retry_new_code": 0, "other_method": "100%", "leave": 0}},
}


@pytest.mark.parametrize("other_method_time", [
    "10s",
    "0s",
])
def test_late_charge_after_paying_another_way_is_a_double_charge(build_scenario: ScenarioBuilder,
                                                                 other_method_time: str) -> None:
    # With a 10 s other method the late charge lands before the checkout is settled; with an
    # instant one it lands just after.  Either way the shopper paid twice.
    stats = replicate(build_scenario(LATE_CHARGE, shoppers={**LATE_CHARGE["shoppers"],
                                                             "other_method_time": other_method_time}), 0)
    check_invariants(stats)
    assert stats.outcomes[Outcome.PAID_OTHER_AFTER_FAILURE.value] == stats.shoppers
    assert stats.ledger["paid"] == stats.shoppers  # every late pay went through
    assert stats.ledger["double_charges"] == stats.shoppers
