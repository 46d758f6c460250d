"""Fast tests of the SimPy model: invariants, one cause at a time, seeds, common random numbers.

Each scenario here is small (minutes of simulated time, a handful of tills) so
every test runs well under two seconds.  Scenarios come from the clean base in
``conftest.py`` (nothing can fail there) plus the one thing a test breaks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from conftest import ScenarioBuilder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanrush.domain.outcomes import CAUSES, HUABEI_FAILURES, Cause, Outcome
from scanrush.results import ReplicationStats
from scanrush.run import replicate
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import Scenario

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


def test_all_causes_at_once_still_one_cause_each(build_scenario: ScenarioBuilder) -> None:
    stats = replicate(build_scenario(ALL_CAUSES), 1)
    check_invariants(stats)
    assert all(stats.failures_by_cause[c.value] > 0 for c in CAUSES)


ALL_CAUSES: Mapping[str, Any] = {
    "duration": "30m",
    "mall": {"zones": [
        {"name": "hall", "stores": 4, "terminals_per_store": 3, "network": "wifi", "queue": "shared"},
        {"name": "kiosks", "stores": 6, "terminals_per_store": 1, "network": "cell", "merchants": "kiosk"},
    ]},
    "merchants": {"default": {"qualified": "95%", "huabei_enabled": "90%"},
                  "kiosk": {"qualified": "70%", "huabei_enabled": "60%"}},
    "networks": {"wifi": {"rtt": "120ms", "jitter": "60ms", "loss": "4%", "outages": [{"at": "12m", "for": "2m"}]},
                 "cell": {"rtt": "60ms", "loss": "1%"}},
    "terminals": {"firmware": [
        {"version": "2.8", "share": "40%", "accepts": [{"prefixes": 28, "lengths": "16-18"}],
         "misread": "2%", "query_on_timeout": False},
        {"version": "3.2", "share": "60%"},
    ]},
    "shoppers": {
        "arrivals": [{"at": 0, "rate": "1200/h"}, {"at": "15m", "rate": "2400/h"}, {"at": "30m", "rate": "1200/h"}],
        "huabei_share": "60%",
        "basket": {"lognormal": {"median": 300, "sigma": 0.8}},
        "patience": {"exponential": {"mean": "3m"}},
        "codes": [{"format": {"prefixes": 28, "lengths": 18}, "share": "60%"},
                  {"format": {"prefixes": "25-30", "lengths": "16-24"}, "share": "40%"}],
        "credit": {"not_opened": "3%", "frozen": "1%", "used": "40%", "password_free_limit": 500,
                   "confirm_fail": "10%", "balance_fallback": "30%"},
    },
    "gateway": {"workers": 1, "service_time": {"lognormal": {"median": "1500ms", "sigma": 0.5}},
                "queue_timeout": "1s", "risk": {"reject": "5%"}},
}
"""Every cause active in 30 minutes: old firmware, unqualified merchants, short credit, lossy
Wi-Fi with an outage, risk rejections and an undersized gateway (also used by test_regression)."""


# --------------------------------------------------------------------------- seeds


def test_same_seed_and_index_is_deterministic(build_scenario: ScenarioBuilder) -> None:
    scenario = build_scenario(ALL_CAUSES)
    assert replicate(scenario, 3).to_dict() == replicate(scenario, 3).to_dict()


def test_different_index_is_a_different_replication(build_scenario: ScenarioBuilder) -> None:
    scenario = build_scenario(ALL_CAUSES)
    first, second = replicate(scenario, 0), replicate(scenario, 1)
    assert first.series["arrivals"] != second.series["arrivals"]
    assert first.outcomes != second.outcomes


def test_common_random_numbers_across_gateway_sizes(build_scenario: ScenarioBuilder) -> None:
    # Arrivals and shoppers have their own streams, so a bigger gateway sees the same shoppers
    # arrive at the same times, replication by replication, however differently they fare.
    small = build_scenario(ALL_CAUSES)
    large = build_scenario(ALL_CAUSES, gateway={**ALL_CAUSES["gateway"], "workers": 64})
    for index in range(3):
        a, b = replicate(small, index), replicate(large, index)
        assert a.shoppers == b.shoppers
        assert a.series["arrivals"] == b.series["arrivals"]
        assert a.gateway["rejected_busy"] > b.gateway["rejected_busy"]  # yet they did fare differently


# --------------------------------------------------------------------------- properties


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


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=small_scenarios(), index=st.integers(0, 1000))
def test_invariants_hold_for_random_small_scenarios(build_scenario: ScenarioBuilder, overrides: dict[str, Any],
                                                    index: int) -> None:
    scenario: Scenario = build_scenario(overrides)
    stats = replicate(scenario, index)
    check_invariants(stats)
    if all(f.query_on_timeout for f in scenario.terminals.firmware):
        # A terminal that queries and cancels leaves a trade waiting for the buyer only when
        # it could not settle it: that checkout ends unresolved (manual reconciliation).
        assert stats.ledger["waiting_at_end"] <= stats.outcomes[Outcome.UNRESOLVED.value]
