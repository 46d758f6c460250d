"""Comparison logic: paired with common random numbers, else Welch; thresholds; regressions."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from scipy import stats

from scanrush.capacity.compare import Threshold, compare, parse_thresholds, welch_difference
from scanrush.errors import InputError
from scanrush.results import Metadata, ReplicationStats, RunResult
from scanrush.scenario.loader import load_scenario

SMOKE = Path(__file__).parents[2] / "scenarios" / "smoke.yaml"


def test_welch_matches_scipy() -> None:
    a, b = [0.90, 0.92, 0.91, 0.95, 0.93], [0.85, 0.88, 0.80, 0.86]
    interval = welch_difference(a, b)
    test = stats.ttest_ind(b, a, equal_var=False)
    low, high = test.confidence_interval(0.95)
    assert interval.low == pytest.approx(low)
    assert interval.high == pytest.approx(high)
    assert math.isinf(welch_difference([1.0], [2.0, 3.0]).half_width)


def test_threshold_parsing() -> None:
    rate, per_metric = parse_thresholds(["1pp", "checkout_time_p95=5s", "revenue=2%", "double_charges=0"])
    assert rate == Threshold(0.01)
    assert per_metric["checkout_time_p95"] == Threshold(5.0)
    assert per_metric["revenue"] == Threshold(0.02, relative=True)
    assert per_metric["double_charges"] == Threshold(0.0)
    with pytest.raises(InputError):
        parse_thresholds(["huabei_success_rate=lots"])


def _run(name: str, rates: list[float], seeds: list[list[int]], kind: str = "sim") -> RunResult:
    reps = []
    for index, (rate, seed) in enumerate(zip(rates, seeds, strict=True)):
        paid = round(rate * 1000)
        rep = ReplicationStats(index=index, seed=seed, shoppers=1000)
        rep.outcomes["paid_huabei"] = paid
        rep.outcomes["left_unpaid"] = 1000 - paid
        rep.failures_by_cause["capacity"] = 1000 - paid
        reps.append(rep)
    scenario = load_scenario(SMOKE).model_dump(mode="json", by_alias=True)
    metadata = Metadata.create(scenario_name=name, scenario_path="x.yaml", scenario_hash="sha256:" + name,
                               scenario=scenario, seed=7, replications=len(reps))
    return RunResult(kind=kind, metadata=metadata, replications=reps)  # type: ignore[arg-type]


SEEDS = [[7, i] for i in range(5)]


def test_paired_regression_beyond_the_threshold() -> None:
    a = _run("promo", [0.95, 0.90, 0.97, 0.93, 0.96], SEEDS)
    b = _run("promo", [0.93, 0.88, 0.95, 0.91, 0.94], SEEDS)  # 2pp worse every replication
    result = compare(a, b)
    row = result.row("huabei_success_rate")
    assert result.method == "paired"
    assert row.difference.estimate == pytest.approx(-0.02)
    assert row.verdict == "regression"
    assert result.row("failure_rate_capacity").verdict == "regression"
    assert not compare(a, b, rate_threshold=Threshold(0.03)).regressions
    assert compare(b, a).row("huabei_success_rate").verdict == "improvement"


def test_without_shared_seeds_it_is_welch_and_noise_is_noise() -> None:
    a = _run("promo", [0.95, 0.90, 0.97, 0.93, 0.96], SEEDS)
    b = _run("promo-v2", [0.93, 0.88, 0.95, 0.91, 0.94], [[8, i] for i in range(5)])
    result = compare(a, b)
    assert result.method == "welch"
    assert result.row("huabei_success_rate").verdict == "noise"  # 2pp within the spread of 5 replications
    assert any("different scenarios" in w for w in result.warnings)


def test_sim_against_live_is_never_paired() -> None:
    a = _run("promo", [0.95, 0.90, 0.97], SEEDS[:3])
    b = _run("promo", [0.95, 0.90, 0.97], SEEDS[:3], kind="live")
    result = compare(a, b)
    assert result.method == "welch"
    assert any("live" in w for w in result.warnings)
