"""Gates: parsing, units, zones, and the errors a QA engineer sees."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanrush.gates import (
    OPERATORS,
    ZONE_METRICS,
    Gate,
    format_threshold,
    metric_catalogue,
    metric_kind,
    parse_gate,
    split_metric,
    zone_metric,
)
from scanrush.results import ReplicationStats
from scanrush.scenario.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.mark.parametrize(("text", "metric", "op", "threshold", "name"), [
    ("huabei_success_rate >= 97%", "huabei_success_rate", ">=", 0.97, "huabei_success_rate >= 97%"),
    ("huabei_success_rate>=0.97", "huabei_success_rate", ">=", 0.97, "huabei_success_rate >= 97%"),
    ("checkout_time_p95 <= 45s", "checkout_time_p95", "<=", 45.0, "checkout_time_p95 <= 45s"),
    ("checkout_time_p95 <= 3m", "checkout_time_p95", "<=", 180.0, "checkout_time_p95 <= 3m"),
    ("payment_latency_p99 < 1500ms", "payment_latency_p99", "<", 1.5, "payment_latency_p99 < 1.5s"),
    ("abandonment_rate <= 2%", "abandonment_rate", "<=", 0.02, "abandonment_rate <= 2%"),
    ("double_charges == 0", "double_charges", "==", 0.0, "double_charges == 0"),
    ("failure_rate_network <= 1%", "failure_rate_network", "<=", 0.01, "failure_rate_network <= 1%"),
    ("huabei_success_rate[zone=fashion] >= 90%", "huabei_success_rate[zone=fashion]", ">=", 0.9,
     "huabei_success_rate[zone=fashion] >= 90%"),
    ("  abandonment_rate [ zone = food-court ]  <  0.5% ", "abandonment_rate[zone=food-court]", "<", 0.005,
     "abandonment_rate[zone=food-court] < 0.5%"),
    ("revenue_lost <= 5000", "revenue_lost", "<=", 5000.0, "revenue_lost <= 5000"),
    ("unresolved > 0", "unresolved", ">", 0.0, "unresolved > 0"),
])
def test_parse(text: str, metric: str, op: str, threshold: float, name: str) -> None:
    gate = parse_gate(text)
    assert (gate.text, gate.metric, gate.op) == (text, metric, op)
    assert gate.threshold == pytest.approx(threshold)
    assert gate.name == name


@pytest.mark.parametrize(("text", "fragment"), [
    ("huabei success rate is high", "expected a gate such as 'huabei_success_rate >= 97%'"),
    ("huabei_sucess_rate >= 97%", "unknown metric 'huabei_sucess_rate' (did you mean huabei_success_rate?)"),
    ("xyzzy >= 1", "unknown metric 'xyzzy' (see the metric table in scenarios/README.md)"),
    ("checkout_time_p95 <= 45", "write it with its unit, such as 45s or 45ms"),
    ("checkout_time_p95 <= 45%", "checkout_time_p95 is a duration"),
    ("checkout_time_p95 <= fast", "checkout_time_p95 is a duration"),
    ("huabei_success_rate >= 45s", "huabei_success_rate is a rate"),
    ("huabei_success_rate >= 97", "write 97% for a percentage"),
    ("huabei_success_rate >= 120%", "between 0% and 100%"),
    ("double_charges == 0%", "double_charges is a count"),
    ("double_charges <= 0.5", "must be a whole number >= 0"),
    ("double_charges <= -1", "must be a whole number >= 0"),
    ("revenue_lost <= 5k", "revenue_lost is a number"),
    ("huabei_success_rate => 97%", "unknown operator '=>' (did you mean '>='?)"),
    ("huabei_success_rate = 97%", "did you mean '=='?"),
    ("huabei_success_rate != 97%", "operators are >=, <=, ==, < and >"),
    ("checkout_time_p95[zone=fashion] <= 45s", "checkout_time_p95 is not reported per zone"),
    ("huabei_success_rate[store=7] >= 90%", "write [zone=NAME]"),
])
def test_parse_errors(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:  # noqa: PT011 - the message is checked below
        parse_gate(text)
    assert fragment in str(caught.value)


def test_zone_names_are_checked_when_given() -> None:
    gate = parse_gate("huabei_success_rate[zone=fashion] >= 90%", zones=["fashion", "supermarket"])
    assert (gate.base_metric, gate.zone) == ("huabei_success_rate", "fashion")
    with pytest.raises(ValueError, match=r"no zone 'fashon' in this scenario \(did you mean fashion\?\)"):
        parse_gate("huabei_success_rate[zone=fashon] >= 90%", zones=["fashion", "supermarket"])
    with pytest.raises(ValueError, match="zones: a, b"):
        parse_gate("shoppers[zone=zzz] >= 1", zones=["a", "b"])
    assert parse_gate(gate) is gate  # a parsed gate passes through


def test_holds_and_operators() -> None:
    at_least, above = parse_gate("huabei_success_rate >= 97%"), parse_gate("huabei_success_rate > 97%")
    assert at_least.holds(0.97)
    assert not above.holds(0.97)
    assert at_least.holds(0.98)
    assert above.holds(0.98)
    assert not at_least.holds(math.nan)
    assert not parse_gate("double_charges == 0").holds(math.nan)
    assert parse_gate("checkout_time_p95 <= 45s").holds(45.0)
    assert not parse_gate("checkout_time_p95 < 45s").holds(45.0)
    assert at_least.higher_is_better
    assert not parse_gate("abandonment_rate <= 2%").higher_is_better


def test_every_metric_has_a_kind_and_zone_metrics_exist() -> None:
    catalogue = metric_catalogue()
    assert set(ZONE_METRICS) <= catalogue
    assert metric_kind("huabei_success_rate") == "fraction"
    assert metric_kind("gateway_utilisation") == "fraction"
    assert metric_kind("outcome_share_paid_huabei") == "fraction"
    assert metric_kind("queue_wait_mean") == "duration"
    assert metric_kind("double_charges") == "count"
    assert metric_kind("ledger_one_sided") == "count"
    assert metric_kind("revenue") == "number"
    assert split_metric(zone_metric("shoppers", "a")) == ("shoppers", "a")
    assert split_metric("shoppers") == ("shoppers", None)
    # The zone keys the result file writes are exactly the ones gates build.
    zone_keys = {key for key in ReplicationStats().metrics() if "[" in key}
    assert all(split_metric(key)[0] in ZONE_METRICS for key in zone_keys)


def test_scenario_gates_parse(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "smoke.yaml")
    gates = scenario.parsed_gates()
    assert [g.name for g in gates] == list(scenario.gates)
    assert all(isinstance(g, Gate) for g in gates)


# --------------------------------------------------------------------------- properties

_WRITTEN = {
    "fraction": st.integers(0, 10_000).map(lambda i: f"{i / 100:g}%"),
    "duration": st.sampled_from(["ms", "s", "m", "h"]).flatmap(
        lambda unit: st.integers(0, 5_000).map(lambda n: f"{n}{unit}")),
    "count": st.integers(0, 1_000_000).map(str),
    "number": st.floats(-1e9, 1e9, allow_nan=False).map(lambda x: f"{x:.6g}"),
}


@st.composite
def gate_texts(draw: st.DrawFn) -> str:
    metric = draw(st.sampled_from(sorted(metric_catalogue())))
    op = draw(st.sampled_from(OPERATORS))
    value = draw(_WRITTEN[metric_kind(metric)])
    spaces = draw(st.sampled_from(["", " ", "  "]))
    return f"{metric}{spaces}{op}{spaces}{value}"


@given(gate_texts())
def test_name_round_trips(text: str) -> None:
    gate = parse_gate(text)
    again = parse_gate(gate.name)
    assert (again.metric, again.op, again.name) == (gate.metric, gate.op, gate.name)
    assert again.threshold == pytest.approx(gate.threshold, rel=1e-5, abs=1e-9)


@given(gate_texts(), st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_holds_agrees_with_the_operator(text: str, value: float) -> None:
    gate = parse_gate(text)
    expected = {">=": value >= gate.threshold, "<=": value <= gate.threshold, "==": value == gate.threshold,
                "<": value < gate.threshold, ">": value > gate.threshold}[gate.op]
    assert gate.holds(value) is expected


def test_format_threshold() -> None:
    assert format_threshold("huabei_success_rate[zone=x]", 0.905) == "90.5%"
    assert format_threshold("checkout_time_p95", 0.25) == "250ms"
    assert format_threshold("double_charges", 0.0) == "0"
