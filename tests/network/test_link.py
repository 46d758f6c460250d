"""A zone's link: congestion, jitter, bandwidth, outage windows, and the TCP legs across outages."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanrush.network.link import ZoneLink
from scanrush.network.tcp import cdf, data_send_offsets, request_leg, response_leg
from scanrush.scenario.schema import Network, Pos


def link(pos: Pos | None = None, **network: Any) -> ZoneLink:
    return ZoneLink(Network.model_validate({"rtt": "120ms", **network}), pos or Pos())


def never_called() -> float:
    raise AssertionError("no uniform should be drawn")


# --------------------------------------------------------------------------- conditions


CONGESTED: dict[str, Any] = {
    "loss": "2%",
    "congestion": {"knee": 10, "rtt_per_request": "5ms", "loss_per_request": "1%", "max_loss": "20%"},
}


def test_below_the_knee_the_link_is_as_declared() -> None:
    zone = link(**CONGESTED)
    assert zone.conditions(0) == (0.12, 0.02)
    assert zone.conditions(10) == (0.12, 0.02)


def test_past_the_knee_rtt_and_loss_grow_linearly() -> None:
    rtt, loss = link(**CONGESTED).conditions(14)
    assert rtt == pytest.approx(0.12 + 4 * 0.005)
    assert loss == pytest.approx(0.02 + 4 * 0.01)


def test_congested_loss_stops_at_max_loss() -> None:
    rtt, loss = link(**CONGESTED).conditions(1_000)
    assert loss == 0.2
    assert rtt == pytest.approx(0.12 + 990 * 0.005)


def test_congestion_never_lowers_a_loss_above_max_loss() -> None:
    zone = link(loss="30%", congestion={"knee": 1, "loss_per_request": "1%", "max_loss": "20%"})
    assert zone.conditions(50)[1] == 0.3


def test_without_congestion_any_load_leaves_the_link_alone() -> None:
    assert link(loss="1%").conditions(10**6) == (0.12, 0.01)


# --------------------------------------------------------------------------- jitter, bandwidth


def test_jitter_is_symmetric_like_toxiproxy_latency() -> None:
    zone = link(jitter="60ms")
    uniform = random.Random(4).random
    draws = [zone.draw_rtt(uniform, 1) for _ in range(2_000)]
    assert min(draws) >= 0.06
    assert max(draws) <= 0.18
    assert sum(draws) / len(draws) == pytest.approx(0.12, abs=0.003)


def test_jitter_rides_on_the_congested_rtt() -> None:
    zone = link(jitter="60ms", congestion={"knee": 1, "rtt_per_request": "10ms"})
    assert zone.draw_rtt(lambda: 0.75, 3) == pytest.approx(0.12 + 2 * 0.01 + 0.03)


def test_no_jitter_draws_nothing() -> None:
    assert link().draw_rtt(never_called, 5) == 0.12


def test_serialization_is_shared_by_the_active_requests() -> None:
    zone = link(bandwidth="2Mbps")
    assert zone.serialization_delay(1200, 1) == pytest.approx(0.0048)
    assert zone.serialization_delay(1200, 3) == pytest.approx(3 * 0.0048)
    assert zone.serialization_delay(1200, 0) == pytest.approx(0.0048)


def test_request_and_response_sizes_come_from_pos() -> None:
    zone = link(Pos(request_size=1000.0, response_size=2000.0), bandwidth="1Mbps")
    assert zone.request_delay(2) == pytest.approx(2 * 0.008)
    assert zone.response_delay(1) == pytest.approx(0.016)


def test_unlimited_bandwidth_costs_nothing() -> None:
    assert link().serialization_delay(10**6, 100) == 0.0


# --------------------------------------------------------------------------- outages


OUTAGES: dict[str, Any] = {"loss": "3%", "outages": [{"at": "1h", "for": "2m"}, {"at": "10m", "for": "30s"}]}


def test_loss_is_total_inside_an_outage_and_as_given_outside() -> None:
    loss_at = link(**OUTAGES).loss_at(0.03)
    assert loss_at(599.9) == 0.03
    assert loss_at(600.0) == 1.0  # a window includes its start ...
    assert loss_at(629.9) == 1.0
    assert loss_at(630.0) == 0.03  # ... and not its end
    assert loss_at(3_660.0) == 1.0
    assert loss_at(3_720.0) == 0.03
    assert loss_at(0.0) == 0.03


def test_overlapping_outages_merge() -> None:
    zone = link(outages=[{"at": 100, "for": 50}, {"at": 120, "for": 100}, {"at": 220, "for": 10}])
    assert zone.describe()["outages"] == [[100.0, 230.0]]


def test_loss_at_is_one_callable_per_loss_value() -> None:
    zone = link(**OUTAGES)
    assert zone.loss_at(0.05) is zone.loss_at(0.05)
    assert zone.loss_at(0.05) is not zone.loss_at(0.06)
    assert link().loss_at(0.01)(123.0) == 0.01


windows = st.lists(
    st.tuples(st.floats(0.0, 1_000.0), st.floats(0.001, 100.0)).map(lambda w: {"at": w[0], "for": w[1]}),
    max_size=6,
)


@given(outages=windows, times=st.lists(st.floats(-10.0, 1_200.0), max_size=40))
def test_outage_lookup_agrees_with_the_windows_in_any_query_order(
    outages: list[dict[str, float]], times: list[float]
) -> None:
    zone = link(outages=outages)
    network = Network.model_validate({"rtt": 0.1, "outages": outages})
    loss_at = zone.loss_at(0.25)
    for t in times:
        inside = any(window.contains(t) for window in network.outages)
        assert zone.in_outage(t) is inside
        assert loss_at(t) == (1.0 if inside else 0.25)


# --------------------------------------------------------------------------- the legs across an outage


def test_request_started_inside_a_long_outage_fails_at_the_connect_timeout() -> None:
    zone = link(loss="3%", outages=[{"at": "1h", "for": "10m"}])
    leg = request_leg(3_700.0, 0.12, zone.loss_at(0.03), random.Random(1).random, connect_timeout=3.0)
    assert leg.connected is False
    assert leg.failed_at == 3_703.0
    assert leg.arrives_at == math.inf


def test_response_into_an_outage_arrives_after_it_ends() -> None:
    """The gateway acted before the outage; its response is retransmitted until one send lands after it."""
    zone = link(outages=[{"at": 100, "for": 20}])
    loss_at = zone.loss_at(0.0)
    leg = request_leg(99.5, 0.12, loss_at, random.Random(2).random, connect_timeout=3.0)
    assert leg.arrives_at == pytest.approx(99.68)
    sent_at = leg.arrives_at + 0.4
    arrives = response_leg(sent_at, 0.12, loss_at, random.Random(2).random)
    first_after = next(sent_at + offset for offset in data_send_offsets(0.12) if sent_at + offset >= 120.0)
    assert arrives == pytest.approx(first_after + 0.06)


def test_a_blackhole_longer_than_the_kernel_patience_ends_in_connect_failure() -> None:
    zone = link(outages=[{"at": 0, "for": "1h"}])
    leg = request_leg(10.0, 0.12, zone.loss_at(0.0), random.Random(3).random, connect_timeout=600.0)
    assert leg.failed_at == 10.0 + 131.0  # Linux connect() gives up after ~131 s


def test_ambiguous_outcome_share_at_a_one_second_read_timeout() -> None:
    """p = 0.2, read timeout 1 s: the gateway had the request but the terminal timed out, as the model says."""
    zone = link(rtt="150ms", loss="20%")
    loss_at = zone.loss_at(0.2)
    uniform = random.Random(20).random
    n, ambiguous, done = 40_000, 0, 0
    for _ in range(n):
        leg = request_leg(50.0, 0.15, loss_at, uniform, connect_timeout=3.0)
        if leg.arrives_at <= 51.0:
            in_time = response_leg(leg.arrives_at + 0.3, 0.15, loss_at, uniform) <= 51.0
            done += in_time
            ambiguous += not in_time
    expected_done = cdf(1.0, 0.2, 0.15, 0.3)
    assert abs(done / n - expected_done) <= 4.0 * math.sqrt(expected_done * (1.0 - expected_done) / n)
    assert ambiguous / n == pytest.approx(0.20, abs=0.015)


# --------------------------------------------------------------------------- result file


def test_describe_names_the_mechanism_and_is_json() -> None:
    zone = link(jitter="20ms", bandwidth="2Mbps", **CONGESTED, outages=[{"at": 60, "for": 5}])
    described = zone.describe()
    assert described["mechanism"] == "tcp-model"
    assert described["peer"] == "linux"
    assert described["outages"] == [[60.0, 65.0]]
    assert described["congestion"] == {"knee": 10, "rtt_per_request": 0.005, "loss_per_request": 0.01, "max_loss": 0.2}
    assert json.loads(json.dumps(described)) == described
