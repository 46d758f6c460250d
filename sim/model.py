"""The promotion as a SimPy model: shoppers arrive, queue, scan, pay over their zone's link.

Events per shopper are kept few (simulation.md §2.3): terminals are long-lived
processes pulling shoppers from their own queue, abandonment is lazy (a shopper
whose patience ran out is skipped when reached), gateway queueing is computed
on arrival, and each request's network legs are one draw each.
"""

from __future__ import annotations

import gc
import math
from collections import deque
from collections.abc import Callable, Generator, Iterator
from functools import partial
from operator import attrgetter
from typing import Any

import numpy as np
import simpy

from scanrush.collect import Collector, ObserverPair, WindowCollector
from scanrush.domain.outcomes import Cause, Outcome
from scanrush.domain.profile import RushProfile, arrival_times
from scanrush.domain.shoppers import Shopper, ShopperFactory, duration_sampler
from scanrush.domain.visit import (
    PAID_DIRECTLY,
    Answer,
    Exchange,
    Till,
    TimedOut,
    Visit,
    Wait,
    direct_payment,
    visit,
)
from scanrush.domain.world import Terminal, World, store_cumulative_weights
from scanrush.network.link import ZoneLink
from scanrush.network.tcp import request_leg, response_leg
from scanrush.results import ReplicationStats
from scanrush.rng import ReplicationSeeds, uniform_source
from scanrush.scenario.schema import Scenario
from scanrush.window import choose_stores, default_window
from sim.gateway import SimGateway

Process = Generator[simpy.Event, Any, Any]
TraceSink = Callable[[dict[str, object]], None]


class Promotion:
    """One replication of the scenario."""

    def __init__(self, scenario: Scenario, world: World, index: int, *, trace: TraceSink | None = None) -> None:
        self.scenario = scenario
        self.world = world
        self.index = index
        self.trace = trace
        self.env = simpy.Environment()
        seeds = ReplicationSeeds.of(scenario.seed, index)
        self._arrival_rng = np.random.default_rng(seeds.arrivals)
        self._net_u = uniform_source(np.random.default_rng(seeds.network))
        self.retry_u = uniform_source(np.random.default_rng(seeds.retry))
        gateway_rng = np.random.default_rng(seeds.gateway)
        service_time = duration_sampler(scenario.gateway.service_time, gateway_rng.spawn(1)[0])
        zones = [zone.name for zone in scenario.mall.zones]
        self.collector = Collector(scenario.duration, index, [scenario.seed, index], zones)
        self.window = self._live_window(zones)
        self.window_start, self.window_end = self.window.start, self.window.end
        self.window_observer = ObserverPair(self.collector, self.window.collector)
        self.gateway = SimGateway(scenario, world, uniform_source(gateway_rng), service_time)
        self.gateway.on_busy = self.collector.gateway_busy
        self.links = [ZoneLink(scenario.networks[zone.network], scenario.pos) for zone in scenario.mall.zones]
        self.active = [0] * len(scenario.mall.zones)
        self._shoppers: Iterator[Shopper] = iter(
            ShopperFactory(scenario, seeds.shoppers, store_cumulative_weights(world)))
        self.terminals = [SimTerminal(self, terminal) for terminal in world.terminals]
        self._store_lanes = [self._lanes(ids) for ids in world.store_terminals]
        self.in_system = 0
        self.clock: Callable[[], float] = partial(_NOW, self.env)
        """``env.now`` as a callable for the visit flow (no Python frame of its own)."""

    def _live_window(self, zones: list[str]) -> WindowCollector:
        """The shoppers a live run of the scenario's ``live`` section re-enacts: its window, its stores
        (scanrush/window.py decides both, for this model and the live engine alike)."""
        live = self.scenario.live
        stores = None if live.terminals == "all" else frozenset(choose_stores(self.world, live.terminals))
        return WindowCollector(default_window(self.scenario), self.index, [self.scenario.seed, self.index], zones,
                               stores)

    def _lanes(self, terminal_ids: tuple[int, ...]) -> list[Lane]:
        """The store's lines: one shared snake line, or one line per till."""
        tills = [self.terminals[i] for i in terminal_ids]
        zone = self.scenario.mall.zones[tills[0].zone]
        if zone.queue == "shared":
            shared = Lane(len(tills))
            for till in tills:
                till.lane = shared
            return [shared]
        return [till.lane for till in tills]

    # ------------------------------------------------------------------ arrivals

    def _start_arrivals(self) -> None:
        """Arrivals as a chain of timeout callbacks: no process to resume per shopper."""
        env = self.env
        timeout = env.timeout
        arrive = self._arrive
        next_shopper = self._shoppers.__next__
        profile = RushProfile(self.scenario.shoppers.arrivals)
        times = arrival_times(profile, self._arrival_rng, 0.0, self.scenario.duration)

        def next_arrival(_event: simpy.Event | None = None) -> None:
            if _event is not None:
                arrive(next_shopper())
            t = next(times, None)
            if t is not None:
                timeout(t - env.now).callbacks.append(next_arrival)

        next_arrival()

    def _arrive(self, shopper: Shopper) -> None:
        now = self.env.now
        self.collector.arrival(now)
        self.in_system += 1
        lanes = self._store_lanes[shopper.store]
        # Join the shortest line (the first of equals: shoppers read left to right).
        if len(lanes) == 1:
            lane = lanes[0]
        elif len(lanes) == 2:  # most stores: min() with a key costs ~4x this comparison
            first, second = lanes
            lane = second if second.size < first.size else first
        else:
            lane = min(lanes, key=_SIZE)
        lane.queue.append((shopper, now))  # Lane.join, inlined: once per shopper
        lane.size += 1
        if lane.idle:
            lane.idle.pop().succeed()

    def _sample_queues(self) -> Process:
        series = self.collector.series["queue_length"]
        lanes = [lane for store in self._store_lanes for lane in store]
        for minute in range(self.collector.minutes):
            yield self.env.timeout(minute * 60.0 + 30.0 - self.env.now)
            now = self.env.now
            series[minute] = float(sum(lane.waiting(now) for lane in lanes if lane.queue))

    # ------------------------------------------------------------------ run

    def run(self) -> ReplicationStats:
        env = self.env
        self._start_arrivals()
        env.process(self._sample_queues())
        for terminal in self.terminals:
            env.process(terminal.serve())
        # The run makes millions of short-lived objects but almost no cyclic garbage: collecting
        # generation 0 every 700 net allocations only walks the young shoppers and generators again.
        threshold = gc.get_threshold()
        gc.set_threshold(max(threshold[0], _GC_GEN0_THRESHOLD), *threshold[1:])
        try:
            env.run()  # arrivals stop at closing; every shopper inside is served to the end
        finally:
            gc.set_threshold(*threshold)
        horizon = max(env.now, self.scenario.duration)
        self.gateway.ledger.sweep(horizon)
        stats = self.collector.to_stats(
            ledger=self.gateway.ledger.audit.as_dict(),
            gateway={
                "requests": float(self.gateway.requests),
                "rejected_busy": float(self.gateway.rejected_busy),
                "busy_seconds": self.gateway.busy_seconds,
                "utilisation": self.gateway.utilisation(self.scenario.duration),
                "horizon": horizon,
            },
        )
        stats.window = self._window_stats()
        return stats

    def _window_stats(self) -> ReplicationStats:
        stores = self.window.stores
        chosen = range(len(self.world.merchants)) if stores is None else sorted(stores)
        return self.window.to_stats(terminals=sum(len(self.world.store_terminals[s]) for s in chosen),
                                    stores=len(chosen))


class Lane:
    """A FIFO line of shoppers served by one or more tills (idle tills wait to be woken)."""

    __slots__ = ("idle", "queue", "servers", "size")

    def __init__(self, servers: int) -> None:
        self.servers = servers
        self.queue: deque[tuple[Shopper, float]] = deque()
        self.idle: list[simpy.Event] = []
        self.size = 0
        """Shoppers in line or at the tills: what a shopper choosing the shortest line compares.
        (Lines are compared only within a store of one-till lines, so no per-till scaling.)
        Shoppers whose patience ran out still count until a till reaches them: lazy abandonment."""

    def join(self, shopper: Shopper, now: float) -> None:
        self.queue.append((shopper, now))
        self.size += 1
        if self.idle:
            self.idle.pop().succeed()

    def waiting(self, now: float) -> int:
        """Shoppers still in line at ``now`` (those whose patience ran out have left)."""
        return sum(1 for shopper, arrived in self.queue if now - arrived <= shopper.patience)


_SIZE = attrgetter("size")
_GC_GEN0_THRESHOLD = 100_000
_NOW = attrgetter("now")
_ABANDONED = Outcome.ABANDONED_QUEUE
_PAID_DIRECTLY = PAID_DIRECTLY.outcome
_CONNECT_FAILED = TimedOut(False)
_READ_TIMED_OUT = TimedOut(True)


class SimTerminal:
    """A POS till: a long-lived process serving its line."""

    __slots__ = ("_connect_timeout", "_keepalive", "firmware", "info", "lane", "link", "merchant", "promo", "tally",
                 "till", "zone")

    def __init__(self, promo: Promotion, info: Terminal) -> None:
        self.promo = promo
        self.info = info
        self.zone = info.zone
        self.tally = promo.collector.zones[info.zone]
        """This till's zone's counts, handed to ``Collector.finish`` (no per-shopper lookup)."""
        self.link = promo.links[info.zone]
        self.merchant = promo.world.merchants[info.merchant]
        self.firmware = info.firmware
        self.lane = Lane(1)
        self.till = Till(info.id, self.merchant, info.firmware, promo.scenario.pos,
                         promo.scenario.shoppers.on_failure, f"R{promo.index}")
        self._connect_timeout = promo.scenario.pos.connect_timeout
        self._keepalive = promo.scenario.pos.keepalive

    def serve(self) -> Process:
        # The hot loop of the model: every SimPy resume of a till lands in this frame (or in
        # _checkout's, for Huabei shoppers), so lookups are bound to locals once.
        promo = self.promo
        env = promo.env
        timeout = env.timeout
        new_event = env.event
        started = promo.collector.started
        window_start, window_end, window_started = promo.window_start, promo.window_end, promo.window.started
        done = self._done
        checkout = self._checkout
        lane = self.lane
        queue = lane.queue
        idle = lane.idle
        popleft = queue.popleft
        while True:
            while not queue:
                wakeup = new_event()
                idle.append(wakeup)
                yield wakeup
            shopper, arrived = popleft()
            wait = env.now - arrived
            if wait > shopper.patience:  # lazy abandonment: gone when their patience ran out
                lane.size -= 1
                done(shopper, _ABANDONED, None, arrived, arrived + shopper.patience)
                continue
            started(wait)
            if window_start <= arrived < window_end:
                window_started(shopper.store, wait)
            direct = direct_payment(shopper)
            if direct is None:
                yield from checkout(shopper, arrived)
            else:  # half the shoppers: one wait, no flow to drive
                yield timeout(direct)
                done(shopper, _PAID_DIRECTLY, None, arrived, env.now)
            lane.size -= 1

    def _done(self, shopper: Shopper, outcome: Outcome, cause: Cause | None, arrived: float, now: float) -> None:
        promo = self.promo
        promo.in_system -= 1
        promo.collector.finish(outcome, cause, shopper.basket, arrived, now, self.tally)
        if promo.window_start <= arrived < promo.window_end:
            promo.window.finish(outcome, cause, shopper.basket, arrived, now, store=shopper.store, zone=self.zone)
        if promo.trace is not None:
            promo.trace({"shopper": shopper.serial, "terminal": self.info.id, "zone": self.zone,
                         "arrived": round(arrived, 3), "done": round(now, 3), "outcome": outcome.value,
                         "cause": cause.value if cause else None, "huabei": shopper.wants_huabei,
                         "basket": shopper.basket, "firmware": self.firmware.version})

    # ------------------------------------------------------------------ checkout

    def _checkout(self, shopper: Shopper, arrived: float) -> Process:
        """Drive the shared visit flow of a Huabei shopper on simulated time.

        Each ``Exchange`` is one request over the zone's link to the gateway and back: two legs,
        two events.  It is inlined here rather than a sub-generator: every resume of a nested
        generator costs a frame switch per level, and this runs several times per Huabei shopper.
        """
        promo = self.promo
        env = promo.env
        timeout = env.timeout
        link = self.link
        attempt_conditions = link.attempt
        uniform = promo._net_u
        gateway = promo.gateway
        active = promo.active
        zone = self.zone
        connect_timeout, keepalive = self._connect_timeout, self._keepalive
        isfinite = math.isfinite
        window = promo.window_start <= arrived < promo.window_end and promo.window.includes(shopper.store)
        observer = promo.window_observer if window else promo.collector
        send = visit(shopper, self.till, promo.retry_u, observer, promo.clock).send
        answer: Answer = None
        try:
            while True:
                step = send(answer)
                if isinstance(step, Wait):
                    yield timeout(step.seconds)
                    answer = None
                    continue
                # ---- one exchange: request leg, gateway, response leg
                start = env.now
                busy = active[zone]
                active[zone] = busy + 1
                rtt, loss_at, request_delay = attempt_conditions(uniform, busy)
                leg = request_leg(start, rtt, loss_at, uniform, connect_timeout=connect_timeout,
                                  keepalive=keepalive, extra_delay=request_delay)
                if not leg.connected:
                    yield timeout(connect_timeout)
                    answer = _CONNECT_FAILED
                else:
                    deadline = leg.sent_at + step.read_timeout
                    arrives_at = leg.arrives_at
                    if arrives_at >= deadline:
                        if isfinite(arrives_at):
                            self._late_request(step, shopper, arrives_at)
                        yield timeout(deadline - start)
                        answer = _READ_TIMED_OUT
                    else:
                        yield timeout(arrives_at - start)
                        reply, leaves_at = gateway.handle(step.op, step.request, shopper, step.u_risk, env.now)
                        back = response_leg(leaves_at, rtt, loss_at, uniform, extra_delay=link.response_delay(busy))
                        back, answer = (deadline, _READ_TIMED_OUT) if back > deadline else (back, reply)
                        yield timeout(back - env.now)
                active[zone] -= 1
        except StopIteration as stop:
            self._settle(stop.value, shopper, arrived)

    def _settle(self, result: Visit, shopper: Shopper, arrived: float) -> None:
        now = self.promo.env.now
        if result.trades:
            self.promo.gateway.ledger.settle(result.trades, result.acknowledged, result.paid_otherwise, now,
                                             forget=True)
        self._done(shopper, result.outcome, result.cause, arrived, now)

    def _late_request(self, step: Exchange, shopper: Shopper, at: float) -> None:
        """A request the terminal gave up on still reaches the gateway, which acts on it."""
        promo = self.promo
        event = promo.env.timeout(at - promo.env.now)

        def act(_: simpy.Event) -> None:
            promo.gateway.handle(step.op, step.request, shopper, step.u_risk, promo.env.now)

        event.callbacks.append(act)
