"""``scanrush report RESULT [--out DIR] [--format ...]`` end to end, through the CLI's error paths."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from scanrush.cli import run
from scanrush.results import RunResult, read_result, write_result


@pytest.fixture
def result_file(tmp_path: Path, checked: RunResult) -> Path:
    # The file format gains `live`/`verdict` concurrently; what write_result keeps is what report reads.
    return write_result(tmp_path / "promo.json", checked)


def test_writes_every_format_into_the_out_dir(tmp_path: Path, result_file: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run(["report", str(result_file), "--out", str(out)]) == 0
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert {"charts/checkout_time_cdf.png", "charts/gateway_utilisation.png", "charts/money.png",
            "charts/pareto.png", "charts/payment_latency_cdf.png", "charts/timeline.png",
            "junit.xml", "replications.csv", "report.html", "series.csv"} <= set(names)
    if getattr(read_result(result_file), "live", None) is not None:  # the file keeps the live part
        assert "charts/sim_vs_live.png" in names
        assert "model drift" in (out / "report.html").read_text(encoding="utf-8")
    assert not list(out.rglob(".*.tmp"))  # atomic writes leave no temporaries
    assert next(csv.reader((out / "series.csv").read_text().splitlines()))[:2] == ["minute", "start_seconds"]
    printed = capsys.readouterr().out
    assert "Huabei success rate" in printed
    assert "report.html" in printed


def test_default_out_dir_is_next_to_the_result_and_formats_select(result_file: Path) -> None:
    assert run(["report", str(result_file), "--format", "junit,csv"]) == 0
    out = result_file.with_name("promo-report")
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "replications.csv", "series.csv"]


def test_gate_lines_are_printed_with_marks(tmp_path: Path, result_file: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert run(["report", str(result_file), "--out", str(tmp_path / "o"), "--format", "junit"]) == 0
    printed = capsys.readouterr().out
    assert "\x1b[" not in printed
    assert "decision:" in printed


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such result file"),
    ("{not json", "not JSON"),
    ('{"format": "other"}', "not a scanrush result file"),
])
def test_bad_result_file_exits_2_with_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      content: str | None, message: str) -> None:
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    assert run(["report", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert str(path) in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_unknown_format_exits_2(result_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["report", str(result_file), "--format", "html,pdf"]) == 2
    assert "unknown report format pdf" in capsys.readouterr().err
