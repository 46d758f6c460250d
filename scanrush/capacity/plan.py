"""``plan``: the smallest value of a monotone parameter that makes every gate GO, by bisection.

Assumes more of the parameter never hurts (gateway workers, terminals, patience).  The top
of the range is probed first: if even HI is not GO there is nothing to bisect.  Then LO; then
the grid between them is halved until a GO value sits right above a value that is not GO.
Values are on the grid LO, LO+S, ..., HI; every probe is a full set of replications judged
with the scenario's gates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from scanrush.errors import InputError
from scanrush.verdict import Decision, Verdict

Status = Literal["found", "not-found", "inconclusive", "interrupted"]
EXIT = {"found": 0, "not-found": 1, "inconclusive": 4, "interrupted": 130}
_RANGE = re.compile(r"^\s*([-+0-9.eE]+)\s*\.\.\s*([-+0-9.eE]+)\s*$")
MAX_VALUES = 100_000


def value_grid(range_text: str, step_text: str | None) -> list[int] | list[float]:
    """``LO..HI`` with ``--step`` (default 1 for whole numbers) -> LO, LO+S, ..., and HI itself."""
    match = _RANGE.match(range_text)
    if not match:
        raise InputError(f"--range {range_text!r}: expected LO..HI, e.g. --range 8..48")
    texts = [match[1], match[2], step_text or "1"]
    if all(re.fullmatch(r"[-+]?\d+", t.strip()) for t in texts):
        low, high, step = (int(t) for t in texts)
        _check(low, high, step, range_text)
        values = list(range(low, high + 1, step))
        return values if values[-1] == high else [*values, high]
    if step_text is None:
        raise InputError(f"--range {range_text!r}: fractional bounds need --step")
    flow, fhigh, fstep = (float(t) for t in texts)
    _check(flow, fhigh, fstep, range_text)
    count = math.floor((fhigh - flow) / fstep + 1e-9)
    floats = [round(flow + i * fstep, 12) for i in range(count + 1)]
    return floats if math.isclose(floats[-1], fhigh) else [*floats, fhigh]


def _check(low: float, high: float, step: float, text: str) -> None:
    if high < low:
        raise InputError(f"--range {text!r}: HI is below LO; write the smaller bound first")
    if step <= 0:
        raise InputError(f"--step must be positive, got {step}")
    if (high - low) / step > MAX_VALUES:
        raise InputError(f"--range {text!r}: more than {MAX_VALUES} values; use a larger --step")


@dataclass(frozen=True)
class Probe:
    value: int | float
    verdict: Verdict
    replications: int

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "decision": self.verdict.decision.value, "replications": self.replications,
                "gates": [{"gate": g.gate.text, "decision": g.decision.value, "observed": g.observed,
                           "lower": g.lower, "upper": g.upper, "method": g.method, "reason": g.reason}
                          for g in self.verdict.gates]}


@dataclass
class Plan:
    status: Status = "not-found"
    answer: int | float | None = None
    probes: list[Probe] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT[self.status]


class Interrupted(Exception):  # noqa: N818 - control flow, not an error
    """A probe was cut short by Ctrl-C; the plan so far is kept."""


def bisect(values: Sequence[int | float], probe: Callable[[int | float], Probe]) -> Plan:
    """The smallest GO value of ``values`` (ascending), assuming GO is monotone in the value."""
    plan = Plan()

    def decide(index: int) -> Decision:
        result = probe(values[index])
        plan.probes.append(result)
        return result.verdict.decision

    try:
        top = decide(len(values) - 1)
        if top is not Decision.GO:
            plan.status = "not-found" if top is Decision.NO_GO else "inconclusive"
            plan.notes.append(f"even {values[-1]} is {top.value}")
            return plan
        low, high = -1, len(values) - 1  # invariant: values[high] is GO; values[low] is not (or below LO)
        if len(values) > 1 and decide(0) is Decision.GO:
            high = 0
        else:
            low = 0
        while high - low > 1:
            middle = (low + high) // 2
            if decide(middle) is Decision.GO:
                high = middle
            else:
                low = middle
    except Interrupted:
        plan.status = "interrupted"
        return plan
    plan.status, plan.answer = "found", values[high]
    _note_boundary(plan, values, low)
    return plan


def _note_boundary(plan: Plan, values: Sequence[int | float], low: int) -> None:
    if low < 0:
        plan.notes.append(f"the lowest value of the range, {values[0]}, is already GO; the answer may be lower")
        return
    below = next(p for p in plan.probes if p.value == values[low])
    if below.verdict.decision is Decision.INCONCLUSIVE:
        plan.notes.append(f"{values[low]} is INCONCLUSIVE, not NO-GO: more replications might show it is enough")
