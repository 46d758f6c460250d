"""The scenario's gates judged on a run, through `scanrush.verdict.judge` (injectable for tests)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from scanrush.errors import InputError
from scanrush.gates import Gate
from scanrush.results import RunResult
from scanrush.scenario.schema import Scenario
from scanrush.verdict import Verdict

Judge = Callable[[RunResult, Sequence[Gate], float], Verdict]


def real_judge(result: RunResult, gates: Sequence[Gate], confidence: float) -> Verdict:
    from scanrush.verdict import judge

    return judge(result, gates, confidence=confidence)


def scenario_gates(scenario: Scenario, path: str) -> list[Gate]:
    """The scenario's gates, parsed; a gate the catalogue does not know is bad input (exit 2)."""
    from scanrush.gates import parse_gate

    gates: list[Gate] = []
    for text in scenario.gates:
        try:
            gates.append(parse_gate(text))
        except ValueError as exc:
            raise InputError(f"{path}: gate {text!r}: {exc}") from exc
    return gates
