"""``scanrush sim``: result file, summary, paired comparison, interruption."""

from __future__ import annotations

from pathlib import Path

import pytest

import scanrush.run
from scanrush.cli import run
from scanrush.results import ReplicationStats, read_result
from scanrush.scenario.schema import Scenario

MINIMAL = Path(__file__).parents[1] / "scenario" / "data" / "minimal.yaml"


def test_sim_writes_the_result_and_prints_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    assert run(["sim", str(MINIMAL), "-n", "2", "-j", "1", "-o", str(out)]) == 0
    result = read_result(out)
    assert [r.index for r in result.replications] == [0, 1]
    assert result.metadata.seed == 1
    assert not result.partial
    printed = capsys.readouterr().out
    assert "Huabei success rate" in printed
    assert str(out) in printed


def test_against_reports_paired_differences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    twin = tmp_path / "twin.yaml"
    twin.write_text(f"extends: {MINIMAL}\nname: minimal-more-tills\n"
                    "mall: {zones: [{name: supermarket, terminals_per_store: 8}]}\n")
    out = tmp_path / "base.json"
    code = run(["sim", str(MINIMAL), "--against", str(twin), "-n", "3", "-j", "1", "-o", str(out)])
    assert code == 0
    assert "Paired differences" in capsys.readouterr().out


def test_interrupted_run_writes_what_finished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = scanrush.run.replicate

    def stop_at_second(scenario: Scenario, index: int, trace_path: str | None = None) -> ReplicationStats:
        if index == 1:
            raise KeyboardInterrupt
        return real(scenario, index, trace_path)

    monkeypatch.setattr(scanrush.run, "replicate", stop_at_second)
    out = tmp_path / "partial.json"
    assert run(["sim", str(MINIMAL), "-n", "3", "-j", "1", "-o", str(out)]) == 130
    result = read_result(out)
    assert result.interrupted
    assert result.partial
    assert [r.index for r in result.replications] == [0]


def test_trace_writes_one_line_per_shopper(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert run(["sim", str(MINIMAL), "-n", "1", "-j", "1", "-o", str(out), "--trace", str(tmp_path / "t")]) == 0
    lines = (tmp_path / "t" / "trace-rep0000.jsonl").read_text().splitlines()
    assert len(lines) == read_result(out).replications[0].shoppers


def test_bad_scenario_exits_2_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.read_text().replace("rtt: 20ms", "rtt: 20 parsecs"))
    assert run(["sim", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "networks.wired.rtt" in err
    assert "Traceback" not in err
