"""The Locust side shared by every engine role (local, master, worker): POS terminals as users.

Imported only by ``load/engine/__main__.py``'s roles, after ``import locust`` has
patched the process (load-testing.md §1.1); never by the CLI or the tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent
import psutil
from locust import User, task
from locust.env import Environment

from load.engine.plan import LivePlan
from load.engine.tills import Endpoint, LiveTills, RequestHook, settle_over_http
from scanrush.domain.world import build_world
from scanrush.results import ReplicationStats
from scanrush.scenario.loader import load_scenario

CPU_SATURATED = 90.0
"""Percent of one core above which the load generator's own timing can no longer be trusted."""


class PosTerminal(User):
    """One POS terminal; its only task serves its till's line until the run stops."""

    def on_start(self) -> None:
        self.till_id = self.environment.scanrush.claim()

    @task
    def serve(self) -> None:
        if self.till_id is None:
            gevent.sleep(3600)  # more users than tills (a worker gets an even share): stay idle
            return
        self.environment.scanrush.serve(self.till_id)


def new_environment() -> Environment:
    # events=locust.events: an Environment otherwise makes its own, and nothing fires (load-testing.md §0.2)
    import locust

    return Environment(user_classes=[PosTerminal], events=locust.events)


class RequestCounter:
    """Fires Locust's request event for each request and counts them itself: a worker's ``env.stats``
    is emptied at every report to the master, so only this count is the process's own total."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.requests = 0
        self.failures = 0

    def __call__(self, name: str, milliseconds: float, size: int, exc: BaseException | None) -> None:
        self.requests += 1
        self.failures += exc is not None
        self.environment.events.request.fire(  # type: ignore[no-untyped-call]
            request_type="POST", name=name, response_time=milliseconds,
            response_length=size, exception=exc, context={})


class CpuWatch:
    """Samples this process's CPU once a second; saturation makes the run's timings untrustworthy."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._process = psutil.Process()
        self._process.cpu_percent(None)

    def run(self) -> None:
        while True:
            gevent.sleep(1.0)
            self.samples.append(self._process.cpu_percent(None))

    def saturated(self) -> bool:
        busy = [s for s in self.samples if s >= CPU_SATURATED]
        return len(busy) > max(2, len(self.samples) // 10)


@dataclass(frozen=True)
class TillsSpec:
    """What one load-generator process serves: its share of the window's stores and where to send payments."""

    scenario_path: str
    overrides: list[str]
    window: tuple[float, float]
    terminals: int | None
    partition: tuple[int, int]
    zones: dict[int, Endpoint]
    compression: float
    settle_url: str | None
    tag: str

    @staticmethod
    def zones_of(raw: dict[str, Any]) -> dict[int, Endpoint]:
        return {int(z): Endpoint(e["host"], int(e["port"]), e.get("path", "/gateway.do")) for z, e in raw.items()}


def build_tills(spec: TillsSpec, counter: RequestHook) -> LiveTills:
    scenario = load_scenario(spec.scenario_path, spec.overrides)
    plan = LivePlan(scenario, build_world(scenario), spec.window, spec.terminals, spec.partition)
    settle = settle_over_http(spec.settle_url) if spec.settle_url else None
    return LiveTills(plan, spec.zones, compression=spec.compression, settle=settle, on_request=counter, tag=spec.tag)


def attach(tills: LiveTills, environment: Environment) -> None:
    """Make ``tills`` the run the environment's users serve."""
    environment.scanrush = tills  # type: ignore[attr-defined]  # the run, per environment (never a class attribute)


def serve_window(tills: LiveTills, start_at: float, drain_seconds: float, stopping: Callable[[], bool]) -> None:
    """Release the shoppers from ``start_at`` (wall time); return when all are done, at the deadline or on stop."""
    gevent.sleep(max(0.0, start_at - time.time()))
    if stopping():
        return
    tills.start()
    window = (tills.plan.window[1] - tills.plan.window[0]) / tills.compression
    deadline = time.monotonic() + window + drain_seconds
    while not stopping() and not tills.finished() and time.monotonic() < deadline:
        gevent.sleep(0.2)


def part_stats(tills: LiveTills, watch: CpuWatch, counter: RequestCounter, interrupted: bool) -> ReplicationStats:
    """This process's exact measurements (the shared collector's), with what only it knows in ``extra``."""
    stats = tills.collector.to_stats(ledger={}, gateway={})
    stats.mechanism = "live"
    stats.extra.update({
        "window": list(tills.plan.window), "compression": tills.compression,
        "terminals": len(tills.plan.terminal_ids), "stores": len(tills.plan.stores), "tag": tills.tag,
        "interrupted": interrupted, "unfinished_shoppers": tills.in_system,
        "cpu_max_percent": max(watch.samples, default=0.0), "cpu_saturated": watch.saturated(),
        "locust_requests": counter.requests, "locust_failures": counter.failures,
    })
    return stats
