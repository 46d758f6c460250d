"""The result file: derived metrics, aggregate CIs, round trip, atomic writes, clear read errors."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from scanrush.domain.outcomes import CAUSES, HUABEI_FAILURES, OUTCOMES, Cause, Outcome
from scanrush.errors import InfrastructureError, InputError
from scanrush.gates import ZONE_METRICS, zone_metric
from scanrush.results import (
    FORMAT,
    VERSION,
    Metadata,
    ReplicationStats,
    RunResult,
    compare_runs,
    content_hash,
    dumps_result,
    merge_replications,
    metric_direction,
    read_result,
    write_result,
)
from scanrush.stats.ci import paired_difference, t_interval

FAILURE_CAUSES = [Cause.NETWORK, Cause.NETWORK, Cause.CAPACITY, Cause.FIRMWARE, Cause.RISK, Cause.CREDIT]


def make_replication(index: int, seed: int = 7, better: float = 0.0) -> ReplicationStats:
    """A plausible replication; ``better`` lowers the failure probability (same draws: CRN)."""
    rng = np.random.default_rng([seed, index])
    r = ReplicationStats(index=index, seed=[seed, index], shoppers=400)
    for _ in range(r.shoppers):
        u, pick, basket = rng.random(), int(rng.integers(len(FAILURE_CAUSES))), float(rng.lognormal(5, 0.8))
        wait = float(rng.exponential(20.0)) if rng.random() < 0.6 else 0.0
        if u < 0.05:
            r.record_outcome(Outcome.ABANDONED_QUEUE)
            r.revenue_lost += basket
            continue
        r.waited += wait > 0
        r.queue_wait.record(wait)
        r.checkout_time.record(wait + float(rng.lognormal(3, 0.4)))
        if u < 0.55:
            r.record_outcome(Outcome.PAID_OTHER)
        elif u < 0.63 - better:
            failure = HUABEI_FAILURES[pick % 3]
            r.record_outcome(failure, FAILURE_CAUSES[pick])
            if failure is Outcome.LEFT_UNPAID:
                r.revenue_lost += basket
        else:
            r.record_outcome(Outcome.PAID_HUABEI)
            r.payment_latency.record(float(rng.lognormal(-2.5, 0.5)))
            r.revenue += basket
        r.record_attempt("10000")
        r.add_to_series("arrivals", int(rng.integers(0, 5)))
    r.set_series("queue_length", 0, float(index))
    r.ledger.update(trades=300, paid=280, closed=20, double_charges=0)
    r.gateway.update(requests=350.0, busy_seconds=28.0, utilisation=0.4 + 0.01 * index)
    return r


def make_result(n: int = 5, *, seed: int = 7, better: float = 0.0, name: str = "promo") -> RunResult:
    metadata = Metadata.create(scenario_name=name, scenario_path=f"scenarios/{name}.yaml",
                               scenario_hash=content_hash(f"name: {name}\n"), scenario={"name": name, "seed": seed},
                               seed=seed, replications=n)
    return RunResult(kind="sim", metadata=metadata, replications=[make_replication(i, seed, better) for i in range(n)])


# -- one replication ---------------------------------------------------------------------


def test_derived_metrics_known_values() -> None:
    r = ReplicationStats(shoppers=10)
    for outcome, cause in [(Outcome.PAID_HUABEI, None)] * 6 + [
        (Outcome.LEFT_UNPAID, Cause.NETWORK), (Outcome.UNRESOLVED, Cause.NETWORK),
        (Outcome.ABANDONED_QUEUE, None), (Outcome.PAID_OTHER, None),
    ]:
        r.record_outcome(outcome, cause)
    assert r.huabei_checkouts() == 8
    assert r.huabei_success_rate() == 6 / 8
    assert r.abandonment_rate() == 1 / 10
    assert r.cause_rate(Cause.NETWORK) == 2 / 8
    assert r.cause_rate("capacity") == 0.0
    assert r.outcome_by_cause == {"network": {"left_unpaid": 1, "unresolved": 1}}
    m = r.metrics()
    assert m["unresolved"] == 1.0
    assert m["failure_rate_network"] == 2 / 8
    assert math.isnan(m["checkout_time_p95"])  # nothing recorded: undefined, not 0


def test_metric_names_cover_what_gates_need() -> None:
    names = set(ReplicationStats().metrics())
    expected = {"huabei_success_rate", "abandonment_rate", "checkout_time_p50", "checkout_time_p95",
                "checkout_time_p99", "queue_wait_mean", "payment_latency_p95", "revenue_lost", "unresolved",
                "double_charges", "gateway_utilisation"}
    assert expected <= names
    assert {f"failure_rate_{c.value}" for c in CAUSES} <= names
    assert {f"outcome_share_{o.value}" for o in OUTCOMES} <= names


def test_rates_over_nothing_are_nan() -> None:
    r = ReplicationStats()
    assert math.isnan(r.huabei_success_rate())
    assert math.isnan(r.abandonment_rate())


def test_a_failed_huabei_checkout_needs_exactly_one_cause() -> None:
    r = ReplicationStats()
    with pytest.raises(ValueError, match="needs a cause"):
        r.record_outcome(Outcome.LEFT_UNPAID)
    with pytest.raises(ValueError, match="takes no cause"):
        r.record_outcome(Outcome.PAID_HUABEI, Cause.RISK)


def test_series_helpers_grow_with_zeros() -> None:
    r = ReplicationStats()
    r.add_to_series("arrivals", 2)
    r.add_to_series("arrivals", 2, 3.0)
    r.set_series("queue_length", 1, 7.0)
    assert r.series == {"arrivals": [0.0, 0.0, 4.0], "queue_length": [0.0, 7.0]}


def test_metric_direction() -> None:
    assert metric_direction("huabei_success_rate") == 1
    assert metric_direction("checkout_time_p95") == -1
    assert metric_direction("failure_rate_network") == -1
    assert metric_direction("gateway_utilisation") == 0


# -- aggregate ---------------------------------------------------------------------------


def test_aggregate_metrics_are_t_intervals_over_replications() -> None:
    result = make_result(6)
    agg = result.aggregate
    for name in ("huabei_success_rate", "checkout_time_p95", "queue_wait_mean", "gateway_utilisation"):
        values = [r.metrics()[name] for r in result.replications]
        assert agg.metrics[name] == t_interval(values, 0.95)
    assert agg.n == 6
    assert agg.confidence == 0.95
    assert agg.cause_rates["network"] == agg.metrics["failure_rate_network"]
    assert agg.outcome_shares["paid_huabei"] == agg.metrics["outcome_share_paid_huabei"]


def test_aggregate_totals_pooled_histograms_and_series() -> None:
    result = make_result(4)
    agg = result.aggregate
    reps = result.replications
    assert agg.totals["shoppers"] == 1600
    assert agg.outcome_totals["paid_huabei"] == sum(r.outcomes["paid_huabei"] for r in reps)
    assert agg.cause_totals["network"] == sum(r.failures_by_cause["network"] for r in reps)
    assert sum(agg.cause_totals.values()) == sum(agg.outcome_totals[o.value] for o in HUABEI_FAILURES)
    assert agg.attempt_results["10000"] == sum(r.attempt_results["10000"] for r in reps)
    pooled = agg.histograms["checkout_time"]
    assert pooled["count"] == sum(r.checkout_time.count for r in reps)
    assert pooled["p95"] == result.merged_histogram("checkout_time").percentile(95)
    assert agg.histograms["queue_wait"]["zero_fraction"] == pytest.approx(
        sum(r.queue_wait.zeros for r in reps) / sum(r.queue_wait.count for r in reps))
    assert agg.series["queue_length"] == [1.5]  # mean of 0, 1, 2, 3
    assert len(agg.series["arrivals"]) == 5


def test_aggregate_of_one_replication_is_honest() -> None:
    agg = make_result(1).aggregate
    ci = agg.metrics["huabei_success_rate"]
    assert ci.n == 1
    assert not ci.finite
    assert ci.high == math.inf


def test_aggregate_of_nothing_is_nan() -> None:
    agg = make_result(0).aggregate
    assert agg.n == 0
    assert math.isnan(agg.metrics["huabei_success_rate"].estimate)


# -- comparison --------------------------------------------------------------------------


def test_compare_runs_pairs_replications_by_seed() -> None:
    base, twin = make_result(8), make_result(8, better=0.04, name="twin")
    comparison = compare_runs(base, twin)
    expected = paired_difference(base.metric_values("huabei_success_rate"), twin.metric_values("huabei_success_rate"))
    assert comparison.differences["huabei_success_rate"] == expected
    assert expected.low > 0  # the twin is clearly better, same shoppers
    assert (comparison.base_scenario, comparison.twin_scenario) == ("promo", "twin")


def test_compare_runs_refuses_different_seeds() -> None:
    with pytest.raises(InputError, match="same seeds"):
        compare_runs(make_result(3, seed=1), make_result(3, seed=2))


# -- the file ----------------------------------------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    result = make_result(3)
    result.partial, result.interrupted = True, True
    result.comparison = compare_runs(make_result(3), result)
    path = write_result(tmp_path / "out" / "result.json", result)
    back = read_result(path)
    assert back.to_dict() == result.to_dict()
    assert back.aggregate == result.aggregate
    assert back.replications[1].checkout_time == result.replications[1].checkout_time
    assert back.comparison == result.comparison
    assert dumps_result(back) == path.read_text(encoding="utf-8")


def test_json_is_compact_deterministic_and_nan_safe(tmp_path: Path) -> None:
    result = make_result(1)  # one replication: infinite bounds; empty histograms would be NaN
    result.replications[0].payment_latency = type(result.replications[0].payment_latency)()
    text = dumps_result(result)
    assert text == dumps_result(result)
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")) + "\n"  # compact, sorted

    def no_bare_constants(token: str) -> float:
        raise AssertionError(f"bare {token} in JSON")

    data = json.loads(text, parse_constant=no_bare_constants)
    assert data["aggregate"]["metrics"]["huabei_success_rate"]["high"] == "Infinity"
    assert data["aggregate"]["metrics"]["payment_latency_p95"]["estimate"] == "NaN"
    back = read_result(write_result(tmp_path / "r.json", result))
    assert back.aggregate.metrics["huabei_success_rate"].high == math.inf
    assert math.isnan(back.replications[0].metrics()["payment_latency_p95"])


def test_metadata_is_stamped(tmp_path: Path) -> None:
    meta = make_result(1).metadata
    assert meta.created.endswith("Z")
    assert {"scanrush", "python", "simpy", "numpy", "platform"} <= set(meta.versions)
    assert meta.scenario_hash.startswith("sha256:")
    assert len(meta.scenario_hash) == 7 + 64
    data = json.loads(dumps_result(make_result(1)))
    assert (data["format"], data["version"], data["kind"]) == (FORMAT, VERSION, "sim")


def test_atomic_write_keeps_the_old_file_when_serialisation_fails(tmp_path: Path) -> None:
    path = write_result(tmp_path / "result.json", make_result(2))
    before = path.read_bytes()
    broken = make_result(2)
    broken.replications[0].extra["oops"] = object()
    with pytest.raises(TypeError):
        write_result(path, broken)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["result.json"]


def test_atomic_write_cleans_up_when_the_rename_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_result(tmp_path / "result.json", make_result(2))
    before = path.read_bytes()

    def refuse(*_: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(InfrastructureError, match=r"result\.json"):
        write_result(path, make_result(3))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["result.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "not a scanrush result file: not JSON"),
        ('{"format": "k6-summary"}', "not a scanrush result file"),
        ("[1, 2, 3]", "not a scanrush result file"),
        ('{"format": "scanrush-result", "version": 99}', "newer scanrush"),
        ('{"format": "scanrush-result", "version": "1"}', "invalid version"),
        ('{"format": "scanrush-result", "version": 1}', "damaged"),
    ],
)
def test_reading_a_wrong_file_names_it(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "wrong.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        read_result(path)
    assert str(path) in str(info.value)
    assert info.value.exit_code == 2


def test_reading_a_damaged_replication_names_the_file(tmp_path: Path) -> None:
    data = json.loads(dumps_result(make_result(1)))
    data["replications"][0]["shoppers"] = "many"
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"damaged\.json: damaged scanrush result file: expected an integer"):
        read_result(path)


def test_reading_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such result file"):
        read_result(tmp_path / "nope.json")


def test_refresh_recomputes_after_adding_replications() -> None:
    result = make_result(2)
    assert result.aggregate.n == 2
    result.replications.append(make_replication(2))
    assert result.aggregate.n == 2  # cached until refreshed
    result.refresh()
    assert result.aggregate.n == 3
    assert len(result.metric_values("huabei_success_rate")) == 3


# -- zones, the live window, check's additions -----------------------------------------------


def with_zones_and_window(r: ReplicationStats) -> ReplicationStats:
    """``r`` with its counts split over two zones and a window holding a part of its shoppers."""
    paid, abandoned = r.outcomes["paid_huabei"], r.outcomes["abandoned_queue"]
    checkouts = r.huabei_checkouts()
    r.zones = {
        "fashion": {"shoppers": r.shoppers - 100, "huabei_checkouts": checkouts - 20, "paid_huabei": paid - 15,
                    "abandoned": abandoned - 5},
        "supermarket": {"shoppers": 100, "huabei_checkouts": 20, "paid_huabei": 15, "abandoned": 5},
    }
    window = ReplicationStats(index=r.index, seed=list(r.seed), shoppers=40, ledger={}, gateway={})
    for outcome, cause in [(Outcome.PAID_HUABEI, None)] * 9 + [(Outcome.LEFT_UNPAID, Cause.RISK)] + \
            [(Outcome.PAID_OTHER, None)] * 30:
        window.record_outcome(outcome, cause)
        window.checkout_time.record(30.0)
    window.zones = {"fashion": {"shoppers": 40, "huabei_checkouts": 10, "paid_huabei": 9, "abandoned": 0}}
    window.extra["window"] = [3600.0, 3780.0]
    r.window = window
    return r


def test_zone_metrics_from_zone_counts() -> None:
    r = with_zones_and_window(make_replication(0))
    m = r.metrics()
    assert m["shoppers[zone=supermarket]"] == 100.0
    assert m["huabei_checkouts[zone=supermarket]"] == 20.0
    assert m["huabei_success_rate[zone=supermarket]"] == 15 / 20
    assert m["abandonment_rate[zone=supermarket]"] == 5 / 100
    assert m["shoppers[zone=fashion]"] + m["shoppers[zone=supermarket]"] == m["shoppers"]
    assert {zone_metric(base, "fashion") for base in ZONE_METRICS} <= set(m)
    r.zones["empty"] = {"shoppers": 0, "huabei_checkouts": 0, "paid_huabei": 0, "abandoned": 0}
    assert math.isnan(r.metrics()["huabei_success_rate[zone=empty]"])  # undefined, not 0


def test_zone_metrics_are_aggregated_and_directed() -> None:
    result = make_result(3)
    for r in result.replications:
        with_zones_and_window(r)
    interval = result.aggregate.metrics["huabei_success_rate[zone=supermarket]"]
    assert interval.estimate == 0.75
    assert interval.n == 3
    assert metric_direction("huabei_success_rate[zone=fashion]") == 1
    assert metric_direction("abandonment_rate[zone=fashion]") == -1
    assert metric_direction("shoppers[zone=fashion]") == 0


def test_window_replications_and_window_result() -> None:
    result = make_result(3)
    assert result.window_replications() == []
    for r in result.replications:
        with_zones_and_window(r)
    windows = result.window_replications()
    assert [w.index for w in windows] == [0, 1, 2]
    assert all(w is r.window for w, r in zip(windows, result.replications, strict=True))
    window_run = result.window_result()
    assert window_run.aggregate.n == 3
    assert window_run.aggregate.metrics["huabei_success_rate"].estimate == 0.9
    assert window_run.aggregate.cause_totals["risk"] == 3
    assert window_run.metadata is result.metadata
    assert math.isnan(window_run.aggregate.metrics["double_charges"].estimate)  # no ledger for a window


def test_round_trip_with_zones_window_live_and_verdict(tmp_path: Path) -> None:
    result = make_result(2)
    for r in result.replications:
        with_zones_and_window(r)
    live = make_result(1, name="promo-live")
    live.kind = "live"
    live.replications[0].mechanism = "live"
    with_zones_and_window(live.replications[0]).window = None
    result.live = live
    result.verdict = {"decision": "no-go", "gates": [{"observed": math.nan, "upper": math.inf}]}
    path = write_result(tmp_path / "check.json", result)
    back = read_result(path)
    assert dumps_result(back) == path.read_text(encoding="utf-8")
    assert back.replications[0].zones == result.replications[0].zones
    assert back.replications[0].window is not None
    assert back.replications[0].window.to_dict() == result.replications[0].window.to_dict()  # type: ignore[union-attr]
    assert back.replications[0].window.window is None
    assert back.live is not None
    assert back.live.kind == "live"
    assert back.live.replications[0].to_dict() == live.replications[0].to_dict()
    assert back.live.aggregate == live.aggregate
    # Raw, as written: non-finite numbers keep their JSON spellings for Verdict.from_dict to read.
    assert back.verdict == {"decision": "no-go", "gates": [{"observed": "NaN", "upper": "Infinity"}]}


def test_files_without_zones_window_live_or_verdict_still_read(tmp_path: Path) -> None:
    data = json.loads(dumps_result(make_result(2)))
    del data["live"], data["verdict"]
    for rep in data["replications"]:
        del rep["zones"], rep["window"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    back = read_result(path)
    assert back.live is None
    assert back.verdict is None
    assert all(r.zones == {} and r.window is None for r in back.replications)
    assert not any("[zone=" in name for name in back.aggregate.metrics)


def test_a_verdict_that_is_not_an_object_is_damage(tmp_path: Path) -> None:
    data = json.loads(dumps_result(make_result(1)))
    data["verdict"] = "GO"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="verdict must be an object"):
        read_result(path)


def test_merging_live_parts_adds_zone_counts() -> None:
    parts = [with_zones_and_window(make_replication(0)), with_zones_and_window(make_replication(0, seed=8))]
    merged = merge_replications(parts)
    for zone in ("fashion", "supermarket"):
        for key, count in merged.zones[zone].items():
            assert count == parts[0].zones[zone][key] + parts[1].zones[zone][key]
    assert merged.window is not None
    assert merged.window.shoppers == 80
    parts[1].window = None
    assert merge_replications(parts).window is None  # half a window is no window
