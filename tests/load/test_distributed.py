"""``scanrush load`` in Locust's distributed mode, on loopback: a master, its workers, their results merged.

Real commands in child processes (``CliRun`` from ``test_live.py``): a ``--master`` with two
``--worker`` "hosts" (each with its own embedded Toxiproxy), ``--processes 2`` (master + two
workers on one host) and a single-process run of the same window, all started together when the
first test of this file runs; plus the bounded failures.  This process never imports Locust.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from load.engine.plan import LivePlan
from scanrush.domain.world import build_world
from scanrush.results import ReplicationStats
from scanrush.scenario.loader import load_scenario

pytestmark = pytest.mark.live


def _live_helpers() -> ModuleType:
    """``test_live.py``'s process harness (test modules are not a package here: load it by path)."""
    name = "scanrush_live_test_helpers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("test_live.py"))
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


live = _live_helpers()
CliRun = live.CliRun
CLEAN = live.CLEAN
WINDOW = ("0s", "12s")
"""12 s of the clean profile (one shopper a second over 6 tills in 4 stores)."""
ARGS = ("--window", "..".join(WINDOW), "--drain", "20s")
RUN_TIMEOUT = 120.0
QUICK_TIMEOUT = 45.0
MASTER_LINE = re.compile(r"Locust master listening on 127\.0\.0\.1:(\d+)")


class Runs:
    """The long runs of this file, started together; workers join the master once it prints its port."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.single = self._run("single", "-o", str(self.out("single")))
        self.processes = self._run("processes", "--processes", "2", "-o", str(self.out("processes")))
        self.master = self._run("master", "--master", "--master-bind-port", "0", "--expect-workers", "2",
                                "--expect-workers-max-wait", "60s", "-o", str(self.out("master")))
        port = self._master_port()
        self.workers = [CliRun(["load", "--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
                                "--master-connect-timeout", "30s"], base / f"worker-{i}.log", RUN_TIMEOUT)
                        for i in range(2)]

    def _run(self, name: str, *options: str) -> Any:
        return CliRun(["load", str(CLEAN), *ARGS, *options], self.base / f"{name}.log", RUN_TIMEOUT)

    def out(self, name: str) -> Path:
        return self.base / f"{name}.json"

    def _master_port(self) -> int:
        found: list[int] = []

        def printed() -> bool:
            match = MASTER_LINE.search(self.master.output)
            found.extend([int(match.group(1))] if match else [])
            return bool(found)

        self.master.wait_for(printed, timeout=60.0)
        return found[0]

    def all(self) -> list[Any]:
        return [self.single, self.processes, self.master, *self.workers]


@pytest.fixture(scope="module", autouse=True)
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs | None]:
    """Started at once (the quick tests run meanwhile) when a selected test of this file needs them."""
    here = Path(__file__).resolve()
    wanted = any(Path(item.path).resolve() == here and "runs" in getattr(item, "fixturenames", ())
                 and item.name.startswith(("test_master", "test_processes")) for item in request.session.items)
    if not wanted:
        yield None
        return
    started = Runs(tmp_path_factory.mktemp("distributed"))
    yield started
    for run in started.all():
        if run.process.poll() is None:
            run.kill()
        run.wait()


def expected_shoppers() -> int:
    """The window's shoppers, from the plan alone (what every run must see, however many processes)."""
    scenario = load_scenario(CLEAN)
    window = (0.0, 12.0)
    return sum(1 for _ in LivePlan(scenario, build_world(scenario), window).arrivals())


def finished(run: Any, out: Path) -> ReplicationStats:
    run.wait()
    assert run.returncode == 0, run.explain()
    result, stats = live.result_of(run, out)
    assert not result.partial
    live.assert_ledger_closed(stats, run)
    live.assert_clean_exit(run)
    assert isinstance(stats, ReplicationStats)
    return stats


def assert_same_shoppers(stats: ReplicationStats, single: ReplicationStats) -> None:
    assert stats.shoppers == single.shoppers == expected_shoppers()
    assert stats.series["arrivals"] == single.series["arrivals"]
    assert sum(stats.outcomes.values()) == stats.shoppers, stats.outcomes  # every one finished
    # the clean profile: every Huabei checkout paid; same attribution (none) as one process
    assert stats.failures_by_cause == single.failures_by_cause
    assert all(n == 0 for n in stats.failures_by_cause.values()), stats.failures_by_cause
    assert stats.outcomes["paid_huabei"] == stats.huabei_checkouts()
    assert stats.ledger["paid"] == stats.ledger["trades"] == stats.outcomes["paid_huabei"], stats.ledger


def assert_parts(stats: ReplicationStats) -> None:
    parts: Any = stats.extra["parts"]
    assert len(parts) == 2
    assert stats.extra["complete_parts"] == 2
    assert {p["tag"] for p in parts} == {"L0", "L1"}
    assert sum(p["terminals"] for p in parts) == stats.extra["terminals"] == 6  # whole stores, all tills
    assert all(isinstance(p["cpu_saturated"], bool) for p in parts)
    assert stats.extra["cpu_saturated"] is any(p["cpu_saturated"] for p in parts)
    assert stats.extra["unfinished_shoppers"] == 0
    assert stats.extra["distributed"] == {"workers": 2, "received": [0, 1], "lost": []}


def assert_gateway_utilisation(stats: ReplicationStats) -> None:
    busy, utilisation = stats.gateway["busy_seconds"], stats.gateway["utilisation"]
    if not math.isnan(busy):  # a stub that reports it: the window's few payments kept it barely busy
        assert busy > 0.0
        assert 0.0 < utilisation < 1.0


# --------------------------------------------------------------------------- bounded failures


def test_worker_that_never_connects(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    started = time.monotonic()
    run = CliRun(["load", str(CLEAN), *ARGS, "--master", "--master-bind-port", "0", "--expect-workers", "1",
                  "--expect-workers-max-wait", "3s", "-o", str(out)], tmp_path / "log", QUICK_TIMEOUT).wait()
    assert run.returncode == 3, run.explain()
    assert re.search(r"error: only 0 of 1 Locust worker\(s\) connected to the master on port \d+ within 3 s",
                     run.output), run.explain()
    assert time.monotonic() - started < QUICK_TIMEOUT
    assert not out.exists()
    live.assert_clean_exit(run)


def test_worker_without_a_master(tmp_path: Path) -> None:
    port = live.free_port()
    run = CliRun(["load", "--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
                  "--master-connect-timeout", "3s"], tmp_path / "log", QUICK_TIMEOUT).wait()
    assert run.returncode == 3, run.explain()
    assert f"error: could not reach the Locust master at 127.0.0.1:{port} within 3 s" in run.output, run.explain()
    live.assert_clean_exit(run)


@pytest.mark.parametrize(("options", "message"), [
    (["--worker", "--master-host", "h", str(CLEAN)], "--worker takes the scenario and the run's shape from the "
                                                     "master: drop FILE"),
    (["--worker"], "--worker needs --master-host"),
    ([str(CLEAN), "--master", "--worker", "--master-host", "h"], "--master and --worker exclude each other"),
    ([str(CLEAN), "--expect-workers", "2"], "--expect-workers only with --master"),
    ([str(CLEAN), "--master", "--processes", "2"], "--processes N runs master and workers on this host"),
])
def test_distributed_option_errors_are_exit_2(tmp_path: Path, options: list[str], message: str) -> None:
    run = CliRun(["load", *options], tmp_path / "log", QUICK_TIMEOUT).wait()
    assert run.returncode == 2, run.explain()
    assert f"error: {message}" in run.output, run.explain()
    assert not run.seen


# --------------------------------------------------------------------------- the long runs


def test_master_with_two_worker_hosts(runs: Runs) -> None:
    """Two worker "hosts" (own Toxiproxy each) and a master: the same shoppers as one process, one result."""
    single = finished(runs.single, runs.out("single"))
    stats = finished(runs.master, runs.out("master"))
    for worker in runs.workers:
        worker.wait()
        assert worker.returncode == 0, worker.explain()
        assert "worker done" in worker.output
        assert {"engine", "toxiproxy"} <= worker.kinds(), worker.seen  # one Toxiproxy per load host
        live.assert_clean_exit(worker)
    assert "toxiproxy" not in runs.master.kinds(), "the master's host runs no terminals"
    assert_same_shoppers(stats, single)
    assert_parts(stats)
    assert_gateway_utilisation(stats)
    loss: Any = stats.extra["packet_loss"]
    assert loss["mechanism"] == "per-worker-host", loss
    parts: Any = stats.extra["parts"]
    assert all(p["packet_loss"]["mechanism"] == "none" and p["faults"]["zones"] for p in parts)


def test_processes_is_master_and_workers_on_one_host(runs: Runs) -> None:
    single = finished(runs.single, runs.out("single"))
    stats = finished(runs.processes, runs.out("processes"))
    assert_same_shoppers(stats, single)
    assert_parts(stats)
    assert_gateway_utilisation(stats)
    assert sum("load.engine" in s.cmdline for s in runs.processes.seen.values()) == 3  # master + 2 workers
