"""The fault layer: each network zone of the scenario becomes one Toxiproxy proxy.

The zone's profile (the same one the simulator samples from) is realised as:

- **latency and jitter**: ``latency`` toxics.  A proxy sees no TCP handshake (the
  terminal's connect ends at the local proxy), so a fresh-connection exchange gets
  1.5 RTT upstream (handshake + request) and 0.5 RTT downstream, a kept-alive one
  0.5 RTT each way: the mean matches the TCP model's 2 RTT / 1 RTT.  Jitter is
  split evenly between the two directions (each uniform in [L−J/2, L+J/2)).
- **bandwidth**: a ``bandwidth`` toxic per direction.  Toxiproxy limits each
  connection, not the zone (toxiproxy#190), so the zone's link is not shared.
- **loss**: real kernel packet drops (nftables in a private network namespace,
  ``load.packetloss``) where possible, else the documented toxic approximation.
- **outages**: the zone's port drops every packet (nftables, a true blackhole:
  connects time out) or, without nftables, a ``timeout`` toxic swallows requests.
- **congestion**: not injected; the live gateway stub's real queueing stands in.

Everything is undone by ``/reset`` and deleting the proxies, in ``close()``, also
after errors.  Works the same against the embedded server and a real toxiproxy-server.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from load.packetloss import LossRules, toxic_fallback
from load.toxiproxy.client import ToxiproxyClient, ToxiproxyError
from scanrush.scenario.schema import Network, Scenario

PREFIX = "scanrush-"
OUTAGE = "scanrush_outage"


@dataclass(frozen=True, slots=True)
class ToxicSpec:
    type: str
    name: str
    stream: str
    attributes: dict[str, int]
    toxicity: float = 1.0


def _ms(seconds: float) -> int:
    return round(seconds * 1000.0)


def base_toxics(network: Network, *, keepalive: bool) -> list[ToxicSpec]:
    """The zone's RTT, jitter and bandwidth as toxics (see the module docstring for the split)."""
    upstream_rtts = 0.5 if keepalive else 1.5
    half_jitter = _ms(network.jitter / 2.0)
    toxics = [
        ToxicSpec("latency", "zone_latency_up", "upstream",
                  {"latency": _ms(network.rtt * upstream_rtts), "jitter": half_jitter}),
        ToxicSpec("latency", "zone_latency_down", "downstream",
                  {"latency": _ms(network.rtt * 0.5), "jitter": half_jitter}),
    ]
    if network.bandwidth is not None:
        rate = max(1, round(network.bandwidth / 8.0 / 1000.0))  # bits/s -> KB/s
        toxics += [ToxicSpec("bandwidth", "zone_bandwidth_up", "upstream", {"rate": rate}),
                   ToxicSpec("bandwidth", "zone_bandwidth_down", "downstream", {"rate": rate})]
    return toxics


@dataclass
class ZoneProxy:
    zone: int
    name: str
    network: Network
    port: int
    loss_mechanism: str = "none"
    toxics: list[ToxicSpec] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {"zone": self.name, "port": self.port, "loss": self.network.loss,
                "loss_mechanism": self.loss_mechanism,
                "toxics": [{"type": t.type, "name": t.name, "stream": t.stream, "attributes": t.attributes,
                            "toxicity": t.toxicity} for t in self.toxics]}


@dataclass(frozen=True, slots=True)
class ScheduledChange:
    at: float
    """Scenario time."""
    zone: ZoneProxy
    start: bool


class FaultLayer:
    """Proxies per zone, toxics, loss rules and the outage schedule; ``close()`` undoes it all."""

    def __init__(self, client: ToxiproxyClient, scenario: Scenario, upstream: str, *,
                 rules: LossRules | None = None, fallback_reason: str = "", loss_off: bool = False,
                 shared_server: bool = False) -> None:
        """``shared_server``: an external Toxiproxy others may use: never ``/reset`` it, only
        create and delete our own (``scanrush-``) proxies, which takes their toxics with them."""
        self.client = client
        self.scenario = scenario
        self.upstream = upstream
        self.rules = rules
        self.fallback_reason = fallback_reason
        self.loss_off = loss_off
        self.shared_server = shared_server
        self.zones: list[ZoneProxy] = []
        self.applied: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ set-up

    def open(self) -> FaultLayer:
        if not self.shared_server:
            self.client.reset()
        for index, zone in enumerate(self.scenario.mall.zones):
            name = PREFIX + zone.name
            with contextlib.suppress(ToxiproxyError):
                self.client.delete_proxy(name)  # a leftover from a crashed run
            proxy = self.client.create_proxy(name, self.upstream, listen="127.0.0.1:0")
            zone_proxy = ZoneProxy(index, name, self.scenario.networks[zone.network], proxy.port)
            self._apply_profile(zone_proxy)
            self.zones.append(zone_proxy)
        return self

    def _apply_profile(self, zone: ZoneProxy) -> None:
        toxics = base_toxics(zone.network, keepalive=self.scenario.pos.keepalive)
        loss = zone.network.loss
        if loss > 0 and self.loss_off:
            zone.loss_mechanism = "off (--packet-loss off)"
        elif loss > 0 and self.rules is not None:
            self.rules.set_loss(zone.port, loss)
            zone.loss_mechanism = "nftables"
        elif loss > 0:
            toxics += [ToxicSpec(t["type"], t["name"], t["stream"], dict(t["attributes"]), float(t["toxicity"]))
                       for t in toxic_fallback(loss, zone.network.rtt)]
            zone.loss_mechanism = "toxic-approximation" + (f" ({self.fallback_reason})" if self.fallback_reason else "")
        for toxic in toxics:
            self.client.add_toxic(zone.name, toxic.type, name=toxic.name, stream=toxic.stream,
                                  toxicity=toxic.toxicity, attributes=toxic.attributes)
        zone.toxics = toxics

    def endpoints(self) -> dict[int, tuple[str, int]]:
        return {zone.zone: ("127.0.0.1", zone.port) for zone in self.zones}

    # ------------------------------------------------------------------ schedule

    def schedule(self, window: tuple[float, float]) -> list[ScheduledChange]:
        """Outage starts and ends that fall in the window (an outage already on at the start starts at once)."""
        changes: list[ScheduledChange] = []
        start, end = window
        for zone in self.zones:
            for outage in zone.network.outages:
                if outage.end <= start or outage.at >= end:
                    continue
                changes.append(ScheduledChange(max(outage.at, start), zone, True))
                if outage.end < end:
                    changes.append(ScheduledChange(outage.end, zone, False))
        return sorted(changes, key=lambda c: (c.at, not c.start))

    def run_schedule(self, window: tuple[float, float], wall_of: Callable[[float], float]) -> None:
        """Apply the outage schedule in a background thread; ``wall_of`` maps scenario time to ``time.time()``."""
        changes = self.schedule(window)

        def loop() -> None:
            for change in changes:
                if self._stop.wait(max(0.0, wall_of(change.at) - time.time())):
                    return
                self._outage(change.zone, change.start, change.at)

        self._thread = threading.Thread(target=loop, name="scanrush-faults", daemon=True)
        self._thread.start()

    def _outage(self, zone: ZoneProxy, start: bool, at: float) -> None:
        if self.rules is not None:
            self.rules.set_loss(zone.port, 1.0 if start else zone.network.loss)
            how = "nftables: every packet dropped" if start else "nftables: back to the zone's loss"
        elif start:
            self.client.add_toxic(zone.name, "timeout", name=OUTAGE, stream="upstream", attributes={"timeout": 0})
            how = "timeout toxic (requests swallowed)"
        else:
            self.client.remove_toxic(zone.name, OUTAGE)
            how = "timeout toxic removed"
        self.applied.append({"zone": zone.name, "at": at, "wall": time.time(),
                             "outage": "start" if start else "end", "how": how})

    # ------------------------------------------------------------------ tear-down

    def close(self) -> None:
        """Stop the schedule, reset Toxiproxy, delete our proxies, drop the loss rules: always."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        errors: list[str] = []
        actions = (self._delete_proxies,) if self.shared_server else (self.client.reset, self._delete_proxies)
        for action in actions:
            try:
                action()
            except ToxiproxyError as exc:
                errors.append(str(exc))
        if self.rules is not None:
            self.rules.close()
        if errors:
            raise ToxiproxyError("fault layer clean-up: " + "; ".join(errors))

    def _delete_proxies(self) -> None:
        for zone in self.zones:
            try:
                self.client.delete_proxy(zone.name)
            except ToxiproxyError:
                continue

    def loss_mechanism(self) -> dict[str, Any]:
        """How the zones' packet loss is realised, for the result file and the summary."""
        lossy = [z for z in self.zones if z.network.loss > 0]
        if not lossy:
            return {"mechanism": "none", "reason": "no zone has packet loss"}
        if self.loss_off:
            return {"mechanism": "off", "reason": "--packet-loss off"}
        if self.rules is not None:
            return {**self.rules.describe(), "ports": {z.name: z.port for z in lossy}}
        return {"mechanism": "toxic-approximation", "reason": self.fallback_reason}

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"zones": [z.describe() for z in self.zones], "schedule": self.applied}
        described["packet_loss"] = self.loss_mechanism()
        if self.rules is not None:
            described["dropped"] = {str(port): c.dropped for port, c in self.rules.counters().items()}
        return described
