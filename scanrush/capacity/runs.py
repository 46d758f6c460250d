"""Configurations -> tasks -> one `RunResult` each, with a progress bar over all of them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from scanrush.capacity.executor import Executor, Task
from scanrush.progress import Progress
from scanrush.results import Metadata, ReplicationStats, RunResult, content_hash
from scanrush.scenario.schema import Scenario
from scanrush.stats.ci import Interval

KEY_METRICS = ("huabei_success_rate", "checkout_time_p95", "abandonment_rate", "left_unpaid_rate",
               "checkout_time_p50", "queue_wait_p95", "payment_latency_p95", "double_charges",
               "unresolved", "revenue_lost", "gateway_utilisation")
"""What capacity outputs show first; every other metric is still in the JSON."""


def make_result(scenario: Scenario, path: str, reps: Sequence[ReplicationStats], requested: int,
                interrupted: bool = False) -> RunResult:
    """A `RunResult` exactly as ``scanrush sim`` would write it for these replications."""
    resolved = scenario.model_dump(mode="json", by_alias=True)
    metadata = Metadata.create(
        scenario_name=scenario.name, scenario_path=path,
        scenario_hash=content_hash(json.dumps(resolved, sort_keys=True)),
        scenario=resolved, seed=scenario.seed, replications=requested)
    return RunResult(kind="sim", metadata=metadata, replications=list(reps),
                     partial=len(reps) < requested, interrupted=interrupted)


def run_configurations(configs: Mapping[str, Scenario], path: str, replications: int, executor: Executor,
                       *, label: str) -> tuple[dict[str, RunResult], bool]:
    """Run every configuration with replication indices ``0..replications-1`` (common random numbers)."""
    tasks = [Task(key, scenario, index) for key, scenario in configs.items() for index in range(replications)]
    with Progress(len(tasks), label=label) as progress:
        outcome = executor.run(tasks, lambda _task, _stats: progress.advance())
    results = {key: make_result(scenario, path, outcome.replications.get(key, []), replications,
                                outcome.interrupted)
               for key, scenario in configs.items()}
    return results, outcome.interrupted


def interval_json(interval: Interval) -> dict[str, float | int | str]:
    return {"estimate": interval.estimate, "low": interval.low, "high": interval.high,
            "half_width": interval.half_width, "n": interval.n, "method": interval.method}
