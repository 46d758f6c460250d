"""The live tills: lines of shoppers served by terminals that pay over real HTTP.

Runs under gevent (inside the Locust engine process): each terminal is a Locust
user blocked in :meth:`LiveTills.serve`; a dispatcher greenlet releases the
plan's shoppers at their arrival times.  The checkout itself is the shared visit
flow (``scanrush.domain.visit``), driven here with wall-clock waits and one
HTTP request per ``Exchange`` through the terminal's zone proxy.

Time: scenario time advances ``compression`` times faster than the wall clock
for arrivals and the shoppers' own durations (scanning, paying another way);
network timing and the terminal's protocol timers are never compressed.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent
import numpy as np
from gevent.event import Event

from load import wire
from load.engine.plan import LivePlan
from scanrush.collect import Collector
from scanrush.domain.outcomes import Outcome
from scanrush.domain.replies import Reply
from scanrush.domain.shoppers import Shopper
from scanrush.domain.visit import Answer, Exchange, Till, TimedOut, Visit, Wait, visit
from scanrush.rng import uniform_source

RequestHook = Callable[[str, float, int, BaseException | None], None]
"""(name, milliseconds, response bytes, exception) for each request: Locust's stats."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    path: str = "/gateway.do"


@dataclass
class LiveLane:
    servers: int
    queue: deque[tuple[Shopper, float]] = field(default_factory=deque)
    busy: int = 0
    idle: list[Event] = field(default_factory=list)

    def load(self) -> float:
        return (len(self.queue) + self.busy) / self.servers

    def join(self, shopper: Shopper, at: float) -> None:
        self.queue.append((shopper, at))
        if self.idle:
            self.idle.pop().set()


class LiveTills:
    def __init__(self, plan: LivePlan, zones: dict[int, Endpoint], *, compression: float = 1.0,
                 app_id: str = "2021000000000000", settle: Callable[[Visit], None] | None = None,
                 on_request: RequestHook | None = None, clock: Callable[[], float] = time.monotonic,
                 tag: str = "L") -> None:
        self.plan = plan
        self.scenario = plan.scenario
        self.zones = zones
        self.compression = compression
        self.app_id = app_id
        self.settle = settle
        self.on_request = on_request
        self.clock = clock
        self.tag = tag
        start, end = plan.window
        self.collector = Collector(end - start, 0, [self.scenario.seed, 0], [z.name for z in self.scenario.mall.zones])
        self.retry_u = uniform_source(np.random.default_rng(plan.seeds.retry))
        self._lanes, self._lane_of = self._build_lanes()
        self._unclaimed = list(reversed(plan.terminal_ids))
        self._kept: dict[int, http.client.HTTPConnection] = {}
        self._t0 = 0.0
        self.dispatched_all = False
        self.in_system = 0

    def _build_lanes(self) -> tuple[dict[int, list[LiveLane]], dict[int, LiveLane]]:
        world = self.plan.world
        lanes: dict[int, list[LiveLane]] = {}
        lane_of: dict[int, LiveLane] = {}
        for store in self.plan.stores:
            tills = world.store_terminals[store]
            if self.scenario.mall.zones[world.merchants[store].zone].queue == "shared":
                shared = LiveLane(len(tills))
                lanes[store] = [shared]
                lane_of.update(dict.fromkeys(tills, shared))
            else:
                lanes[store] = [LiveLane(1) for _ in tills]
                lane_of.update(zip(tills, lanes[store], strict=True))
        return lanes, lane_of

    # ------------------------------------------------------------------ time

    def start(self) -> None:
        self._t0 = self.clock()
        gevent.spawn(self._dispatch)

    def scenario_time(self) -> float:
        return self.plan.window[0] + (self.clock() - self._t0) * self.compression

    def _window_time(self) -> float:
        return self.scenario_time() - self.plan.window[0]

    def _sleep_scenario(self, seconds: float) -> None:
        gevent.sleep(seconds / self.compression)

    # ------------------------------------------------------------------ shoppers

    def _dispatch(self) -> None:
        for arrival in self.plan.arrivals():
            delay = (arrival.at - self.scenario_time()) / self.compression
            if delay > 0:
                gevent.sleep(delay)
            self.collector.arrival(arrival.at - self.plan.window[0])
            self.in_system += 1
            lanes = self._lanes[arrival.shopper.store]
            lane = min(lanes, key=LiveLane.load) if len(lanes) > 1 else lanes[0]
            lane.join(arrival.shopper, arrival.at)
        self.dispatched_all = True

    def finished(self) -> bool:
        return self.dispatched_all and self.in_system == 0

    def claim(self) -> int | None:
        """A terminal id for a new user, or None when every till is staffed."""
        return self._unclaimed.pop() if self._unclaimed else None

    # ------------------------------------------------------------------ a till

    def serve(self, terminal_id: int) -> None:
        """Serve this till's line forever (the Locust user's only task)."""
        lane = self._lane_of[terminal_id]
        info = self.plan.world.terminals[terminal_id]
        merchant = self.plan.world.merchants[info.merchant]
        till = Till(terminal_id, merchant, info.firmware, self.scenario.pos,
                    self.scenario.shoppers.on_failure, self.tag)
        endpoint = self.zones[info.zone]
        while True:
            while not lane.queue:
                event = Event()
                lane.idle.append(event)
                event.wait()
            shopper, arrived = lane.queue.popleft()
            now = self.scenario_time()
            if now - arrived > shopper.patience:
                self._done(shopper, arrived, arrived + shopper.patience, None)
                continue
            lane.busy += 1
            try:
                self.collector.started(now - arrived)
                result = self._checkout(shopper, till, endpoint)
                self._done(shopper, arrived, self.scenario_time(), result)
            finally:
                lane.busy -= 1

    def _done(self, shopper: Shopper, arrived: float, now: float, result: Visit | None) -> None:
        self.in_system -= 1
        start = self.plan.window[0]
        zone = self.collector.zones[self.plan.world.merchants[shopper.store].zone]
        if result is None:
            self.collector.finish(Outcome.ABANDONED_QUEUE, None, shopper.basket, arrived - start, now - start, zone)
            return
        if self.settle is not None:
            self.settle(result)
        self.collector.finish(result.outcome, result.cause, shopper.basket, arrived - start, now - start, zone)

    def _checkout(self, shopper: Shopper, till: Till, endpoint: Endpoint) -> Visit:
        flow = visit(shopper, till, self.retry_u, self.collector, time.perf_counter)
        answer: Answer = None
        try:
            while True:
                step = flow.send(answer)
                if isinstance(step, Wait):
                    if step.protocol_timer:
                        gevent.sleep(step.seconds)
                    else:
                        self._sleep_scenario(step.seconds)
                    answer = None
                else:
                    answer = self._exchange(step, endpoint, till.terminal)
        except StopIteration as stop:
            result: Visit = stop.value
            return result

    # ------------------------------------------------------------------ the wire

    def _exchange(self, step: Exchange, endpoint: Endpoint, terminal: int) -> Reply | TimedOut:
        """One request with the POS's connect and read timeouts: over a fresh connection, or over the
        till's kept-alive one when ``pos.keepalive`` (reconnecting after any failure)."""
        pos = self.scenario.pos
        body = wire.encode(step.op, step.request, app_id=self.app_id)
        started = time.perf_counter()
        connection = self._kept.pop(terminal, None)
        if connection is None:
            connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=pos.connect_timeout)
            try:
                connection.connect()
            except OSError as exc:
                connection.close()
                self._report(step, started, 0, exc)
                return TimedOut(False)
        assert connection.sock is not None
        connection.sock.settimeout(step.read_timeout)
        headers = {"Content-Type": wire.FORM, "Connection": "keep-alive" if pos.keepalive else "close"}
        try:
            connection.request("POST", endpoint.path, body, headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            # Timed out or cut off after sending: the gateway may have acted (ambiguous).
            connection.close()
            self._report(step, started, 0, exc)
            return TimedOut(True)
        if pos.keepalive and not response.will_close:
            self._kept[terminal] = connection
        else:
            connection.close()
        self._report(step, started, len(data), None)
        return wire.decode(step.op, data)

    def _report(self, step: Exchange, started: float, size: int, exc: BaseException | None) -> None:
        if self.on_request is not None:
            self.on_request(step.op.value, (time.perf_counter() - started) * 1000.0, size, exc)


def settle_over_http(control_url: str, timeout: float = 5.0) -> Callable[[Visit], None]:
    """Tell the gateway stub a checkout is over, so its ledger audit knows what the till recorded."""

    def settle(result: Visit) -> None:
        payload = json.dumps({"trades": result.trades, "acknowledged": result.acknowledged,
                              "paid_otherwise": result.paid_otherwise}).encode()
        request = urllib.request.Request(control_url, payload, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except OSError:
            pass  # the end-of-run audit still sees every trade; only this checkout's context is lost

    return settle
