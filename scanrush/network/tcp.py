"""Latency of one payment request over TCP under loss (``shared/reference/simulation.md`` §4).

The model, per request on a new connection, request and response one segment each::

    T = Hs + 2R + Dc[i] + Ds[j] + server_time

* ``Hs``: when the first handshake chance that succeeds was sent.  The first delivered SYN
  ``f`` is geometric over the SYN schedule; its SYN-ACK gets through with 1-p; each later client
  SYN gives a chance (SYN and its SYN-ACK) with (1-p)², each server SYN-ACK resend at
  ``S[f] + 1, 3, 7, 15, 31`` s a chance with 1-p.  When both happen at the same time the two
  SYN-ACKs are independent, so the chance succeeds with 1 - p·(1-(1-p)²).
* ``Dc``, ``Ds``: data send offsets from the connection's single RTT sample ``m``
  (:func:`data_send_offsets`).  The server has ``m = R``.  The client has
  ``m = Hs - S[f] + R``: a retransmitted SYN-ACK echoes the timestamp of the *first delivered* SYN,
  so after a lost SYN-ACK the client's first RTT sample is about 1 s and a lost request waits
  2m + 0.2 ≈ 2.2-2.5 s for its tail-loss probe, not 0.2 s (the SYN-ACK-echo rule, §4.1).
* ``i``, ``j``: geometric numbers of lost request and response sends.

:func:`cdf` evaluates the model exactly by enumeration.  The simulator draws it in two legs,
because the gateway's own time (queueing + service) is not known when the request is sent:
:func:`request_leg` says when the gateway has the request (or that ``connect`` failed), and
:func:`response_leg`, called once the gateway replies, says when the terminal has the response.
Loss is a function of the absolute send time of each packet (``loss_at``), so an outage window
(loss 1.0) drops every send inside it and the schedules walk past it.  Every leg uses a fixed
RTT: jitter is the caller's, who draws an RTT per attempt (``ZoneLink.draw_rtt``) and passes it
to both legs (or draws again for the response leg); per-packet jitter is not modelled.
Randomness comes only from ``uniform()``, in a fixed order, so a seeded stream gives exact times.

Ambiguous outcomes are the caller's to detect: the gateway has the request at ``arrives_at`` even
when that is after the terminal's read timeout (the kernel keeps retransmitting queued data after
``close()``), and the response may land after the terminal gave up.  Either way "the gateway acted
but the terminal timed out": the terminal must query or cancel with the same ``out_trade_no``.
A long blackhole runs to connect failure (≈131 s on Linux) unless ``connect_timeout`` is shorter.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, NamedTuple

__all__ = [
    "LossAt",
    "Peer",
    "RequestLeg",
    "Uniform",
    "cdf",
    "data_send_offsets",
    "request_cdf",
    "request_leg",
    "response_leg",
    "sample",
]

Peer = Literal["linux", "rfc"]
Uniform = Callable[[], float]
"""A source of floats in [0, 1), e.g. ``random.Random(seed).random``."""
LossAt = Callable[[float], float]
"""Loss probability of a packet sent at an absolute time (1.0 inside an outage)."""

_INF = math.inf
_EDGE = 1e-9
"""A time within this of a schedule edge counts as on it: sums of floats land a hair either side."""

# Linux timers (include/net/tcp.h, §4.1): TCP_RTO_MIN = HZ/5, TCP_RTO_MAX = 120 s.
_LINUX_RTO_MIN = 0.2
_LINUX_RTO_MAX = 120.0
# RFC 6298: RTO rounded up to 1 s (§2.4); a cap of at least 60 s may be applied (§2.5).
_RFC_RTO_MIN = 1.0
_RFC_RTO_MAX = 60.0
# tcp_synack_retries=5: the server resends its SYN-ACK 1, 3, 7, 15, 31 s after the first one.
_SYNACK_RESENDS = (1.0, 3.0, 7.0, 15.0, 31.0)
# The original send and tcp_retries2=15 retransmissions; after that the connection is dead.
_DATA_SENDS = 16


@dataclass(frozen=True, slots=True)
class _Chance:
    """A later handshake chance: a client SYN retransmission, a server SYN-ACK resend, or both."""

    at: float
    client_syn: bool
    server_resend: bool

    def success(self, p: float) -> float:
        q = 1.0 - p
        if self.client_syn and self.server_resend:
            return 1.0 - p * (1.0 - q * q)
        return q * q if self.client_syn else q


@dataclass(frozen=True, slots=True)
class _Schedule:
    syn_sends: tuple[float, ...]
    connect_gives_up: float
    later_chances: tuple[tuple[_Chance, ...], ...]
    """For each first-delivered SYN ``f``: the chances after its first SYN-ACK, in time order."""


def _later_chances(syn_sends: tuple[float, ...], f: int) -> tuple[_Chance, ...]:
    first = syn_sends[f]
    client = set(syn_sends[f + 1 :])
    server = {first + d for d in _SYNACK_RESENDS}
    return tuple(_Chance(at, at in client, at in server) for at in sorted(client | server))


def _schedule(syn_sends: tuple[float, ...], connect_gives_up: float) -> _Schedule:
    chances = tuple(_later_chances(syn_sends, f) for f in range(len(syn_sends)))
    return _Schedule(syn_sends, connect_gives_up, chances)


_SCHEDULES: dict[Peer, _Schedule] = {
    # Linux >= 6.5 measured (§4.1): five linear 1 s steps, then doubling; connect() fails ≈131 s.
    "linux": _schedule((0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 11.0, 19.0, 35.0, 67.0), 131.0),
    # Classic doubling from a 1 s initial RTO (tcp_syn_retries=6); connect() fails ≈127 s.
    "rfc": _schedule((0.0, 1.0, 3.0, 7.0, 15.0, 31.0, 63.0), 127.0),
}


def _schedule_for(peer: Peer) -> _Schedule:
    try:
        return _SCHEDULES[peer]
    except KeyError:
        raise ValueError(f"unknown peer {peer!r}; expected 'linux' or 'rfc'") from None


# --------------------------------------------------------------------------- data timers


def _data_timers(m: float, peer: Peer) -> tuple[float, float, float]:
    """(first gap, second gap, cap) of the data send schedule; gaps after the second double.

    Linux with one RTT sample m: RTO = m + max(2m, rto_min) ("rto = 3*rtt", 200 ms floor); the
    tail-loss probe fires at PTO = 2m + rto_min clamped to <= RTO, then RTO backs off from there.
    RFC-strict: RTO = max(1 s, 3m) (SRTT + 4·RTTVAR with RTTVAR = m/2), no probe.
    """
    if peer == "linux":
        rto = min(m + max(2.0 * m, _LINUX_RTO_MIN), _LINUX_RTO_MAX)
        return min(2.0 * m + _LINUX_RTO_MIN, rto), rto, _LINUX_RTO_MAX
    rto = min(max(_RFC_RTO_MIN, 3.0 * m), _RFC_RTO_MAX)
    return rto, min(2.0 * rto, _RFC_RTO_MAX), _RFC_RTO_MAX


def data_send_offsets(m: float, *, peer: Peer = "linux") -> list[float]:
    """Send times of one data segment relative to its first send, given the RTT sample ``m``.

    Linux: ``0, PTO, PTO+RTO, PTO+3·RTO, …``; RFC-strict: ``0, RTO, 3·RTO, 7·RTO, …``; each gap
    capped at the maximum RTO, 16 sends in all (tcp_retries2=15).
    """
    _schedule_for(peer)
    first_gap, gap, cap = _data_timers(m, peer)
    offsets = [0.0, first_gap]
    while len(offsets) < _DATA_SENDS:
        offsets.append(offsets[-1] + gap)
        gap = min(2.0 * gap, cap)
    return offsets


# --------------------------------------------------------------------------- exact CDF


def _handshake_outcomes(p: float, rtt: float, schedule: _Schedule) -> Iterator[tuple[float, float, float]]:
    """(Hs, client RTT sample m, probability) for every way the handshake can succeed."""
    q = 1.0 - p
    for f, first in enumerate(schedule.syn_sends):
        if first + rtt > schedule.connect_gives_up:
            return
        unresolved = p**f * q  # the earlier SYNs were all lost, this one arrived
        yield first, rtt, unresolved * q
        unresolved *= p  # ... and its SYN-ACK was lost
        for chance in schedule.later_chances[f]:
            if chance.at + rtt > schedule.connect_gives_up:
                break
            success = chance.success(p)
            yield chance.at, chance.at - first + rtt, unresolved * success
            unresolved *= 1.0 - success


def _delivered_within(offsets: list[float], p: float, budget: float) -> float:
    """P(a segment with these send offsets is delivered by ``budget`` after its first send)."""
    return 1.0 - p ** bisect_right(offsets, budget) if budget >= 0.0 else 0.0


def _completion_cdf(budget: float, p: float, rtt: float, peer: Peer, tail: Callable[[float], float]) -> float:
    """P(Hs + Dc[i] + X <= budget) where ``tail(x)`` = P(X <= x) for the rest of the request."""
    schedule = _schedule_for(peer)
    q = 1.0 - p
    total = 0.0
    for handshake_at, m, mass in _handshake_outcomes(p, rtt, schedule):
        left = budget - handshake_at
        if left < 0.0 or mass == 0.0:
            continue
        lost_before = 1.0
        for offset in data_send_offsets(m, peer=peer):
            if offset > left:
                break
            total += mass * lost_before * q * tail(left - offset)
            lost_before *= p
    return min(total, 1.0)


def _check(p: float, rtt: float, server_time: float, peer: Peer) -> None:
    _schedule_for(peer)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"loss p={p!r} must lie in [0, 1]")
    if rtt < 0.0 or server_time < 0.0:
        raise ValueError(f"rtt={rtt!r} and server_time={server_time!r} cannot be negative")


def cdf(t: float, p: float, rtt: float, server_time: float = 0.0, *, peer: Peer = "linux") -> float:
    """P(T <= t): the terminal has the response within ``t`` of starting to connect.

    Exact under the model (new connection, i.i.d. loss ``p`` per packet, fixed ``rtt``), by
    enumerating the finite schedules.  What never completes (connect() gives up, a segment lost
    16 times) is the missing mass: ``cdf`` tends to slightly less than 1.
    """
    _check(p, rtt, server_time, peer)
    if p >= 1.0:
        return 0.0
    response = data_send_offsets(rtt, peer=peer)
    budget = t - 2.0 * rtt - server_time + _EDGE
    return _completion_cdf(budget, p, rtt, peer, lambda left: _delivered_within(response, p, left))


def request_cdf(t: float, p: float, rtt: float, *, peer: Peer = "linux") -> float:
    """P(the gateway has the request within ``t`` of the terminal starting to connect).

    ``request_cdf(T, p, R) - cdf(T, p, R, s)`` is the chance of an ambiguous outcome at read
    timeout ``T`` with gateway time ``s``: the gateway had the request, the terminal no answer.
    """
    _check(p, rtt, 0.0, peer)
    if p >= 1.0:
        return 0.0
    budget = t - 1.5 * rtt + _EDGE
    return _completion_cdf(budget, p, rtt, peer, lambda left: 1.0)


# --------------------------------------------------------------------------- two-leg sampler


class RequestLeg(NamedTuple):
    """How the request leg of one attempt went (absolute times, seconds)."""

    connected: bool
    """False: the handshake did not complete by ``failed_at``; nothing reached the gateway."""
    arrives_at: float
    """When the gateway has the request; ``inf`` if not connected or never delivered."""
    client_rto_sample: float
    """The client's single RTT sample m (``rtt``, or ~1 s more after a lost SYN-ACK); nan if not connected."""
    failed_at: float
    """start + min(connect_timeout, the kernel's give-up) if not connected, else ``inf``."""
    sent_at: float
    """When the request was first written (handshake done): the client's read timer starts here."""


@dataclass(slots=True)
class _Attempt:
    """One attempt past its first loss: walks the schedules in time order, one uniform per packet."""

    start: float
    rtt: float
    delay: float
    """One-way time of a data segment: half the RTT plus serialization."""
    loss_at: LossAt
    uniform: Uniform
    peer: Peer

    def delivered(self, sent_at: float) -> bool:
        return self.uniform() < 1.0 - self.loss_at(sent_at)

    def retransmit(self, lost_at: float, m: float) -> float:
        """Arrival of a segment whose first send at ``lost_at`` was lost; ``inf`` if every resend is."""
        first_gap, gap, cap = _data_timers(m, self.peer)
        send = lost_at + first_gap
        for _ in range(_DATA_SENDS - 1):
            if self.delivered(send):
                return send + self.delay
            send += gap
            gap = min(2.0 * gap, cap)
        return _INF

    def deliver(self, first_send: float, m: float) -> float:
        if self.delivered(first_send):
            return first_send + self.delay
        return self.retransmit(first_send, m)

    def request_after_handshake(self, handshake_at: float, m: float) -> RequestLeg:
        sent_at = self.start + handshake_at + self.rtt
        return RequestLeg(True, self.deliver(sent_at, m), m, _INF, sent_at)

    def first_delivered_syn(self, schedule: _Schedule, deadline: float) -> int | None:
        """Index of the first SYN retransmission that arrives and could still complete by ``deadline``."""
        for f in range(1, len(schedule.syn_sends)):
            at = schedule.syn_sends[f]
            if at + self.rtt > deadline:
                return None
            if self.delivered(self.start + at):
                return f
        return None

    def chance_succeeds(self, chance: _Chance) -> bool:
        """Client SYN and its SYN-ACK first, then the server's own resend: independent SYN-ACKs."""
        syn_sent = self.start + chance.at
        synack_sent = syn_sent + 0.5 * self.rtt
        if chance.client_syn and self.delivered(syn_sent) and self.delivered(synack_sent):
            return True
        return chance.server_resend and self.delivered(synack_sent)

    def later_handshake(self, schedule: _Schedule, f: int, deadline: float) -> float | None:
        """Hs of the first later chance that succeeds with its SYN-ACK at the client by ``deadline``."""
        for chance in schedule.later_chances[f]:
            if chance.at + self.rtt > deadline:
                return None
            if self.chance_succeeds(chance):
                return chance.at
        return None

    def request_after_a_loss(self, lost: int, deadline: float) -> RequestLeg:
        """The first chance lost packet ``lost`` (0 SYN, 1 SYN-ACK, 2 request); carry on from there."""
        if lost == _REQUEST:
            sent_at = self.start + self.rtt
            return RequestLeg(True, self.retransmit(sent_at, self.rtt), self.rtt, _INF, sent_at)
        schedule = _SCHEDULES[self.peer]
        f = 0
        if lost == _SYN:
            found = self.first_delivered_syn(schedule, deadline)
            if found is None:
                return _not_connected(self.start, deadline)
            f = found
            if self.delivered(self.start + schedule.syn_sends[f] + 0.5 * self.rtt):
                return self.request_after_handshake(schedule.syn_sends[f], self.rtt)
        handshake_at = self.later_handshake(schedule, f, deadline)
        if handshake_at is None:
            return _not_connected(self.start, deadline)
        m = handshake_at - schedule.syn_sends[f] + self.rtt  # the SYN-ACK-echo rule
        return self.request_after_handshake(handshake_at, m)


_SYN, _SYNACK, _REQUEST = 0, 1, 2
_SOONEST_GIVE_UP = min(schedule.connect_gives_up for schedule in _SCHEDULES.values())
_new_leg = tuple.__new__  # RequestLeg(...) without NamedTuple's Python-level __new__: ~130 ns less per call


def _not_connected(start: float, deadline: float) -> RequestLeg:
    return RequestLeg(False, _INF, math.nan, start + deadline, _INF)


def request_leg(
    start: float,
    rtt: float,
    loss_at: LossAt,
    uniform: Uniform,
    *,
    connect_timeout: float,
    keepalive: bool = False,
    extra_delay: float = 0.0,
    peer: Peer = "linux",
) -> RequestLeg:
    """Send one request at ``start``: when does the gateway have it?

    ``rtt`` is this attempt's RTT (jitter already drawn); ``extra_delay`` (serialization) is added
    to the request's one-way time.  ``keepalive`` reuses a connection: no handshake, m = rtt.
    The no-loss case costs one uniform: the first chance (SYN, SYN-ACK, request) succeeds with the
    product of its three delivery probabilities, and on a loss the same uniform says which packet
    was lost first (given u < s1, u < s1·s2 is u/s1 < s2), so the draw stays exact.
    """
    half = 0.5 * rtt
    delay = half + extra_delay
    if keepalive:
        if uniform() < 1.0 - loss_at(start):
            return _new_leg(RequestLeg, (True, start + delay, rtt, _INF, start))
        arrives_at = _Attempt(start, rtt, delay, loss_at, uniform, peer).retransmit(start, rtt)
        return _new_leg(RequestLeg, (True, arrives_at, rtt, _INF, start))
    deadline = connect_timeout  # the client stops waiting for the handshake here, or the kernel does
    if deadline >= _SOONEST_GIVE_UP:
        deadline = min(deadline, _SCHEDULES[peer].connect_gives_up)
    if rtt > deadline:
        return _not_connected(start, deadline)
    u = uniform()
    syn_ok = 1.0 - loss_at(start)
    synack_ok = syn_ok * (1.0 - loss_at(start + half))
    if u < synack_ok * (1.0 - loss_at(start + rtt)):
        return _new_leg(RequestLeg, (True, start + rtt + delay, rtt, _INF, start + rtt))  # the common case, kept lean
    lost = _SYN if u >= syn_ok else _SYNACK if u >= synack_ok else _REQUEST
    return _Attempt(start, rtt, delay, loss_at, uniform, peer).request_after_a_loss(lost, deadline)


def response_leg(
    sent_at: float,
    rtt: float,
    loss_at: LossAt,
    uniform: Uniform,
    *,
    extra_delay: float = 0.0,
    peer: Peer = "linux",
) -> float:
    """When the terminal has a response the gateway sent at ``sent_at``; ``inf`` if never.

    The server's RTT sample is the attempt's ``rtt``: its SYN-ACK is never echoed late.
    """
    delay = 0.5 * rtt + extra_delay
    if uniform() < 1.0 - loss_at(sent_at):
        return sent_at + delay
    return _Attempt(sent_at, rtt, delay, loss_at, uniform, peer).retransmit(sent_at, rtt)


def sample(uniform: Uniform, p: float, rtt: float, server_time: float, *, peer: Peer = "linux") -> float:
    """One whole request under constant loss ``p``: T as in :func:`cdf` (``inf`` if it never completes)."""

    def loss_at(_t: float) -> float:
        return p

    leg = request_leg(0.0, rtt, loss_at, uniform, connect_timeout=_INF, peer=peer)
    if leg.arrives_at == _INF:
        return _INF
    return response_leg(leg.arrives_at + server_time, rtt, loss_at, uniform, peer=peer)
