"""``scanrush sweep``: the grid validated up front, one JSON with every point's CIs, charts, CRN, exits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import scanrush.run
from scanrush.cli import run
from scanrush.results import ReplicationStats
from scanrush.scenario.schema import Scenario

MINIMAL = Path(__file__).parents[1] / "scenario" / "data" / "minimal.yaml"


def test_two_parameter_sweep_writes_json_and_charts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep.json"
    code = run(["sweep", str(MINIMAL), "--vary", "gateway.workers=1,4", "--vary", "shoppers.huabei_share=40%,90%",
                "-n", "2", "-j", "2", "--set", "gateway.service_time=2s", "-o", str(out)])
    assert code == 0
    document = json.loads(out.read_text())
    assert document["format"] == "scanrush-sweep"
    assert [p["settings"] for p in document["points"]][:2] == [
        {"gateway.workers": "1", "shoppers.huabei_share": "40%"},
        {"gateway.workers": "1", "shoppers.huabei_share": "90%"}]
    for point in document["points"]:
        success = point["metrics"]["huabei_success_rate"]
        assert success["low"] <= success["estimate"] <= success["high"]
        assert point["replications"] == 2
        assert "checkout_time_p95" in point["metrics"]
    # Common random numbers: the same shoppers arrive at every point.
    arrivals = {tuple(p["per_replication"]["huabei_checkouts"]) for p in document["points"]
                if p["settings"]["shoppers.huabei_share"] == "40%"}
    assert len(arrivals) == 1
    charts = sorted(path.name for path in (tmp_path / "sweep").iterdir())
    assert charts == ["checkout_time_p95-by-gateway.workers.png", "checkout_time_p95-by-shoppers.huabei_share.png",
                      "checkout_time_p95-heatmap.png", "huabei_success_rate-by-gateway.workers.png",
                      "huabei_success_rate-by-shoppers.huabei_share.png", "huabei_success_rate-heatmap.png"]
    assert "gateway.workers" in capsys.readouterr().out


def test_a_bad_grid_point_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep.json"
    assert run(["sweep", str(MINIMAL), "--vary", "gateway.workers=2,0", "-o", str(out)]) == 2
    assert "grid point 1 (gateway.workers=0)" in capsys.readouterr().err
    assert not out.exists()
    assert run(["sweep", str(MINIMAL), "--vary", "gateway.wrokers=2", "-o", str(out)]) == 2


def test_missing_dask_exits_3(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # None in sys.modules: the import fails
    assert run(["sweep", str(MINIMAL), "--vary", "gateway.workers=2", "--executor", "dask://127.0.0.1:8786"]) == 3
    assert "pip install 'scanrush[dask]'" in capsys.readouterr().err


def test_dask_executor_runs_the_sweep(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    # Threads in this process behind a real TCP scheduler: what --executor dask://HOST:PORT talks to.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        code = run(["sweep", str(MINIMAL), "--vary", "gateway.workers=2,4", "-n", "2", "--no-charts",
                    "--executor", f"dask://{address}", "-o", str(tmp_path / "s.json")])
    assert code == 0
    assert json.loads((tmp_path / "s.json").read_text())["executor"] == "dask"


def test_interrupt_writes_the_points_that_finished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = scanrush.run.replicate

    def stop_at_third(scenario: Scenario, index: int, trace_path: str | None = None) -> ReplicationStats:
        if scenario.gateway.workers == 4:
            raise KeyboardInterrupt
        return real(scenario, index, trace_path)

    monkeypatch.setattr(scanrush.run, "replicate", stop_at_third)
    out = tmp_path / "sweep.json"
    assert run(["sweep", str(MINIMAL), "--vary", "gateway.workers=2,4", "-n", "2", "-j", "1", "--no-charts",
                "-o", str(out)]) == 130
    document = json.loads(out.read_text())
    assert document["interrupted"]
    assert [p["settings"]["gateway.workers"] for p in document["points"]] == ["2"]
