"""Two result files side by side: differences B − A with CIs, noise thresholds, regressions.

Pairing: if both are simulated and share replications (same seed lists: common random
numbers), the difference is a paired t-interval over the shared replications; otherwise it is
Welch's interval for two independent samples.  A *regression* is a metric that is worse in B
at the stated confidence (the interval excludes 0 on the worse side) *and* by more than the
metric's noise threshold: a statistically clear change smaller than the threshold is noise
from the user's point of view, and a large change that is not statistically clear is not
evidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from scipy import stats as _stats

from scanrush.capacity.runs import KEY_METRICS, interval_json
from scanrush.domain.outcomes import CAUSES
from scanrush.errors import InputError
from scanrush.results import RunResult, metric_direction
from scanrush.stats.ci import Interval, paired_difference, t_interval
from scanrush.units import parse_duration

CAUSE_METRICS = tuple(f"failure_rate_{cause.value}" for cause in CAUSES)
CHECKED = (*KEY_METRICS, *CAUSE_METRICS)
"""Metrics that ``--fail-on-regression`` looks at (those with a direction)."""

DEFAULT_RATE_THRESHOLD = 0.005
"""0.5 percentage points: below the half-width of 20 flagship replications, so noise is not news."""
_RELATIVE_DEFAULTS = {"duration": 0.05, "money": 0.01}
"""Durations within 5% and money within 1% of A are treated as noise; counts have no allowance."""

_DURATION_PREFIXES = ("checkout_time_", "queue_wait_", "payment_latency_")
_MONEY = frozenset({"revenue", "revenue_lost", "fees"})

Verdict = Literal["higher", "lower", "regression", "improvement", "noise", "n/a"]


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    relative: bool = False
    """True: a fraction of A's estimate (``5%``); False: in the metric's own unit."""

    def of(self, base: float) -> float:
        return abs(base) * self.value if self.relative else self.value

    def describe(self) -> str:
        return f"{self.value:.3g} of A" if self.relative else f"{self.value:.4g}"


def metric_kind(name: str) -> str:
    """rate, duration, money or count: which default noise threshold applies and how to print it."""
    name = name.split("[", 1)[0]  # 'huabei_success_rate[zone=fashion]' is a rate like its base
    if name.startswith(_DURATION_PREFIXES):
        return "duration"
    if name in _MONEY:
        return "money"
    if name.endswith(("_rate", "_fraction", "_utilisation")) or name.startswith(("failure_rate_", "outcome_share_")):
        return "rate"
    return "count"


def parse_thresholds(texts: Sequence[str]) -> tuple[Threshold, dict[str, Threshold]]:
    """``--threshold 0.5pp`` (rate metrics) and ``--threshold METRIC=VALUE`` (one metric)."""
    rate = Threshold(DEFAULT_RATE_THRESHOLD)
    per_metric: dict[str, Threshold] = {}
    for text in texts:
        metric, sep, value = text.rpartition("=")
        if sep:
            per_metric[metric.strip()] = parse_threshold_value(value, metric_kind(metric.strip()))
        else:
            rate = parse_threshold_value(value, "rate")
    return rate, per_metric


def parse_threshold_value(text: str, kind: str) -> Threshold:
    """``0.5pp`` (percentage points), ``5%`` (of A), ``3s``/``200ms`` (durations), or a plain number."""
    raw = text.strip()
    try:
        if raw.endswith("pp"):
            return Threshold(float(raw[:-2]) / 100.0)
        if raw.endswith("%"):
            return Threshold(float(raw[:-1]) / 100.0, relative=True)
        if re.fullmatch(r"[-+0-9.eE]+", raw):
            return Threshold(float(raw))
        if kind == "duration":
            return Threshold(parse_duration(raw))
    except ValueError:
        pass
    raise InputError(f"--threshold {text!r}: expected 0.5pp (percentage points), 5% (of A), a duration "
                     "such as 3s for time metrics, or a number in the metric's unit")


@dataclass(frozen=True, slots=True)
class MetricRow:
    metric: str
    a: Interval
    b: Interval
    difference: Interval
    """B − A."""
    direction: int
    threshold: float
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "a": interval_json(self.a), "b": interval_json(self.b),
                "difference": interval_json(self.difference), "direction": self.direction,
                "threshold": self.threshold, "verdict": self.verdict}


@dataclass(frozen=True)
class RunComparison:
    a_name: str
    b_name: str
    method: Literal["paired", "welch"]
    paired: int
    confidence: float
    rows: tuple[MetricRow, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def regressions(self) -> list[MetricRow]:
        """Regressions among the key metrics and cause rates (``CHECKED``); the dozens of correlated
        percentiles and per-zone figures are shown, but gating on all of them would mostly gate on chance."""
        return [row for row in self.rows if row.verdict == "regression" and row.metric in CHECKED]

    def row(self, metric: str) -> MetricRow:
        return next(r for r in self.rows if r.metric == metric)

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a_name, "b": self.b_name, "method": self.method, "paired_replications": self.paired,
                "confidence": self.confidence, "warnings": list(self.warnings),
                "regressions": [r.metric for r in self.regressions], "metrics": [r.to_dict() for r in self.rows]}


def welch_difference(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> Interval:
    """Welch's t-interval of mean(b) − mean(a) for independent samples; infinite below two each."""
    na, nb = len(a), len(b)
    if na == 0 or nb == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, na + nb, confidence, "welch")
    ma, mb = math.fsum(a) / na, math.fsum(b) / nb
    if na < 2 or nb < 2:
        return Interval(mb - ma, -math.inf, math.inf, math.inf, na + nb, confidence, "welch")
    va = math.fsum((x - ma) ** 2 for x in a) / (na - 1) / na
    vb = math.fsum((x - mb) ** 2 for x in b) / (nb - 1) / nb
    se = math.sqrt(va + vb)
    if se == 0.0:
        half = 0.0
    else:
        df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
        half = float(_stats.t.ppf((1.0 + confidence) / 2.0, df)) * se
    return Interval(mb - ma, mb - ma - half, mb - ma + half, half, na + nb, confidence, "welch")


def compare(a: RunResult, b: RunResult, *, confidence: float = 0.95, rate_threshold: Threshold | None = None,
            thresholds: Mapping[str, Threshold] | None = None) -> RunComparison:
    """Every metric both runs have, B − A; key metrics and cause rates first."""
    warnings = _warnings(a, b)
    shared = _shared_seeds(a, b)
    method: Literal["paired", "welch"] = "paired" if len(shared) >= 2 else "welch"
    if method == "welch" and a.kind == b.kind == "sim" and a.replications and b.replications:
        warnings.append("the runs share fewer than two replications (different seeds or counts): "
                        "independent samples (Welch), no common-random-numbers pairing")
    elif method == "paired" and len(shared) < max(len(a.replications), len(b.replications)):
        warnings.append(f"paired on the {len(shared)} replications both runs have; the others are left out")
    names = _metric_names(a, b)
    rows = tuple(_row(name, a, b, shared, method, confidence=confidence, threshold=(thresholds or {}).get(name),
                      rate_threshold=rate_threshold or Threshold(DEFAULT_RATE_THRESHOLD))
                 for name in names)
    return RunComparison(a.metadata.scenario_name, b.metadata.scenario_name, method, len(shared) if
                         method == "paired" else 0, confidence, rows, tuple(warnings))


def _warnings(a: RunResult, b: RunResult) -> list[str]:
    notes: list[str] = []
    if a.metadata.scenario_name != b.metadata.scenario_name:
        notes.append(f"different scenarios: A is {a.metadata.scenario_name!r}, B is {b.metadata.scenario_name!r}")
    elif a.metadata.scenario_hash != b.metadata.scenario_hash:
        notes.append("same scenario name, different scenario content (a --set override or an edit)")
    if a.kind != b.kind:
        notes.append(f"A is {a.kind}, B is {b.kind}: compared as independent samples")
    for label, result in (("A", a), ("B", b)):
        if result.partial or result.interrupted:
            notes.append(f"{label} is partial ({len(result.replications)} of {result.metadata.replications} "
                         "replications)")
    return notes


def _shared_seeds(a: RunResult, b: RunResult) -> list[tuple[int, int]]:
    """(index in A, index in B) of replications run with the same seed, if both are simulated."""
    if a.kind != "sim" or b.kind != "sim":
        return []
    in_b = {tuple(r.seed): i for i, r in enumerate(b.replications)}
    return [(i, in_b[tuple(r.seed)]) for i, r in enumerate(a.replications) if r.seed and tuple(r.seed) in in_b]


def _metric_names(a: RunResult, b: RunResult) -> list[str]:
    first_a = a.replication_metrics[0] if a.replications else {}
    first_b = b.replication_metrics[0] if b.replications else {}
    common = [n for n in first_a if n in first_b]
    ordered = [n for n in CHECKED if n in first_b and n in first_a]
    return ordered + [n for n in common if n not in ordered]


def _row(name: str, a: RunResult, b: RunResult, shared: list[tuple[int, int]], method: str, *,
         confidence: float, threshold: Threshold | None, rate_threshold: Threshold) -> MetricRow:
    va, vb = a.metric_values(name), b.metric_values(name)
    if method == "paired":
        difference = paired_difference([va[i] for i, _ in shared], [vb[j] for _, j in shared], confidence)
    else:
        difference = welch_difference(va, vb, confidence)
    ia, ib = t_interval(va, confidence), t_interval(vb, confidence)
    chosen = threshold or _default_threshold(name, rate_threshold)
    allowance = chosen.of(ia.estimate)
    direction = metric_direction(name)
    return MetricRow(name, ia, ib, difference, direction, allowance, _verdict(difference, direction, allowance))


def _default_threshold(name: str, rate_threshold: Threshold) -> Threshold:
    kind = metric_kind(name)
    if kind == "rate":
        return rate_threshold
    if kind in _RELATIVE_DEFAULTS:
        return Threshold(_RELATIVE_DEFAULTS[kind], relative=True)
    return Threshold(0.0)


def _verdict(difference: Interval, direction: int, threshold: float) -> Verdict:
    if not difference.finite or math.isnan(threshold):
        return "n/a"
    if not difference.excludes_zero():
        return "noise"
    if direction == 0:
        return "higher" if difference.estimate > 0 else "lower"  # neutral metrics: no better or worse
    gain = direction * difference.estimate
    if abs(gain) <= threshold:
        return "noise"
    return "improvement" if gain > 0 else "regression"
