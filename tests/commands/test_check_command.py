"""``scanrush check``: the exit-code table (GO 0, NO-GO 1, bad input 2, environment 3, INCONCLUSIVE 4)
and the one folder of outputs (result.json with the verdict, report, charts, JUnit, CSV)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from junitparser import JUnitXml

from scanrush.cli import run
from scanrush.results import read_result
from scanrush.verdict import Verdict

ROOT = Path(__file__).parents[2]
MINIMAL = ROOT / "tests" / "scenario" / "data" / "minimal.yaml"
CLEAN_LIVE = ROOT / "tests" / "load" / "data" / "live_clean.yaml"
ON_THRESHOLD = ROOT / "scenarios" / "on_threshold.yaml"


def gated(tmp_path: Path, base: Path, *gates: str, name: str = "gated") -> Path:
    """A scenario extending ``base`` with these gates."""
    path = tmp_path / f"{name}.yaml"
    lines = [f"extends: {base}", f"name: {name}", "gates:", *(f"  - {g}" for g in gates)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def check(*args: str | Path) -> int:
    return run(["check", *map(str, args), "--sim-only", "-j", "1", "--format", "junit,csv"])


def test_clear_pass_is_go_with_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = gated(tmp_path, MINIMAL, "huabei_success_rate >= 20%", "double_charges == 0",
                     "checkout_time_p95 <= 2h")
    out = tmp_path / "out"
    assert run(["check", str(scenario), "--sim-only", "-j", "1", "-n", "4", "-o", str(out)]) == 0
    result = read_result(out / "result.json")
    assert result.verdict is not None
    assert result.live is None
    assert Verdict.from_dict(result.verdict).decision == "GO"
    for name in ("report.html", "junit.xml", "series.csv", "replications.csv"):
        assert (out / name).stat().st_size > 0, name
    assert list((out / "charts").glob("*.png"))
    suite = JUnitXml.fromfile(str(out / "junit.xml"))
    assert suite.tests == 3
    assert suite.failures == 0
    assert suite.errors == 0
    assert "GO (exit 0)" in capsys.readouterr().out


def test_clear_failure_is_no_go(tmp_path: Path) -> None:
    scenario = gated(tmp_path, MINIMAL, "checkout_time_p95 <= 1m", "double_charges == 0")
    out = tmp_path / "out"
    assert check(scenario, "-n", "4", "-o", out) == 1
    suite = JUnitXml.fromfile(str(out / "junit.xml"))
    assert suite.failures == 1
    assert Verdict.from_dict(read_result(out / "result.json").verdict or {}).decision == "NO-GO"


def test_a_gate_on_its_threshold_is_inconclusive_within_the_budget(tmp_path: Path) -> None:
    """The scenario built to sit on its threshold: sequential looks up to the budget cannot settle it."""
    out = tmp_path / "out"
    assert check(ON_THRESHOLD, "-o", out, "-n", "6", "--max-replications", "12") == 4
    verdict = Verdict.from_dict(read_result(out / "result.json").verdict or {})
    assert verdict.replications == 12  # it tried every look before giving up
    assert any("sequential" in note for note in verdict.notes)


def test_no_gates_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(MINIMAL, "-o", tmp_path) == 2
    assert "no gates" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--window", "1h..2h", "inside the promotion"),
    ("--format", "pdf", "unknown report format"),
    ("--max-replications", "1", "below the initial"),
    ("--confidence", "1.5", "confidence between"),
])
def test_bad_options_are_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                option: str, value: str, message: str) -> None:
    scenario = gated(tmp_path, MINIMAL, "double_charges == 0")
    assert run(["check", str(scenario), option, value, "-n", "2", "-o", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err


def test_unknown_gate_metric_is_exit_2_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = gated(tmp_path, MINIMAL, "huabei_sucess_rate >= 97%")
    assert check(scenario, "-o", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert f"{scenario}:4" in err
    assert "huabei_success_rate" in err


# --------------------------------------------------------------------------- live evidence


def _cli(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true"}
    return subprocess.run([sys.executable, "-m", "scanrush", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT, check=False)


@pytest.mark.live
def test_check_with_a_live_window_judges_both_bodies_of_evidence(tmp_path: Path) -> None:
    scenario = gated(tmp_path, CLEAN_LIVE, "huabei_success_rate >= 50%", "double_charges == 0", name="clean")
    out = tmp_path / "out"
    started = time.monotonic()
    done = _cli(["check", str(scenario), "-n", "3", "-j", "1", "--drain", "20s", "--window", "0s..20s",
                 "-o", str(out), "--format", "junit"], timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = read_result(out / "result.json")
    assert result.live is not None
    assert result.live.kind == "live"
    assert result.live.replications[0].ledger["double_charges"] == 0
    verdict = Verdict.from_dict(result.verdict or {})
    assert {row.evidence for row in verdict.gates} == {"sim", "live"}
    suite = JUnitXml.fromfile(str(out / "junit.xml"))
    assert suite.tests == 4  # two gates, each on sim and live
    assert time.monotonic() - started < 180


@pytest.mark.live
def test_a_busy_toxiproxy_port_is_exit_3(tmp_path: Path) -> None:
    """Something that is not Toxiproxy holds the port: a clear environment error, nothing half-written."""
    scenario = gated(tmp_path, CLEAN_LIVE, "double_charges == 0", name="clean")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        url = f"http://127.0.0.1:{squatter.getsockname()[1]}"
        done = _cli(["check", str(scenario), "-n", "2", "-j", "1", "--toxiproxy-url", url,
                     "-o", str(tmp_path / "out")], timeout=120)
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "Toxiproxy" in done.stderr
