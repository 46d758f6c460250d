"""Fakes for the capacity tests: a verdict built from real results, without the gates module."""

from __future__ import annotations

from collections.abc import Sequence

from scanrush.gates import Gate
from scanrush.results import RunResult
from scanrush.stats.ci import one_sided_bounds
from scanrush.verdict import Decision, GateVerdict, Verdict

SUCCESS_GATE = Gate("huabei_success_rate >= 97%", "huabei_success_rate", ">=", 0.97)


def fake_judge(result: RunResult, gates: Sequence[Gate], confidence: float) -> Verdict:
    """GO / NO-GO / INCONCLUSIVE on the success rate's one-sided bounds, like the real rule (§5.4)."""
    bounds = one_sided_bounds(result.metric_values("huabei_success_rate"), confidence)
    if bounds.low >= SUCCESS_GATE.threshold:
        decision = Decision.GO
    elif bounds.high < SUCCESS_GATE.threshold:
        decision = Decision.NO_GO
    else:
        decision = Decision.INCONCLUSIVE
    row = GateVerdict(SUCCESS_GATE, "sim", decision, bounds.estimate, bounds.low, bounds.high, confidence,
                      bounds.n, "t", "fake")
    return Verdict(decision, (row,), confidence, len(result.replications))


def verdict_of(decision: Decision, observed: float = 0.9) -> Verdict:
    row = GateVerdict(SUCCESS_GATE, "sim", decision, observed, observed - 0.01, observed + 0.01, 0.95, 5, "t", "fake")
    return Verdict(decision, (row,), 0.95, 5)
