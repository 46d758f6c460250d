"""Bisection: the smallest GO value, exit statuses, and the evidence; the judge is faked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import capacity_fakes
import pytest

import scanrush.commands.plan
from scanrush.capacity.plan import Interrupted, Probe, bisect, value_grid
from scanrush.cli import run
from scanrush.errors import InputError
from scanrush.verdict import Decision

DATA = Path(__file__).parent / "data"


ProbeFn = Callable[[int | float], Probe]


def _probe_with(decide: dict[int, Decision], default: Decision = Decision.GO) -> tuple[list[int], ProbeFn]:
    probed: list[int] = []

    def probe(value: int | float) -> Probe:
        probed.append(int(value))
        return Probe(value, capacity_fakes.verdict_of(decide.get(int(value), default)), 5)

    return probed, probe


def test_bisection_finds_the_smallest_go_value() -> None:
    values = list(range(1, 33))
    probed, probe = _probe_with(dict.fromkeys(range(1, 19), Decision.NO_GO))
    plan = bisect(values, probe)
    assert (plan.status, plan.answer, plan.exit_code) == ("found", 19, 0)
    assert probed[:2] == [32, 1]
    assert 18 in probed
    assert len(probed) <= 2 + 5  # log2(32) halvings after the two ends


def test_top_of_range_no_go_or_inconclusive() -> None:
    _, probe = _probe_with({}, Decision.NO_GO)
    plan = bisect([1, 2, 3], probe)
    assert (plan.status, plan.answer, plan.exit_code) == ("not-found", None, 1)
    _, probe = _probe_with({3: Decision.INCONCLUSIVE}, Decision.NO_GO)
    assert bisect([1, 2, 3], probe).exit_code == 4


def test_lowest_already_go_and_inconclusive_neighbour_are_noted() -> None:
    _, probe = _probe_with({})
    plan = bisect([4, 5, 6], probe)
    assert plan.answer == 4
    assert "may be lower" in plan.notes[0]
    _, probe = _probe_with({1: Decision.NO_GO, 2: Decision.INCONCLUSIVE})
    plan = bisect([1, 2, 3], probe)
    assert plan.answer == 3
    assert "INCONCLUSIVE" in plan.notes[0]


def test_interrupt_keeps_the_probes() -> None:
    def probe(value: int | float) -> Probe:
        if value == 1:
            raise Interrupted
        return Probe(value, capacity_fakes.verdict_of(Decision.GO), 5)

    plan = bisect([1, 2, 3], probe)
    assert plan.status == "interrupted"
    assert [p.value for p in plan.probes] == [3]


def test_value_grid() -> None:
    assert value_grid("8..20", "4") == [8, 12, 16, 20]
    assert value_grid("8..18", "4") == [8, 12, 16, 18]
    assert value_grid("0.5..1", "0.25") == [0.5, 0.75, 1.0]
    for bad, step in (("9..3", None), ("1..x", None), ("0.5..1", None), ("1..3", "0")):
        with pytest.raises(InputError):
            value_grid(bad, step)


def test_plan_command_with_a_fake_judge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(scanrush.commands.plan, "real_judge", capacity_fakes.fake_judge)
    out = tmp_path / "plan.json"
    code = run(["plan", str(DATA / "capacity.yaml"), "--find", "gateway.workers", "--range", "1..6",
                "-n", "3", "-j", "1", "-o", str(out)])
    evidence = json.loads(out.read_text())
    assert code == 0
    answer = evidence["answer"]
    by_value = {p["value"]: p["decision"] for p in evidence["probes"]}
    assert by_value[answer] == "GO"
    assert by_value[answer - 1] != "GO"
    printed = capsys.readouterr().out
    assert f"gateway.workers={answer} is the smallest" in printed


def test_plan_rejects_a_bad_range_end_before_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanrush.commands.plan, "real_judge", capacity_fakes.fake_judge)
    code = run(["plan", str(DATA / "capacity.yaml"), "--find", "gateway.workers", "--range", "0..4",
                "-o", str(tmp_path / "p.json")])
    assert code == 2
    assert not (tmp_path / "p.json").exists()
