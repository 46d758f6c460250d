"""``scanrush compare``: side by side, paired with common random numbers, exit 1 on a regression."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanrush.cli import run

MINIMAL = Path(__file__).parents[1] / "scenario" / "data" / "minimal.yaml"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Minimal, and the same with a starved gateway (worse), 3 replications each with the same seed."""
    folder = tmp_path_factory.mktemp("compare")
    paths = {"a": folder / "a.json", "b": folder / "b.json", "other": folder / "other.json"}
    common = ["-n", "3", "-j", "1", "--set", "shoppers.huabei_share=90%"]
    assert run(["sim", str(MINIMAL), *common, "-o", str(paths["a"])]) == 0
    slow = ["--set", "gateway.workers=1", "--set", "gateway.service_time=2s", "--set", "gateway.queue_timeout=1s"]
    assert run(["sim", str(MINIMAL), *common, *slow, "-o", str(paths["b"])]) == 0
    assert run(["sim", str(MINIMAL), *common, "--seed", "99", "-o", str(paths["other"])]) == 0
    return paths


def test_regression_fails_only_when_asked(runs: dict[str, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run(["compare", str(runs["a"]), str(runs["b"])]) == 0
    out = capsys.readouterr().out
    assert "paired t-intervals over 3 replications" in out
    assert "huabei_success_rate" in out
    assert "failure_rate_capacity" in out
    written = tmp_path / "cmp.json"
    assert run(["compare", str(runs["a"]), str(runs["b"]), "--fail-on-regression", "-o", str(written)]) == 1
    document = json.loads(written.read_text())
    assert "huabei_success_rate" in document["regressions"]
    assert document["method"] == "paired"


def test_improvement_is_not_a_regression(runs: dict[str, Path]) -> None:
    assert run(["compare", str(runs["b"]), str(runs["a"]), "--fail-on-regression"]) == 0


def test_a_huge_threshold_silences_it(runs: dict[str, Path]) -> None:
    times = [f"--threshold={m}=1h" for m in ("checkout_time_p95", "checkout_time_p50", "queue_wait_p95",
                                             "payment_latency_p95")]
    code = run(["compare", str(runs["a"]), str(runs["b"]), "--fail-on-regression", "--threshold", "100pp", *times,
                "--threshold", "revenue_lost=1000%"])
    assert code == 0


def test_different_seeds_are_compared_by_welch_with_a_warning(runs: dict[str, Path],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert run(["compare", str(runs["a"]), str(runs["other"])]) == 0
    captured = capsys.readouterr()
    assert "Welch" in captured.out
    assert "warning:" in captured.err


def test_not_a_result_file_is_bad_input(tmp_path: Path) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text("{}")
    assert run(["compare", str(bogus), str(bogus)]) == 2
    assert run(["compare", str(bogus), str(bogus), "--threshold", "x=lots"]) == 2
