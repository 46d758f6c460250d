"""The verdict a report shows: the stored one, else judged from the scenario's gates, else none (with why)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from scanrush.gates import parse_gate
from scanrush.results import RunResult
from scanrush.verdict import Decision, GateVerdict, Verdict, judge

MARKS: Mapping[Decision, str] = {Decision.GO: "✓", Decision.NO_GO: "✗", Decision.INCONCLUSIVE: "?"}
"""k6-style marks per gate: holds, fails, not enough evidence."""


def gate_texts(result: RunResult) -> list[str]:
    """The gate lines of the scenario the result was run from (empty when it has none)."""
    gates = result.metadata.scenario.get("gates")
    return [str(g) for g in gates] if isinstance(gates, (list, tuple)) else []


def load_verdict(result: RunResult, live: RunResult | None = None) -> tuple[Verdict | None, str | None]:
    """(verdict, None), or (None, a note saying why there is no verdict table).

    ``result.verdict`` (written by ``scanrush check``) wins: it is what the release was gated on.
    Otherwise the scenario's gates are judged here on the same evidence ``check`` would use.
    """
    stored = getattr(result, "verdict", None)  # RunResult.verdict is being added concurrently
    try:
        if isinstance(stored, Mapping):
            return Verdict.from_dict(stored), None
        texts = gate_texts(result)
        if not texts:
            return None, "The scenario declares no gates, so there is no go/no-go verdict."
        gates = [parse_gate(text) for text in texts]
        sim = result if result.kind == "sim" else None
        live_run = live if live is not None else (result if result.kind == "live" else None)
        return judge(sim, gates, live=live_run, confidence=result.confidence), None
    # Any failure of the judge must not cost the planner the rest of the report.
    except Exception as exc:
        return None, f"No verdict: the gates could not be judged ({type(exc).__name__}: {exc})."


def unjudged_gates(result: RunResult) -> list[tuple[str, str]]:
    """(name, text) of each scenario gate, for listing gates that have no verdict."""
    out = []
    for text in gate_texts(result):
        try:
            name = parse_gate(text).name
        except ValueError:  # an unparsable gate is still listed, by its text
            name = text.strip()
        out.append((name, text))
    return out


def ordered(rows: Sequence[GateVerdict]) -> list[GateVerdict]:
    """Rows as judged, sim evidence before live (stable within each)."""
    return sorted(rows, key=lambda r: r.evidence != "sim")
