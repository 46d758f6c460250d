"""Where replications run: a local process pool, or an existing Dask cluster (``dask://HOST:PORT``).

A task is (configuration key, scenario, replication index).  Every configuration is run with
the same replication indices and the scenario's seed, so configurations see the same shoppers
(common random numbers).  Executors only move tasks and results; what a replication computes
is `scanrush.run.replicate`, the same function ``scanrush sim`` uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any, Protocol

import scanrush.run
from scanrush.errors import InfrastructureError, InputError
from scanrush.results import ReplicationStats
from scanrush.scenario.schema import Scenario


@dataclass(frozen=True, slots=True)
class Task:
    key: str
    """Which configuration (grid point, probe, remediation) this replication belongs to."""
    scenario: Scenario
    index: int


@dataclass
class Outcome:
    """Replications by configuration key (sorted by index), and whether Ctrl-C cut the run short."""

    replications: dict[str, list[ReplicationStats]] = field(default_factory=dict)
    interrupted: bool = False


Done = Callable[[Task, ReplicationStats], None]


class Executor(Protocol):
    name: str

    def run(self, tasks: Sequence[Task], on_done: Done) -> Outcome: ...


def _replicate(scenario: Scenario, index: int) -> ReplicationStats:
    # Looked up at call time so tests can stand in for the simulator.
    return scanrush.run.replicate(scenario, index)


def _collect(tasks: Sequence[Task], on_done: Done, run: Callable[[Done], None]) -> Outcome:
    outcome = Outcome({task.key: [] for task in tasks})

    def finished(task: Task, stats: ReplicationStats) -> None:
        outcome.replications[task.key].append(stats)
        on_done(task, stats)

    try:
        run(finished)
    except KeyboardInterrupt:
        outcome.interrupted = True
    for reps in outcome.replications.values():
        reps.sort(key=lambda r: r.index)
    return outcome


@dataclass
class LocalExecutor:
    """A process pool on this machine (``processes=1``: in this process, no pool)."""

    processes: int
    name: str = "local"

    def run(self, tasks: Sequence[Task], on_done: Done) -> Outcome:
        workers = min(self.processes, len(tasks))
        if workers <= 1:
            return _collect(tasks, on_done, lambda done: _serial(tasks, done))
        return _collect(tasks, on_done, lambda done: _pool(tasks, workers, done))


def _serial(tasks: Iterable[Task], done: Done) -> None:
    for task in tasks:
        done(task, _replicate(task.scenario, task.index))


def _pool(tasks: Sequence[Task], workers: int, done: Done) -> None:
    # fork: workers inherit the imported simulator instead of re-importing it per process.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        pending: dict[Future[ReplicationStats], Task] = {
            pool.submit(_replicate, task.scenario, task.index): task for task in tasks}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    done(pending.pop(future), future.result())
        except KeyboardInterrupt:
            for future in pending:
                future.cancel()
            raise


@dataclass
class DaskExecutor:
    """The same tasks on an existing Dask cluster; its workers need scanrush installed."""

    address: str
    connect_timeout: str = "10s"
    name: str = "dask"

    def run(self, tasks: Sequence[Task], on_done: Done) -> Outcome:
        distributed = _import_distributed()
        try:
            client = distributed.Client(self.address, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise InfrastructureError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from exc
        with client:
            return _collect(tasks, on_done, lambda done: _on_cluster(client, distributed, tasks, done))


def _on_cluster(client: Any, distributed: Any, tasks: Sequence[Task], done: Done) -> None:
    # pure=False: identical arguments must still run (and never be served from a cache).
    futures = {client.submit(_replicate, task.scenario, task.index, pure=False): task for task in tasks}
    try:
        for future in distributed.as_completed(list(futures), loop=client.loop):
            done(futures[future], future.result())
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise


def _import_distributed() -> Any:
    try:
        return importlib.import_module("distributed")
    except ModuleNotFoundError as exc:
        raise InfrastructureError(
            "--executor dask://... needs the Python package 'distributed', which is not installed; "
            "install it with: pip install 'scanrush[dask]'") from exc


def make_executor(spec: str | None, processes: int | None) -> Executor:
    """``None``/``local`` -> process pool; ``dask://HOST:PORT`` -> that Dask scheduler (``tcp://``)."""
    if spec is None or spec == "local":
        return LocalExecutor(processes or scanrush.run.default_processes())
    if spec.startswith("dask://"):
        address = spec.removeprefix("dask://")
        if not address or ":" not in address:
            raise InputError(f"--executor {spec!r}: expected dask://HOST:PORT, e.g. dask://10.0.0.5:8786")
        _import_distributed()  # fail (exit 3) before any work is validated or run
        return DaskExecutor(f"tcp://{address}")
    raise InputError(f"--executor {spec!r}: expected 'local' or dask://HOST:PORT")
