"""Everything a report shows, derived once from the one result file: series, faults, verdict, drift.

The chart, HTML, JUnit and CSV writers all read a ``ReportContext``, so they cannot disagree about
a number (load-testing.md §3.4 item 5).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reports.faults import FaultWindow, fault_windows
from reports.verdicts import load_verdict
from scanrush.domain.outcomes import CAUSES
from scanrush.results import ReplicationStats, RunResult
from scanrush.stats.ci import Interval, t_interval, wilson
from scanrush.verdict import Verdict

RATE_SERIES = ("huabei_success_rate", "gateway_utilisation")
"""Series derived per minute from the stored counts (a ratio of means, not a mean of ratios)."""


@dataclass(frozen=True)
class MinuteSeries:
    """Per-minute series on the promotion's clock: minute ``i`` covers ``start + 60·i`` seconds on."""

    start: float
    """Scenario seconds of the first minute (0 for a simulation, the window start for a live run)."""
    columns: dict[str, list[float]]

    @property
    def minutes(self) -> int:
        return max((len(v) for v in self.columns.values()), default=0)

    def times(self) -> list[float]:
        """Scenario minutes at the middle of each minute (where a chart puts its points)."""
        return [(self.start + 60.0 * i + 30.0) / 60.0 for i in range(self.minutes)]


@dataclass(frozen=True)
class DriftRow:
    """One line of the sim-vs-live panel: the model's prediction for the live window beside the measurement."""

    metric: str
    """'huabei_success_rate' or 'failure_rate_<cause>'."""
    label: str
    sim: Interval
    live: Interval

    @property
    def drift(self) -> bool | None:
        """True when the two intervals do not overlap (model drift); None when either is unusable."""
        if not (self.sim.finite and self.live.finite):
            return None
        return self.sim.high < self.live.low or self.live.high < self.sim.low


@dataclass(frozen=True)
class ReportContext:
    result: RunResult
    live: RunResult | None
    """The live part: nested in a ``check`` result (``result.live``), or the result itself for a live run."""
    verdict: Verdict | None
    verdict_note: str | None
    faults: list[FaultWindow]
    sim_series: MinuteSeries
    """Mean over replications of the main result (a live run's own series when it is live)."""
    replication_series: list[MinuteSeries]
    live_series: MinuteSeries | None
    """The nested live part's series; None for a plain sim or a live-only result."""
    drift: list[DriftRow] = field(default_factory=list)
    window: tuple[float, float] | None = None
    """The live window (scenario seconds), when there is a live part."""

    @property
    def scenario(self) -> Mapping[str, Any]:
        return self.result.metadata.scenario


def build_context(result: RunResult, *, verdict: Verdict | None = None) -> ReportContext:
    """Derive the report's data; ``verdict`` overrides the stored/judged one (for callers that have it)."""
    nested = getattr(result, "live", None)  # RunResult.live is being added concurrently
    nested = nested if isinstance(nested, RunResult) else None
    live = nested if nested is not None else (result if result.kind == "live" else None)
    note: str | None = None
    if verdict is None:
        verdict, note = load_verdict(result, nested)
    window = live_window(live, result.metadata.scenario) if live is not None else None
    workers = _workers(result.metadata.scenario)
    start = window[0] if result.kind == "live" and window else 0.0
    return ReportContext(
        result=result,
        live=live,
        verdict=verdict,
        verdict_note=note,
        faults=fault_windows(result.metadata.scenario),
        sim_series=minute_series(result.aggregate.series, start, workers),
        replication_series=[minute_series(r.series, start, workers) for r in result.replications],
        live_series=_live_series(nested, window, workers),
        drift=sim_vs_live(result, nested, window) if nested is not None and window else [],
        window=window,
    )


def _live_series(live: RunResult | None, window: tuple[float, float] | None,
                 workers: float) -> MinuteSeries | None:
    if live is None or not live.replications:
        return None
    return minute_series(live.aggregate.series, window[0] if window else 0.0, workers)


def _workers(scenario: Mapping[str, Any]) -> float:
    gateway = scenario.get("gateway")
    workers = gateway.get("workers") if isinstance(gateway, Mapping) else None
    return float(workers) if isinstance(workers, (int, float)) and workers > 0 else math.nan


def live_window(live: RunResult, scenario: Mapping[str, Any]) -> tuple[float, float] | None:
    """The scenario-time window the live run covered: as the engine recorded it, else the scenario's."""
    for rep in live.replications:
        found = _pair(rep.extra.get("window"))
        if found:
            return found
    live_section = scenario.get("live")
    return _pair(live_section.get("window")) if isinstance(live_section, Mapping) else None


def _pair(value: object) -> tuple[float, float] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return float(value[0]), float(value[1])
    return None


def minute_series(series: Mapping[str, Sequence[float]], start: float, workers: float) -> MinuteSeries:
    """The stored series plus the derived per-minute success rate and gateway utilisation."""
    columns = {name: list(values) for name, values in sorted(series.items())}
    paid, checkouts = columns.get("paid_huabei", []), columns.get("huabei_checkouts", [])
    columns["huabei_success_rate"] = [p / c if c else math.nan for p, c in zip(paid, checkouts, strict=False)]
    busy = columns.get("gateway_busy", [])
    # gateway_busy is busy worker-seconds per minute; utilisation divides by the minute's capacity.
    columns["gateway_utilisation"] = [b / (60.0 * workers) for b in busy]
    return MinuteSeries(start=start, columns=columns)


# --------------------------------------------------------------------------------------------
# Sim vs live
# --------------------------------------------------------------------------------------------


def sim_vs_live(sim: RunResult, live: RunResult, window: tuple[float, float]) -> list[DriftRow]:
    """Per cause (and overall success): the simulated rate over the live window vs the live one.

    The simulated side is a t-interval over replications (the unit of evidence); the live side
    is one run, so a Wilson interval over its Huabei checkouts.
    """
    if not sim.replications or not live.replications:
        return []
    per_rep = [_window_counts(rep, window) for rep in sim.replications]
    live_counts = _totals([_counts(rep) for rep in live.replications])
    confidence = sim.confidence
    specs = [("huabei_success_rate", "Huabei success rate", "paid_huabei"),
             *((f"failure_rate_{c.value}", f"failed: {c.value}", f"failures_{c.value}") for c in CAUSES)]
    return [_row(metric, label, key, per_rep, live_counts, confidence=confidence) for metric, label, key in specs]


def _row(metric: str, label: str, key: str, per_rep: list[dict[str, float]], live: dict[str, float], *,
         confidence: float) -> DriftRow:
    rates = [c[key] / c["huabei_checkouts"] if c["huabei_checkouts"] else math.nan for c in per_rep]
    n = int(live["huabei_checkouts"])
    return DriftRow(metric, label, t_interval(rates, confidence),
                    wilson(min(int(live[key]), n), n, confidence))


def _counts(stats: ReplicationStats) -> dict[str, float]:
    counts = {f"failures_{c}": float(n) for c, n in stats.failures_by_cause.items()}
    counts["paid_huabei"] = float(stats.outcomes.get("paid_huabei", 0))
    counts["huabei_checkouts"] = float(stats.huabei_checkouts())
    for cause in CAUSES:
        counts.setdefault(f"failures_{cause.value}", 0.0)
    return counts


def _window_counts(rep: ReplicationStats, window: tuple[float, float]) -> dict[str, float]:
    """One replication's counts for the live window's shoppers.

    ``ReplicationStats.window`` (the sim restricted to the live window's shoppers) when the result
    has it; else the per-minute series over the window's minutes (checkouts ending in the window).
    """
    restricted = getattr(rep, "window", None)
    if isinstance(restricted, ReplicationStats):
        return _counts(restricted)
    first, last = int(window[0] // 60), max(math.ceil(window[1] / 60), int(window[0] // 60) + 1)
    keys = ["paid_huabei", "huabei_checkouts", *(f"failures_{c.value}" for c in CAUSES)]
    return {key: math.fsum(rep.series.get(key, [])[first:last]) for key in keys}


def _totals(counts: list[dict[str, float]]) -> dict[str, float]:
    keys = {key for c in counts for key in c}
    return {key: math.fsum(c.get(key, 0.0) for c in counts) for key in keys}
