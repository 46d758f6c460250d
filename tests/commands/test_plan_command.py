"""``scanrush plan`` with the real verdict: the answer is GO and one step smaller is not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanrush.cli import run

CAPACITY = Path(__file__).parents[1] / "capacity" / "data" / "capacity.yaml"


def test_plan_finds_the_gateway_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    code = run(["plan", str(CAPACITY), "--find", "gateway.workers", "--range", "1..8", "-j", "1", "-o", str(out)])
    evidence = json.loads(out.read_text())
    assert code == 0
    assert evidence["status"] == "found"
    answer = evidence["answer"]
    decisions = {p["value"]: p["decision"] for p in evidence["probes"]}
    assert decisions[answer] == "GO"
    assert decisions[answer - 1] != "GO"  # one step smaller: bisection probed it, and it is not GO
    assert all(p["gates"] and p["replications"] == 4 for p in evidence["probes"])
    printed = capsys.readouterr().out
    assert f"answer: gateway.workers={answer}" in printed


def test_even_the_top_fails(tmp_path: Path) -> None:
    code = run(["plan", str(CAPACITY), "--find", "gateway.workers", "--range", "1..1", "-j", "1",
                "-o", str(tmp_path / "p.json")])
    assert code == 1
    assert json.loads((tmp_path / "p.json").read_text())["status"] == "not-found"


def test_a_scenario_without_gates_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["plan", str(CAPACITY), "--set", "gates=[]", "--find", "gateway.workers", "--range", "1..4"])
    assert code == 2
    assert "no gates" in capsys.readouterr().err
