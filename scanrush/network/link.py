"""One mall zone's link to the gateway, as the simulator sees it.

A :class:`ZoneLink` turns the scenario's declared network (``Network``) into the numbers the TCP
model needs for one attempt: an RTT (base + congestion + jitter), a loss probability as a function
of send time (1.0 inside outage windows) and a serialization delay.  Times are seconds on the
simulation clock, which starts when the promotion opens, the same origin as the outage windows.

How the caller uses it, per attempt::

    rtt = link.draw_rtt(uniform, active)
    _, loss = link.conditions(active)
    leg = request_leg(now, rtt, link.loss_at(loss), uniform, connect_timeout=...,
                      extra_delay=link.request_delay(active))
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable

from scanrush.network.tcp import LossAt, Peer, Uniform
from scanrush.scenario.schema import Network, Pos, Window

__all__ = ["ZoneLink"]

_NO_KNEE = 2**62
_LOSS_AT_CACHE_LIMIT = 4096


class _OutageIndex:
    """Merged, sorted outage windows with the last-hit stretch cached.

    The simulation asks about times near its clock, so almost every query falls in the stretch
    (a gap or an outage) the previous one found: two float comparisons.  Other times bisect.
    """

    __slots__ = ("ends", "hi", "inside", "lo", "starts")

    def __init__(self, windows: Iterable[tuple[float, float]]) -> None:
        merged: list[list[float]] = []
        for start, end in sorted(windows):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [start for start, _ in merged]
        self.ends = [end for _, end in merged]
        self.lo, self.hi, self.inside = -math.inf, self.starts[0], False

    def locate(self, t: float) -> bool:
        """Whether ``t`` is inside an outage; remembers the stretch around ``t``."""
        i = bisect_right(self.starts, t) - 1
        if i >= 0 and t < self.ends[i]:
            self.lo, self.hi, self.inside = self.starts[i], self.ends[i], True
        else:
            self.lo = self.ends[i] if i >= 0 else -math.inf
            self.hi = self.starts[i + 1] if i + 1 < len(self.starts) else math.inf
            self.inside = False
        return self.inside

    def windows(self) -> list[tuple[float, float]]:
        return list(zip(self.starts, self.ends, strict=True))


class ZoneLink:
    """A zone's network: base RTT, jitter, loss, bandwidth, outages and congestion.

    ``active`` everywhere is the number of the zone's requests in flight, this one included.
    """

    def __init__(self, network: Network, pos: Pos, *, peer: Peer = "linux") -> None:
        self.rtt = network.rtt
        self.jitter = network.jitter
        self.loss = network.loss
        self.bandwidth = network.bandwidth
        self.request_size = pos.request_size
        self.response_size = pos.response_size
        self.peer: Peer = peer
        self._congestion = network.congestion
        congestion = network.congestion
        self._knee = congestion.knee if congestion is not None else _NO_KNEE
        self._rtt_per_request = congestion.rtt_per_request if congestion is not None else 0.0
        self._loss_per_request = congestion.loss_per_request if congestion is not None else 0.0
        # Congestion never makes a link better: a base loss above max_loss stays.
        self._loss_ceiling = max(congestion.max_loss, network.loss) if congestion is not None else 1.0
        self._uncongested = (self.rtt, self.loss)
        self._outages = _OutageIndex(_bounds(network.outages)) if network.outages else None
        self._loss_at: dict[float, LossAt] = {}

    # ------------------------------------------------------------------ conditions

    def conditions(self, active: int) -> tuple[float, float]:
        """(rtt, loss) with ``active`` requests in flight: both grow linearly past the knee."""
        excess = active - self._knee
        if excess <= 0:
            return self._uncongested
        rtt = self.rtt + excess * self._rtt_per_request
        return rtt, min(self._loss_ceiling, self.loss + excess * self._loss_per_request)

    def draw_rtt(self, uniform: Uniform, active: int) -> float:
        """This attempt's RTT: base + congestion + jitter, jitter uniform in [-jitter, +jitter).

        The same convention as Toxiproxy's latency toxic (delays in [L-J, L+J)), so the
        simulated and live realisations of a profile have the same mean RTT.  The RTT never
        drops below a tenth of the declared one.  No uniform is drawn without jitter.
        """
        rtt = self.conditions(active)[0]
        if self.jitter > 0.0:
            rtt = max(0.1 * self.rtt, rtt + self.jitter * (2.0 * uniform() - 1.0))
        return rtt

    def attempt(self, uniform: Uniform, active: int) -> tuple[float, LossAt, float]:
        """``(draw_rtt(uniform, active), loss_at(conditions(active)[1]), request_delay(active))`` in one call.

        The simulator asks for all three per request; this is the same arithmetic and the same
        single jitter draw, with the congestion computed once.
        """
        excess = active - self._knee
        if excess <= 0:
            rtt, loss = self._uncongested
        else:
            rtt = self.rtt + excess * self._rtt_per_request
            loss = min(self._loss_ceiling, self.loss + excess * self._loss_per_request)
        if self.jitter > 0.0:
            rtt = max(0.1 * self.rtt, rtt + self.jitter * (2.0 * uniform() - 1.0))
        loss_at = self._loss_at.get(loss)
        if loss_at is None:
            loss_at = self.loss_at(loss)
        if self.bandwidth is None:
            return rtt, loss_at, 0.0
        return rtt, loss_at, self.request_size * 8.0 / self.bandwidth * max(1, active)

    def serialization_delay(self, size: float, active: int) -> float:
        """Seconds to push ``size`` bytes through the zone's bandwidth, shared by the active requests."""
        if self.bandwidth is None:
            return 0.0
        return size * 8.0 / self.bandwidth * max(1, active)

    def request_delay(self, active: int) -> float:
        """Serialization of one pay/query/cancel request (``pos.request_size``)."""
        return self.serialization_delay(self.request_size, active)

    def response_delay(self, active: int) -> float:
        """Serialization of one gateway response (``pos.response_size``)."""
        return self.serialization_delay(self.response_size, active)

    # ------------------------------------------------------------------ loss over time

    def in_outage(self, t: float) -> bool:
        outages = self._outages
        if outages is None:
            return False
        if outages.lo <= t < outages.hi:
            return outages.inside
        return outages.locate(t)

    def loss_at(self, loss: float) -> LossAt:
        """``t -> loss`` for a packet sent at ``t``: ``loss`` outside outages, 1.0 inside.

        One callable per loss value, kept: the simulator asks for the same few values again and again.
        """
        found = self._loss_at.get(loss)
        if found is None:
            if len(self._loss_at) >= _LOSS_AT_CACHE_LIMIT:
                self._loss_at.clear()
            found = self._loss_at[loss] = self._make_loss_at(loss)
        return found

    def _make_loss_at(self, loss: float) -> LossAt:
        outages = self._outages
        if outages is None:

            def constant(_t: float) -> float:
                return loss

            return constant

        def with_outages(t: float) -> float:
            if outages.lo <= t < outages.hi:
                return 1.0 if outages.inside else loss
            return 1.0 if outages.locate(t) else loss

        return with_outages

    # ------------------------------------------------------------------ result file

    def describe(self) -> dict[str, object]:
        """What produced this zone's latency and loss, for the result file's metadata."""
        congestion = self._congestion
        return {
            "mechanism": "tcp-model",
            "model": "handshake + RTO/TLP schedules + per-packet loss (simulation.md §4)",
            "peer": self.peer,
            "rtt": self.rtt,
            "jitter": self.jitter,
            "jitter_distribution": "uniform [-jitter, +jitter) added to each attempt's RTT",
            "loss": self.loss,
            "bandwidth": self.bandwidth,
            "request_size": self.request_size,
            "response_size": self.response_size,
            "outages": [] if self._outages is None else [list(w) for w in self._outages.windows()],
            "congestion": None if congestion is None else {
                "knee": congestion.knee,
                "rtt_per_request": congestion.rtt_per_request,
                "loss_per_request": congestion.loss_per_request,
                "max_loss": congestion.max_loss,
            },
        }


def _bounds(windows: Iterable[Window]) -> list[tuple[float, float]]:
    return [(window.at, window.end) for window in windows]
