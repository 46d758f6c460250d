"""The simulated prediction of the live window: the live run's shoppers, counted as the live run counts them."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from load.engine.plan import LivePlan
from scanrush.domain.outcomes import Outcome
from scanrush.domain.world import build_world
from scanrush.results import ReplicationStats
from scanrush.rng import LIVE_REPLICATION
from scanrush.run import replicate
from scanrush.scenario.schema import Scenario
from scanrush.window import default_window

ScenarioBuilder = Callable[..., Scenario]
WINDOW = ["10m", "13m"]
"""Across the start of the Wi-Fi outage (12m) in ``ALL_CAUSES``: every cause shows up in it."""


def traced(scenario: Scenario, index: int, tmp_path: Path) -> tuple[ReplicationStats, list[dict[str, Any]]]:
    """A replication and its trace: one record per shopper (arrived, done, zone, outcome, cause, ...)."""
    path = tmp_path / f"trace{index}.jsonl"
    stats = replicate(scenario, index, str(path))
    return stats, [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_window_stats_are_a_filter_of_the_shopper_records(build_scenario: ScenarioBuilder,
                                                          all_causes: dict[str, Any], tmp_path: Path) -> None:
    scenario = build_scenario(all_causes, live={"window": WINDOW})
    start, end = default_window(scenario)
    stats, records = traced(scenario, 1, tmp_path)
    window = stats.window
    assert window is not None
    inside = [r for r in records if start <= r["arrived"] < end]
    assert 0 < len(inside) < len(records)
    assert window.shoppers == len(inside)
    assert {o: n for o, n in window.outcomes.items() if n} == Counter(r["outcome"] for r in inside)
    causes = Counter(r["cause"] for r in inside if r["cause"])
    assert {c: n for c, n in window.failures_by_cause.items() if n} == dict(causes)
    assert len(causes) >= 4
    names = [z.name for z in scenario.mall.zones]
    for index, name in enumerate(names):
        zone = [r for r in inside if r["zone"] == index]
        assert window.zones[name]["shoppers"] == len(zone)
        assert window.zones[name]["paid_huabei"] == sum(r["outcome"] == "paid_huabei" for r in zone)
        assert window.zones[name]["abandoned"] == sum(r["outcome"] == "abandoned_queue" for r in zone)
    served = [r["done"] - r["arrived"] for r in inside if r["outcome"] != Outcome.ABANDONED_QUEUE.value]
    assert window.checkout_time.count == len(served)
    assert math.isclose(window.checkout_time.mean, math.fsum(served) / len(served), rel_tol=1e-4)
    assert window.extra == {"window": [start, end], "terminals": 18, "stores": 10}
    assert window.metrics()["huabei_checkouts"] == window.huabei_checkouts() > 0


def test_window_shoppers_are_the_live_runs(build_scenario: ScenarioBuilder, all_causes: dict[str, Any],
                                           tmp_path: Path) -> None:
    # The live run re-enacts replication 0's shoppers who arrive in its window at its stores.
    scenario = build_scenario(all_causes, live={"window": WINDOW, "terminals": 7})
    plan = LivePlan(scenario, build_world(scenario), default_window(scenario), terminals=7)
    expected = {arrival.shopper.serial for arrival in plan.arrivals()}
    stats, records = traced(scenario, LIVE_REPLICATION, tmp_path)
    assert stats.window is not None
    world = build_world(scenario)
    start, end = plan.window
    inside = {r["shopper"] for r in records
              if start <= r["arrived"] < end and world.terminals[r["terminal"]].merchant in plan.stores}
    assert expected == inside
    assert 0 < len(expected) < sum(start <= r["arrived"] < end for r in records)  # some stores left out
    assert stats.window.shoppers == len(expected)
    assert stats.window.extra == {"window": [start, end], "terminals": len(plan.terminal_ids),
                                  "stores": len(plan.stores)}


def test_the_default_window_is_three_minutes_at_the_peak(build_scenario: ScenarioBuilder,
                                                         all_causes: dict[str, Any]) -> None:
    stats = replicate(build_scenario(all_causes), 0)
    assert stats.window is not None
    assert stats.window.extra["window"] == [900.0, 1080.0]  # the 2400/h step at 15m
