"""Control endpoints: health, metrics, the ledger audit and settlement, reset, the scenario clock."""

from __future__ import annotations

import time

import pytest
from harness import Harness, StubFactory, options

from load.gateway.clock import ScenarioClock

pytestmark = pytest.mark.live


def test_health_names_the_scenario(stub: Harness) -> None:
    status, body = stub.get("/control/health")
    assert status == 200
    assert (body["status"], body["scenario"], body["seed"], body["scenario_time"]) == ("ok", "gateway-tests", 11, 600.0)


def test_metrics_count_methods_replies_and_latency(stub: Harness) -> None:
    stub.pay("T1", stub.shoppers()[0].code(0), 88.0)
    stub.query("T1")
    stub.post(None, {"method": "nope"})
    metrics = stub.get("/control/metrics")[1]
    assert metrics["by_method"] == {"alipay.trade.pay": 1, "alipay.trade.query": 1, "(invalid)": 1}
    assert metrics["by_reply"]["10000"] == 2
    assert metrics["by_reply"]["40002:isv.invalid-method"] == 1
    assert (metrics["in_flight"], metrics["queued"], metrics["busy_rejections"]) == (0, 0, 0)
    latency = metrics["latency_seconds"]
    assert latency["count"] == 3
    assert 0 < latency["p50"] <= latency["max"] < 5


def test_ledger_shows_waiting_trades_and_settles_them(stub: Harness) -> None:
    first, second = stub.shoppers(count=2)
    stub.pay("T1", first.code(0), 600.0)
    stub.pay("T2", second.code(0), 88.0)
    view = stub.ledger()
    assert (view["trades"], view["waiting"]) == (2, ["T1"])
    stub.cancel("T1")
    settled = stub.ledger(settle=True)
    assert settled["audit"] == {"trades": 2, "paid": 1, "closed": 1, "refunded": 0, "double_charges": 0,
                                "one_sided": 0, "waiting_at_end": 0}
    assert stub.ledger(settle=True)["audit"] == settled["audit"]  # settling again adds nothing
    assert settled["open_loops"] == {}


def test_double_charge_of_one_shopper_is_seen(stub: Harness) -> None:
    shopper = stub.shoppers()[0]
    stub.pay("T1", shopper.code(0), 88.0)
    stub.pay("T2", shopper.code(1), 88.0)  # the till started a second attempt without cancelling the first
    assert list(stub.ledger()["double_charged_buyers"].values()) == [["T1", "T2"]]
    settled = stub.ledger(settle=True)
    assert (settled["audit"]["double_charges"], settled["audit"]["one_sided"]) == (1, 1)
    assert settled["open_loops"] == {"T1": "paid, but no till recorded it (one-sided)"}


def test_terminals_post_their_checkouts(stub: Harness) -> None:
    first, second = stub.shoppers(count=2)
    stub.pay("T1", first.code(0), 88.0)
    stub.pay("T2", second.code(0), 88.0)
    status, view = stub.post_json("/control/ledger", {"trades": ["T1"], "acknowledged": "T1", "paid_otherwise": False})
    assert (status, view["audit"]["paid"], view["audit"]["one_sided"]) == (200, 1, 0)
    status, view = stub.post_json("/control/ledger", {"checkouts": [{"trades": ["T2"], "acknowledged": None}]})
    assert (status, view["audit"]["one_sided"]) == (200, 1)  # paid at the gateway, never known to the till
    assert stub.post_json("/control/ledger", {"trades": "T1"})[0] == 400
    assert stub.post_json("/control/ledger", [1, 2])[0] == 400


def test_reset_forgets_trades_and_counters(stub: Harness) -> None:
    code = stub.shoppers()[0].code(0)
    stub.pay("T1", code, 88.0)
    assert stub.post_json("/control/reset", {})[0] == 200
    assert stub.ledger()["trades"] == 0
    assert stub.get("/control/metrics")[1]["requests"] == 0
    assert stub.pay("T1", code, 88.0).code == "10000"  # the code is fresh again


def test_clock_can_be_set_and_compressed(stub: Harness) -> None:
    status, body = stub.post_json("/control/clock", {"scenario_time": "1h", "compression": 0})
    assert (status, body["scenario_time"]) == (200, 3600.0)
    assert stub.post_json("/control/clock", {"compression": -1})[0] == 400
    assert stub.post_json("/control/clock", {"scenario_time": "soon"})[0] == 400
    assert stub.post_json("/control/clock", {"compression": "fast"})[0] == 400
    assert stub.raw("POST", "/control/clock", b"{not json")[0] == 400


def test_clock_origin_and_compression_from_options(make_stub: StubFactory) -> None:
    stub = make_stub(options=options(clock_origin=7200.0, compression=60.0))
    first = stub.now()
    time.sleep(0.2)
    assert 7200.0 <= first < stub.now() < 7200.0 + 60.0


def test_scenario_clock_arithmetic() -> None:
    clock = ScenarioClock(origin=100.0, compression=0.0)
    assert clock.now() == 100.0
    assert clock.real(2.0) == 2.0  # frozen: capacity waits 1:1
    clock.set(scenario_time=50.0, compression=10.0)
    assert 50.0 <= clock.now() < 51.0
    assert clock.real(2.0) == pytest.approx(0.2)
    assert len(clock.alipay(50.0)) == len("2026-01-01 00:00:00")
    with pytest.raises(ValueError, match="compression"):
        clock.set(compression=float("inf"))
    with pytest.raises(ValueError, match="finite"):
        clock.set(scenario_time=float("nan"))


def test_metrics_report_busy_time_and_utilisation(make_stub: StubFactory) -> None:
    # Frozen clock: each 100 ms of service holds a worker for 100 ms of wall time, and time runs 1:1.
    started = time.monotonic()
    stub = make_stub("gateway.workers=2", "gateway.service_time=100ms")
    shoppers = stub.shoppers(count=3)
    for index, shopper in enumerate(shoppers):
        assert stub.pay(f"T{index}", shopper.code(0), 88.0).code == "10000"
    metrics = stub.get("/control/metrics")[1]
    wall = time.monotonic() - started
    assert metrics["busy_seconds"] == pytest.approx(0.3)
    # utilisation = busy / (workers x elapsed), the stub's elapsed time lying between 0.3 s of service and the wall
    assert 0.3 / (2 * wall) <= metrics["utilisation"] <= 0.3 / (2 * 0.3)
    assert isinstance(metrics["utilisation"], float)
    assert stub.post_json("/control/reset", {})[0] == 200
    after = stub.get("/control/metrics")[1]
    assert (after["busy_seconds"], after["utilisation"]) == (0.0, 0.0)


def test_instant_workers_are_never_busy(stub: Harness) -> None:
    stub.pay("T1", stub.shoppers()[0].code(0), 88.0)
    metrics = stub.get("/control/metrics")[1]
    assert (metrics["busy_seconds"], metrics["utilisation"]) == (0.0, 0.0)


def test_busy_time_is_in_scenario_seconds_under_compression(make_stub: StubFactory) -> None:
    # 10x compression: 2 s of scenario service hold a worker for 0.2 s, and 1 s of wall is 10 s of scenario time.
    started = time.monotonic()
    stub = make_stub("gateway.workers=1", "gateway.service_time=2s", options=options(compression=10.0))
    assert stub.pay("T1", stub.shoppers()[0].code(0), 88.0).code == "10000"
    metrics = stub.get("/control/metrics")[1]
    wall = time.monotonic() - started
    assert metrics["busy_seconds"] == pytest.approx(2.0)
    assert 2.0 / (10.0 * wall) <= metrics["utilisation"] <= 1.0


def test_scenario_clock_elapsed_excludes_jumps() -> None:
    clock = ScenarioClock(origin=0.0, compression=0.0)
    time.sleep(0.05)
    frozen = clock.elapsed()
    assert 0.05 <= frozen < 1.0  # frozen: runs 1:1 with the wall, as capacity waits
    clock.set(scenario_time=3600.0, compression=100.0)  # a jump is no time that ran
    assert frozen <= clock.elapsed() < frozen + 1.0
    time.sleep(0.05)
    assert clock.elapsed() >= frozen + 100.0 * 0.05
