"""What every output is derived from: per-minute series, the live part, sim vs live, the verdict."""

from __future__ import annotations

import math

import pytest

from reports.context import build_context, minute_series
from scanrush.results import ReplicationStats

from .conftest import gate_verdicts, live_result, sim_result, with_live


def test_minute_series_derives_success_rate_and_utilisation() -> None:
    series = minute_series({"paid_huabei": [9.0, 0.0], "huabei_checkouts": [10.0, 0.0],
                            "gateway_busy": [120.0, 240.0]}, 0.0, 4.0)
    assert series.columns["huabei_success_rate"][0] == pytest.approx(0.9)
    assert math.isnan(series.columns["huabei_success_rate"][1])  # no checkouts: undefined, not 0
    assert series.columns["gateway_utilisation"] == pytest.approx([0.5, 1.0])
    assert series.times() == [0.5, 1.5]


def test_sim_result_has_no_live_part_and_judges_the_scenario_gates() -> None:
    ctx = build_context(sim_result())
    assert ctx.live is None
    assert ctx.live_series is None
    assert ctx.drift == []
    assert ctx.window is None
    assert ctx.verdict is not None  # judged from SCENARIO's gates
    assert {row.gate.name for row in ctx.verdict.gates} >= {"huabei_success_rate >= 97%"}


def test_stored_verdict_wins() -> None:
    result = sim_result()
    result.verdict = gate_verdicts().to_dict()  # type: ignore[attr-defined]
    ctx = build_context(result)
    assert ctx.verdict == gate_verdicts()


def test_unjudgeable_gates_leave_a_note_not_an_error() -> None:
    result = sim_result()
    result.metadata.scenario["gates"] = ["no_such_metric >= 3"]
    ctx = build_context(result)
    assert ctx.verdict is None
    assert ctx.verdict_note is not None
    assert "could not be judged" in ctx.verdict_note
    result.metadata.scenario.pop("gates")
    assert "no gates" in (build_context(result).verdict_note or "")


def test_live_part_is_placed_on_the_promotions_clock_and_compared_per_cause() -> None:
    ctx = build_context(with_live(sim_result(), live_result(network_failures=40)))
    assert ctx.window == (180.0, 360.0)
    assert ctx.live_series is not None
    assert ctx.live_series.start == 180.0
    rows = {row.metric: row for row in ctx.drift}
    assert set(rows) == {"huabei_success_rate", *(f"failure_rate_{c}" for c in
                                                  ("firmware", "merchant", "credit", "network", "risk", "capacity"))}
    network = rows["failure_rate_network"]
    # sim over minutes 3..5 of the series: 1 + 6 + 1 network failures of 30 checkouts, every replication
    assert network.sim.estimate == pytest.approx(8 / 30)
    assert network.live.estimate == pytest.approx(40 / 82)
    assert network.live.method == "wilson"
    assert network.drift is True
    assert rows["failure_rate_firmware"].drift is False


def test_one_sim_replication_cannot_flag_drift() -> None:
    ctx = build_context(with_live(sim_result(n=1), live_result(network_failures=40)))
    assert all(row.drift is None for row in ctx.drift)


@pytest.mark.skipif("window" not in ReplicationStats.__dataclass_fields__,
                    reason="ReplicationStats.window not in this tree yet")
def test_sim_window_stats_are_preferred_to_the_series() -> None:
    result = sim_result()
    for rep in result.replications:
        rep.window = replication_window()  # type: ignore[attr-defined]
    ctx = build_context(with_live(result, live_result()))
    network = next(row for row in ctx.drift if row.metric == "failure_rate_network")
    assert network.sim.estimate == pytest.approx(3 / 45)


def replication_window() -> ReplicationStats:
    from .conftest import replication

    return replication(0)


def test_live_only_result_uses_its_window_as_the_clock() -> None:
    ctx = build_context(live_result())
    assert ctx.live is ctx.result
    assert ctx.sim_series.start == 180.0
    assert ctx.drift == []
