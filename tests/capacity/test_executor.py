"""Executors: the local pool and a Dask cluster give the same replications (common random numbers)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scanrush.capacity.executor import DaskExecutor, LocalExecutor, Task, make_executor
from scanrush.errors import InfrastructureError, InputError
from scanrush.scenario.loader import load_scenario

MINIMAL = Path(__file__).parents[1] / "scenario" / "data" / "minimal.yaml"


def _tasks() -> list[Task]:
    scenario = load_scenario(MINIMAL)
    return [Task(key, scenario, index) for key in ("a", "b") for index in (0, 1)]


def test_local_pool_and_serial_agree() -> None:
    seen: list[str] = []
    serial = LocalExecutor(1).run(_tasks(), lambda task, _stats: seen.append(task.key))
    pooled = LocalExecutor(2).run(_tasks(), lambda _task, _stats: None)
    assert sorted(seen) == ["a", "a", "b", "b"]
    for key in ("a", "b"):
        assert [r.to_dict() for r in serial.replications[key]] == [r.to_dict() for r in pooled.replications[key]]
    # The same scenario under two keys saw the same shoppers: common random numbers.
    assert serial.replications["a"][1].to_dict() == serial.replications["b"][1].to_dict()


def test_executor_specs() -> None:
    assert make_executor(None, 3) == LocalExecutor(3)
    with pytest.raises(InputError):
        make_executor("dask://nohost", None)
    with pytest.raises(InputError):
        make_executor("ray://x:1", None)


def test_dask_missing_is_an_environment_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # None in sys.modules: the import fails
    with pytest.raises(InfrastructureError, match=r"scanrush\[dask\]"):
        make_executor("dask://127.0.0.1:8786", None)


def test_dask_cluster_runs_the_same_tasks() -> None:
    distributed = pytest.importorskip("distributed")
    tasks = _tasks()
    local = LocalExecutor(1).run(tasks, lambda _task, _stats: None)
    # Threads in this process: light, and the workers see the installed scanrush.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        remote = DaskExecutor(address).run(tasks, lambda _task, _stats: None)
    for key in ("a", "b"):
        assert [r.to_dict() for r in remote.replications[key]] == [r.to_dict() for r in local.replications[key]]


def test_unreachable_dask_scheduler_is_an_environment_error() -> None:
    pytest.importorskip("distributed")
    with pytest.raises(InfrastructureError, match="cannot reach"):
        DaskExecutor("tcp://127.0.0.1:9", connect_timeout="1s").run(_tasks(), lambda _task, _stats: None)
