"""``python -m load.engine CONFIG.json``: a Locust engine process, in one of three roles.

``local`` (the default): one LocalRunner serving the config's share of stores.
``master``/``worker``: Locust's distributed mode (``load/engine/distributed.py``).

``import locust`` must come first: it monkey-patches sockets, ssl and time for
gevent, and importing it after anything that imported ssl/requests crashes
(load-testing.md §1.1).  The config is written by the orchestrator
(``load/orchestrate.py``); a local engine writes one ``ReplicationStats`` JSON file
(mechanism "live"), also when stopped early (SIGINT/SIGTERM).
"""

import locust  # noqa: I001 - must be imported before anything else (gevent monkey-patching)

import json
import signal
import sys
from pathlib import Path
from typing import Any

import gevent

from load.engine.plan import SPAWN_RATE
from load.engine.terminals import (CpuWatch, RequestCounter, TillsSpec, attach, build_tills, new_environment,
                                   part_stats, serve_window)
from scanrush.results import write_json_atomic

assert locust  # the import is for its side effect


class StopFlag:
    """Set by SIGINT/SIGTERM: the engine stops serving and writes (or sends) what it measured."""

    def __init__(self) -> None:
        self.set = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, *_: object) -> None:
        self.set = True

    def __call__(self) -> bool:
        return self.set


def run_local(config: dict[str, Any]) -> int:
    environment = new_environment()
    counter = RequestCounter(environment)
    spec = TillsSpec(config["scenario"], config.get("overrides", []), tuple(config["window"]), config.get("terminals"),
                     tuple(config.get("partition", (0, 1))), TillsSpec.zones_of(config["zones"]),
                     config.get("compression", 1.0), config.get("settle_url"), str(config.get("tag", "L")))
    tills = build_tills(spec, counter)
    attach(tills, environment)
    runner = environment.create_local_runner()
    watch = CpuWatch()
    gevent.spawn(watch.run)
    stopping = StopFlag()
    users = len(tills.plan.terminal_ids)
    runner.start(user_count=users, spawn_rate=min(max(users, 1), SPAWN_RATE))  # users idle until shoppers come
    serve_window(tills, float(config.get("start_at", 0.0)), float(config.get("drain_seconds", 120.0)), stopping)
    runner.quit()
    stats = part_stats(tills, watch, counter, stopping.set)
    write_json_atomic(Path(config["out"]), stats.to_dict())
    return 130 if stopping.set else 0


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    role = config.get("role", "local")
    if role == "local":
        return run_local(config)
    from load.engine import distributed

    run = distributed.run_master if role == "master" else distributed.run_worker
    return run(config, StopFlag())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
