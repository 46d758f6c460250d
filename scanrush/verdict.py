"""Go/no-go: each gate judged on a one-sided confidence bound; the run's GO / NO-GO / INCONCLUSIVE.

INTERFACE SKELETON — the logic is being written; the names and fields below are the contract
that ``scanrush check``, ``scanrush report``, ``scanrush plan`` and the JUnit/HTML writers use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from scanrush.gates import Gate
from scanrush.results import RunResult


class Decision(StrEnum):
    GO = "GO"
    NO_GO = "NO-GO"
    INCONCLUSIVE = "INCONCLUSIVE"


EXIT_CODES: Mapping[Decision, int] = {Decision.GO: 0, Decision.NO_GO: 1, Decision.INCONCLUSIVE: 4}
"""DESIGN.md's exit-code table for ``scanrush check``."""


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """One gate on one body of evidence (simulated replications, or the live window)."""

    gate: Gate
    evidence: str
    """"sim" or "live": which body of evidence this row judges."""
    decision: Decision
    """GO: holds with the stated confidence; NO_GO: fails with it; INCONCLUSIVE: neither."""
    observed: float
    """Point estimate in the metric's unit (fraction, seconds, count); NaN when undefined."""
    lower: float
    upper: float
    """The two one-sided bounds at ``confidence`` (the one that decides depends on the operator)."""
    confidence: float
    """Per-gate confidence after the Bonferroni correction (and the correction for sequential looks)."""
    n: int
    """Sample size behind the bound: replications for "t", outcomes for "wilson", 1 for "exact"."""
    method: str
    """"t" (Student t over replications), "wilson" (independent outcomes), "exact" (a count, e.g. double charges)."""
    reason: str
    """One sentence a release manager can read: why this decision."""

    @property
    def bound(self) -> float:
        """The bound compared with the threshold: lower for ``>=``/``>``, upper for ``<=``/``<``."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateVerdict:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    gates: tuple[GateVerdict, ...]
    confidence: float
    """The family confidence the user asked for (e.g. 0.95); per-gate levels are in each row."""
    replications: int
    """Simulated replications judged (after any sequential additions)."""
    notes: tuple[str, ...] = ()
    """Why the decision is what it is beyond the rows, e.g. 'the load generator's CPU saturated'."""

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.decision]

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        raise NotImplementedError


def judge(sim: RunResult | None, gates: Sequence[Gate], *, live: RunResult | None = None,
          confidence: float = 0.95, looks: int = 1) -> Verdict:
    """The verdict on ``gates`` from simulated and/or live evidence.

    ``looks`` is the number of sequential looks taken so far (the error budget is split over them).
    """
    raise NotImplementedError
