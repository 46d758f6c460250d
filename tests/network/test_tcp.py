"""The TCP latency model: exact CDF against simulation.md §4, the two-leg sampler against the CDF."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanrush.network.tcp import (
    LossAt,
    Peer,
    RequestLeg,
    cdf,
    data_send_offsets,
    request_cdf,
    request_leg,
    response_leg,
    sample,
)

INF = math.inf


def constant(p: float) -> LossAt:
    def loss_at(_t: float) -> float:
        return p

    return loss_at


def scripted(*values: float) -> Callable[[], float]:
    """A uniform source that plays back ``values`` and fails loudly if the code asks for more."""
    stream: Iterator[float] = iter(values)

    def uniform() -> float:
        return next(stream)

    return uniform


def within(n: int, f: float) -> float:
    """Four standard errors of an empirical CDF at a point with true value ``f`` from ``n`` draws."""
    return 4.0 * math.sqrt(f * (1.0 - f) / n)


# --------------------------------------------------------------------------- exact CDF vs the reference


# §4.3 "model" columns: loopback (R ~ 0), no server time, Linux peers.
SECTION_4_3 = {
    0.02: (0.9224, 0.9593, 0.9977, 0.9988, 0.9996, 1.0000, 1.0000),
    0.05: (0.8145, 0.8960, 0.9859, 0.9925, 0.9972, 0.9996, 0.9999),
    0.10: (0.6561, 0.7873, 0.9469, 0.9702, 0.9874, 0.9969, 0.9988),
}
SECTION_4_3_TIMES = (0.1, 0.3, 1.1, 1.6, 2.2, 3.2, 5.2)

# §4.4: R = 0.15 s, gateway time 0.3 s, Linux peers.
SECTION_4_4 = {
    0.01: (0.9606, 0.9994, 0.9999, 1.0, 1.0),
    0.05: (0.8145, 0.9857, 0.9969, 0.9997, 1.0),
    0.10: (0.6561, 0.9454, 0.9849, 0.9978, 0.9998),
    0.20: (0.4096, 0.8061, 0.9214, 0.9806, 0.9969),
}
SECTION_4_4_RFC_10 = (0.6561, 0.9244, 0.9578, 0.9864, 0.9984)
SECTION_4_4_TIMES = (1.0, 2.0, 3.0, 5.0, 10.0)


@pytest.mark.parametrize("p", sorted(SECTION_4_3))
def test_cdf_reproduces_the_loopback_validation_model_column(p: float) -> None:
    got = [cdf(t, p, 0.0) for t in SECTION_4_3_TIMES]
    assert got == pytest.approx(SECTION_4_3[p], abs=0.0005)


@pytest.mark.parametrize("p", sorted(SECTION_4_4))
def test_cdf_reproduces_the_payment_link_table(p: float) -> None:
    got = [cdf(t, p, 0.15, 0.3) for t in SECTION_4_4_TIMES]
    assert got == pytest.approx(SECTION_4_4[p], abs=0.0005)


def test_cdf_reproduces_the_rfc_strict_row() -> None:
    got = [cdf(t, 0.10, 0.15, 0.3, peer="rfc") for t in SECTION_4_4_TIMES]
    assert got == pytest.approx(SECTION_4_4_RFC_10, abs=0.0005)


def test_syn_ack_echo_rule_sets_the_far_tail() -> None:
    """§4.3: with the rule P(T > 5.2 s) = 0.0012 at p = 0.10 (measured 0.0013; 0.0001 without it)."""
    assert 1.0 - cdf(5.2, 0.10, 0.0) == pytest.approx(0.0012, abs=0.0001)


@pytest.mark.parametrize("p", [0.0, 0.01, 0.05, 0.1, 0.2, 0.5])
@pytest.mark.parametrize(("rtt", "server_time"), [(0.0, 0.0), (0.15, 0.3), (0.4, 0.08)])
def test_no_loss_mass_is_the_closed_form(p: float, rtt: float, server_time: float) -> None:
    no_loss_time = 2.0 * rtt + server_time
    assert cdf(no_loss_time + 1e-6, p, rtt, server_time) == pytest.approx((1.0 - p) ** 4, rel=1e-12)
    assert cdf(no_loss_time - 1e-6, p, rtt, server_time) == 0.0


@pytest.mark.parametrize(("peer", "syn_sends"), [("linux", 11), ("rfc", 7)])
@pytest.mark.parametrize("p", [0.01, 0.1, 0.2])
def test_cdf_tends_to_one(p: float, peer: Peer, syn_sends: int) -> None:
    """Only connections never made are missing, at least those whose every SYN was lost."""
    never = 1.0 - cdf(10_000.0, p, 0.15, 0.3, peer=peer)
    assert p**syn_sends - 1e-12 <= never <= 1e-4


def test_cdf_of_a_dead_link_is_zero() -> None:
    assert cdf(10_000.0, 1.0, 0.15) == 0.0
    assert request_cdf(10_000.0, 1.0, 0.15) == 0.0


@given(
    t1=st.floats(0.0, 300.0),
    t2=st.floats(0.0, 300.0),
    p=st.floats(0.0, 0.6),
    rtt=st.floats(0.0, 1.0),
    server_time=st.floats(0.0, 2.0),
    peer=st.sampled_from(["linux", "rfc"]),
)
def test_cdf_is_monotone_in_time(  # noqa: PLR0917 (hypothesis passes arguments by keyword)
    t1: float, t2: float, p: float, rtt: float, server_time: float, peer: Peer
) -> None:
    early, late = sorted((t1, t2))
    assert cdf(early, p, rtt, server_time, peer=peer) <= cdf(late, p, rtt, server_time, peer=peer) + 1e-12


@given(
    t=st.floats(0.0, 300.0),
    p1=st.floats(0.0, 0.6),
    p2=st.floats(0.0, 0.6),
    rtt=st.floats(0.0, 1.0),
    server_time=st.floats(0.0, 2.0),
    peer=st.sampled_from(["linux", "rfc"]),
)
def test_cdf_decreases_with_loss(  # noqa: PLR0917 (hypothesis passes arguments by keyword)
    t: float, p1: float, p2: float, rtt: float, server_time: float, peer: Peer
) -> None:
    low, high = sorted((p1, p2))
    assert cdf(t, high, rtt, server_time, peer=peer) <= cdf(t, low, rtt, server_time, peer=peer) + 1e-12


@given(t=st.floats(0.0, 60.0), p=st.floats(0.0, 0.6), rtt=st.floats(0.0, 1.0))
def test_gateway_has_the_request_before_the_terminal_has_the_response(t: float, p: float, rtt: float) -> None:
    assert cdf(t, p, rtt) <= request_cdf(t, p, rtt) + 1e-12


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match=r"loss p=1\.5"):
        cdf(1.0, 1.5, 0.1)
    with pytest.raises(ValueError, match="cannot be negative"):
        cdf(1.0, 0.1, -0.1)
    with pytest.raises(ValueError, match="unknown peer 'bsd'"):
        cdf(1.0, 0.1, 0.1, peer="bsd")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- data schedules


def test_linux_data_schedule_matches_the_kernel_measurement() -> None:
    """§4.1 measured on loopback: 0, 0.205, 0.413, 0.845, 1.677, 3.341, 6.80 s (TLP, then RTO doubling)."""
    assert data_send_offsets(0.0)[:7] == pytest.approx([0.0, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4])


def test_a_one_second_rtt_sample_delays_the_tail_loss_probe() -> None:
    """§4.1 finding: after a lost SYN-ACK (m ~ 1 s) a lost request waits ~2.2 s (observed 2.3-2.5 s)."""
    assert data_send_offsets(1.0)[:3] == pytest.approx([0.0, 2.2, 5.2])


def test_rfc_data_schedule_doubles_from_one_second() -> None:
    assert data_send_offsets(0.15, peer="rfc")[:5] == pytest.approx([0.0, 1.0, 3.0, 7.0, 15.0])


def test_data_gaps_stop_growing_at_the_maximum_rto() -> None:
    offsets = data_send_offsets(0.15)
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    assert len(offsets) == 16
    assert max(gaps) == pytest.approx(120.0)


# --------------------------------------------------------------------------- legs, step by step


def test_no_loss_request_costs_one_uniform_and_lands_after_one_and_a_half_rtt() -> None:
    leg = request_leg(10.0, 0.2, constant(0.1), scripted(0.5), connect_timeout=3.0, extra_delay=0.01)
    assert leg == pytest.approx(RequestLeg(True, 10.31, 0.2, INF, 10.2))


def test_no_loss_response_costs_one_uniform() -> None:
    assert response_leg(5.0, 0.2, constant(0.1), scripted(0.5), extra_delay=0.01) == pytest.approx(5.11)


def test_lost_syn_ack_makes_the_client_sample_about_one_second() -> None:
    """The resent SYN-ACK echoes the first SYN's timestamp: m = 1 + R, and the lost request waits PTO(m)."""
    # p = 0.5: u = 0.3 lies in [s1*s2, s1) = [0.25, 0.5), so the SYN arrived and its SYN-ACK was lost.
    # At 1 s the client's SYN (0.1) and its SYN-ACK (0.1) get through; the request's first send
    # (0.9) is lost, its probe (0.1) arrives.
    rtt = 0.1
    leg = request_leg(0.0, rtt, constant(0.5), scripted(0.3, 0.1, 0.1, 0.9, 0.1), connect_timeout=3.0)
    m = 1.0 + rtt
    assert leg.connected
    assert leg.client_rto_sample == pytest.approx(m)
    assert leg.arrives_at == pytest.approx(1.0 + rtt + (2 * m + 0.2) + rtt / 2)


def test_lost_syn_keeps_a_fresh_rtt_sample() -> None:
    # u = 0.7 >= s1 = 0.5: the first SYN was lost; the retransmission at 1 s (0.1), its SYN-ACK (0.1)
    # and the request (0.1) get through.
    leg = request_leg(0.0, 0.1, constant(0.5), scripted(0.7, 0.1, 0.1, 0.1), connect_timeout=3.0)
    assert leg == pytest.approx(RequestLeg(True, 1.15, 0.1, INF, 1.1))


def test_lost_first_request_is_probed_after_pto() -> None:
    # u = 0.2 < s1*s2 = 0.25 but not < s1*s2*s3 = 0.125: only the request was lost.
    leg = request_leg(0.0, 0.1, constant(0.5), scripted(0.2, 0.1), connect_timeout=3.0)
    assert leg.arrives_at == pytest.approx(0.1 + 0.3 + 0.05)  # PTO = min(2m + 0.2, m + 0.2) = 0.3


def test_server_resend_alone_can_finish_the_handshake() -> None:
    # The SYN-ACK is lost (0.3); at 1 s the client's SYN is lost (0.9) but the server's timer resend
    # gets through (0.1); the request goes (0.1).
    leg = request_leg(0.0, 0.1, constant(0.5), scripted(0.3, 0.9, 0.1, 0.1), connect_timeout=3.0)
    assert leg.connected
    assert leg.client_rto_sample == pytest.approx(1.1)
    assert leg.arrives_at == pytest.approx(1.15)


def test_keepalive_skips_the_handshake() -> None:
    loss = constant(0.5)
    leg = request_leg(3.0, 0.1, loss, scripted(0.1), connect_timeout=3.0, keepalive=True)
    assert leg == pytest.approx(RequestLeg(True, 3.05, 0.1, INF, 3.0))
    lost_once = request_leg(3.0, 0.1, loss, scripted(0.9, 0.1), connect_timeout=3.0, keepalive=True)
    assert lost_once.arrives_at == pytest.approx(3.0 + 0.3 + 0.05)


def test_rtt_longer_than_the_connect_timeout_never_connects() -> None:
    leg = request_leg(2.0, 4.0, constant(0.0), scripted(), connect_timeout=3.0)
    assert leg.connected is False
    assert leg.failed_at == 5.0
    assert leg.arrives_at == INF
    assert math.isnan(leg.client_rto_sample)


def test_dead_link_fails_at_the_connect_timeout() -> None:
    leg = request_leg(7.0, 0.1, constant(1.0), random.Random(1).random, connect_timeout=3.0)
    assert leg == pytest.approx(RequestLeg(False, INF, math.nan, 10.0, INF), nan_ok=True)


@pytest.mark.parametrize(("peer", "gives_up"), [("linux", 131.0), ("rfc", 127.0)])
def test_kernel_gives_up_before_a_very_long_connect_timeout(peer: Peer, gives_up: float) -> None:
    leg = request_leg(0.0, 0.1, constant(1.0), random.Random(1).random, connect_timeout=1000.0, peer=peer)
    assert leg.failed_at == gives_up


def test_dead_link_never_delivers_a_response() -> None:
    assert response_leg(0.0, 0.1, constant(1.0), random.Random(1).random) == INF


# --------------------------------------------------------------------------- outages (time-varying loss)


def outage(start: float, end: float, p: float = 0.0) -> LossAt:
    def loss_at(t: float) -> float:
        return 1.0 if start <= t < end else p

    return loss_at


def test_request_started_inside_a_long_outage_fails_to_connect() -> None:
    leg = request_leg(100.0, 0.12, outage(50.0, 500.0), random.Random(3).random, connect_timeout=3.0)
    assert leg.connected is False
    assert leg.failed_at == 103.0


def test_response_sent_into_an_outage_arrives_by_retransmission_after_it_ends() -> None:
    loss = outage(10.0, 40.0)
    rtt = 0.1
    leg = request_leg(9.5, rtt, loss, random.Random(3).random, connect_timeout=3.0)
    assert leg.arrives_at == pytest.approx(9.65)  # before the outage: no loss at all
    sent_at = leg.arrives_at + 0.5  # the gateway replies inside the outage
    arrives = response_leg(sent_at, rtt, loss, random.Random(3).random)
    first_send_after = next(sent_at + offset for offset in data_send_offsets(rtt) if sent_at + offset >= 40.0)
    assert arrives == pytest.approx(first_send_after + rtt / 2)
    assert arrives > 40.0


def test_handshake_started_just_before_an_outage_completes_after_it() -> None:
    # SYN at 9.99 arrives, its SYN-ACK (sent at 10.04) falls in a 5 s outage; resends go on until one lands.
    leg = request_leg(9.99, 0.1, outage(10.0, 15.0), random.Random(5).random, connect_timeout=30.0)
    assert leg.connected
    assert leg.arrives_at > 15.0
    assert leg.client_rto_sample > 5.0  # the echo of the first SYN's timestamp


# --------------------------------------------------------------------------- sampler vs exact CDF


CHECKPOINTS = {  # away from schedule edges
    (0.15, 0.3): (0.7, 1.2, 2.1, 3.3, 5.5, 10.5),
    (0.0, 0.0): (0.1, 0.3, 1.1, 1.6, 2.2, 5.2),
}
N = 40_000


@pytest.mark.parametrize("p", [0.02, 0.05, 0.10, 0.20])
@pytest.mark.parametrize(("rtt", "server_time"), sorted(CHECKPOINTS))
def test_sampler_matches_cdf(p: float, rtt: float, server_time: float) -> None:
    uniform = random.Random(int(p * 1000) + int(rtt * 100)).random
    draws = [sample(uniform, p, rtt, server_time) for _ in range(N)]
    for t in CHECKPOINTS[rtt, server_time]:
        expected = cdf(t, p, rtt, server_time)
        empirical = sum(x <= t for x in draws) / N
        assert abs(empirical - expected) <= within(N, expected), (t, empirical, expected)


def test_rfc_sampler_matches_cdf() -> None:
    uniform = random.Random(6298).random
    draws = [sample(uniform, 0.10, 0.15, 0.3, peer="rfc") for _ in range(N)]
    for t in (0.7, 1.8, 2.5, 4.9, 9.5, 20.5):
        expected = cdf(t, 0.10, 0.15, 0.3, peer="rfc")
        empirical = sum(x <= t for x in draws) / N
        assert abs(empirical - expected) <= within(N, expected), (t, empirical, expected)


def test_two_legs_compose_to_sample_at_any_start() -> None:
    """Same uniforms, shifted start: request leg + gateway time + response leg is one ``sample``."""
    p, rtt, server_time = 0.2, 0.15, 0.3
    whole = random.Random(11).random
    legs = random.Random(11).random
    loss = constant(p)
    for k in range(2_000):
        start = 1_000.0 + 7.0 * k
        leg = request_leg(start, rtt, loss, legs, connect_timeout=INF)
        response = response_leg(leg.arrives_at + server_time, rtt, loss, legs) if leg.arrives_at < INF else INF
        assert response - start == pytest.approx(sample(whole, p, rtt, server_time), abs=1e-9)


def test_request_leg_matches_request_cdf() -> None:
    p, rtt = 0.2, 0.15
    uniform = random.Random(8985).random
    loss = constant(p)
    arrivals = [request_leg(0.0, rtt, loss, uniform, connect_timeout=INF).arrives_at for _ in range(N)]
    for t in (0.3, 0.7, 1.5, 2.6, 4.2, 9.1):
        expected = request_cdf(t, p, rtt)
        empirical = sum(x <= t for x in arrivals) / N
        assert abs(empirical - expected) <= within(N, expected), (t, empirical, expected)


# --------------------------------------------------------------------------- ambiguous outcomes


def ambiguous_share(p: float, read_timeout: float, n: int, seed: int) -> float:
    """Share of attempts where the gateway had the request in time but the response missed the timeout."""
    uniform = random.Random(seed).random
    loss = constant(p)
    ambiguous = 0
    for _ in range(n):
        leg = request_leg(0.0, 0.15, loss, uniform, connect_timeout=3.0)
        if leg.arrives_at <= read_timeout:
            ambiguous += response_leg(leg.arrives_at + 0.3, 0.15, loss, uniform) > read_timeout
    return ambiguous / n


@pytest.mark.parametrize(("p", "quoted"), [(0.05, 0.0065), (0.10, 0.024), (0.20, 0.071)])
def test_ambiguous_outcomes_at_two_seconds(p: float, quoted: float) -> None:
    """§4.4 quotes P(ambiguous) at T = 2 s; the legs reproduce it and the exact model's value."""
    share = ambiguous_share(p, 2.0, N, seed=int(p * 100))
    expected = request_cdf(2.0, p, 0.15) - cdf(2.0, p, 0.15, 0.3)
    assert abs(share - expected) <= within(N, expected)
    assert abs(share - quoted) <= within(N, quoted) + 0.001  # the quote is rounded and itself sampled


def test_ambiguous_outcomes_at_one_second() -> None:
    """§4.4: at T = 1 s P(ambiguous) is 0.085-0.20; at p = 0.2 it is the top of that range."""
    share = ambiguous_share(0.2, 1.0, N, seed=1)
    expected = request_cdf(1.0, 0.2, 0.15) - cdf(1.0, 0.2, 0.15, 0.3)
    assert expected == pytest.approx(0.20, abs=0.01)
    assert abs(share - expected) <= within(N, expected)


# --------------------------------------------------------------------------- seeded regression


PINNED = [  # random.Random(20261212).random, p = 0.3, R = 0.15 s, serialization 2 ms / 3 ms, gateway 0.3 s
    ((True, 0.22699999999999998, 0.15, INF), 0.6049999999999999),
    ((True, 100.227, 0.15, INF), 101.055),
    ((True, 201.677, 0.15, INF), 202.055),
    ((True, 301.12699999999995, 0.15, INF), 301.9549999999999),
    ((True, 400.227, 0.15, INF), 400.60499999999996),
    ((True, 501.227, 0.15, INF), 501.60499999999996),
    ((True, 600.227, 0.15, INF), 601.055),
    ((True, 701.227, 0.15, INF), 703.405),
    ((True, 800.227, 0.15, INF), 800.6049999999999),
    ((True, 900.227, 0.15, INF), 900.6049999999999),
    ((True, 1000.227, 0.15, INF), 1000.6049999999999),
    ((True, 1101.227, 1.15, INF), 1102.505),
]


def test_seeded_legs_are_pinned() -> None:
    """Exact values: a change here changes every seeded simulation result (RNG use is part of the contract)."""
    uniform = random.Random(20261212).random
    loss = constant(0.3)
    got = []
    for k in range(len(PINNED)):
        leg = request_leg(100.0 * k, 0.15, loss, uniform, connect_timeout=2.5, extra_delay=0.002)
        got.append((tuple(leg)[:4], response_leg(leg.arrives_at + 0.3, 0.15, loss, uniform, extra_delay=0.003)))
    assert got == PINNED
