"""Run orchestration for the simulated path: replications in parallel processes.

Each replication is independent (its own SeedSequence child), so they spread
over a process pool; results come back as :class:`ReplicationStats` and are
ordered by index, so the outcome never depends on scheduling.  An interrupted
run keeps every replication that finished.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from scanrush.results import ReplicationStats
from scanrush.scenario.schema import Scenario


@dataclass
class SimulationRun:
    replications: list[ReplicationStats] = field(default_factory=list)
    interrupted: bool = False


def replicate(scenario: Scenario, index: int, trace_path: str | None = None) -> ReplicationStats:
    """Run replication ``index`` of ``scenario`` (in this process)."""
    from scanrush.domain.world import build_world
    from sim.model import Promotion

    world = build_world(scenario)
    if trace_path is None:
        return Promotion(scenario, world, index).run()
    with open(trace_path, "w", encoding="utf-8") as sink:
        def write(record: dict[str, object]) -> None:
            sink.write(json.dumps(record, separators=(",", ":")) + "\n")
        return Promotion(scenario, world, index, trace=write).run()


def default_processes() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def simulate(
    scenario: Scenario,
    indices: Sequence[int],
    *,
    processes: int | None = None,
    trace_dir: Path | None = None,
    on_done: Callable[[ReplicationStats], None] | None = None,
) -> SimulationRun:
    """Run the given replications; Ctrl-C stops early and keeps what finished."""
    run = SimulationRun()
    workers = min(processes or default_processes(), len(indices)) or 1

    def trace_for(index: int) -> str | None:
        return None if trace_dir is None else str(trace_dir / f"trace-rep{index:04d}.jsonl")

    def finished(stats: ReplicationStats) -> None:
        run.replications.append(stats)
        if on_done is not None:
            on_done(stats)

    try:
        if workers == 1:
            for index in indices:
                finished(replicate(scenario, index, trace_for(index)))
        else:
            _in_pool(scenario, indices, workers, trace_for, finished)
    except KeyboardInterrupt:
        run.interrupted = True
    run.replications.sort(key=lambda r: r.index)
    return run


def _in_pool(scenario: Scenario, indices: Sequence[int], workers: int,
             trace_for: Callable[[int], str | None], finished: Callable[[ReplicationStats], None]) -> None:
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        pending: set[Future[ReplicationStats]] = {
            pool.submit(replicate, scenario, index, trace_for(index)) for index in indices}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    finished(future.result())
        except KeyboardInterrupt:
            for future in pending:
                future.cancel()
            raise
