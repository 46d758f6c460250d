"""``python -m load.engine CONFIG.json``: the Locust engine, one process, POS terminals as users.

``import locust`` must come first: it monkey-patches sockets, ssl and time for
gevent, and importing it after anything that imported ssl/requests crashes
(load-testing.md §1.1).  The config is written by the orchestrator
(``load/orchestrate.py``); the engine writes one ``ReplicationStats`` JSON file
(mechanism "live"), also when stopped early (SIGINT/SIGTERM).
"""

import locust  # noqa: I001 - must be imported before anything else (gevent monkey-patching)

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
import psutil
from locust import User, task
from locust.env import Environment

from load.engine.plan import SPAWN_RATE, LivePlan
from load.engine.tills import Endpoint, LiveTills, settle_over_http
from scanrush.domain.world import build_world
from scanrush.results import write_json_atomic
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
            gevent.sleep(3600)  # more users than tills: stay idle
            return
        self.environment.scanrush.serve(self.till_id)


def _hook(environment: Environment) -> Any:
    def report(name: str, milliseconds: float, size: int, exc: BaseException | None) -> None:
        environment.events.request.fire(  # type: ignore[no-untyped-call]
            request_type="POST", name=name, response_time=milliseconds,
                                        response_length=size, exception=exc, context={})
    return report


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


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    scenario = load_scenario(config["scenario"], config.get("overrides", []))
    world = build_world(scenario)
    plan = LivePlan(scenario, world, tuple(config["window"]), config.get("terminals"),
                    tuple(config.get("partition", (0, 1))))
    zones = {int(z): Endpoint(e["host"], e["port"], e.get("path", "/gateway.do")) for z, e in config["zones"].items()}
    environment = Environment(user_classes=[PosTerminal], events=locust.events)
    settle = settle_over_http(config["settle_url"]) if config.get("settle_url") else None
    tills = LiveTills(plan, zones, compression=config.get("compression", 1.0), settle=settle,
                      on_request=_hook(environment), tag=str(config.get("tag", "L")))
    environment.scanrush = tills  # type: ignore[attr-defined]  # the run, per environment (never a class attribute)
    runner = environment.create_local_runner()
    watch = CpuWatch()
    gevent.spawn(watch.run)
    stopping = {"flag": False}
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.update(flag=True))
    users = len(plan.terminal_ids)
    runner.start(user_count=users, spawn_rate=min(max(users, 1), SPAWN_RATE))  # users idle until shoppers come
    gevent.sleep(max(0.0, float(config.get("start_at", 0.0)) - time.time()))
    tills.start()
    window = (plan.window[1] - plan.window[0]) / tills.compression
    deadline = time.monotonic() + window + float(config.get("drain_seconds", 120.0))
    while not stopping["flag"] and not tills.finished() and time.monotonic() < deadline:
        gevent.sleep(0.2)
    runner.quit()
    stats = tills.collector.to_stats(ledger={}, gateway={})
    stats.mechanism = "live"
    stats.extra.update({
        "window": list(plan.window), "compression": tills.compression, "terminals": users,
        "interrupted": stopping["flag"], "unfinished_shoppers": tills.in_system,
        "cpu_max_percent": max(watch.samples, default=0.0), "cpu_saturated": watch.saturated(),
        "locust_requests": environment.stats.total.num_requests,
        "locust_failures": environment.stats.total.num_failures,
    })
    write_json_atomic(Path(config["out"]), stats.to_dict())
    return 130 if stopping["flag"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
