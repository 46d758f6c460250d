"""The one result file: every output (summary, HTML, charts, CSV, JUnit, verdict) is derived from it.

Sim and live runs write the same versioned JSON document::

    {"format": "scanrush-result", "version": 1, "kind": "sim" | "live",
     "metadata": {...}, "confidence": 0.95, "partial": false, "interrupted": false,
     "replications": [...], "aggregate": {...}, "comparison": {...} | null,
     "live": {...} | null, "verdict": {...} | null}

``replications`` is the source of truth.  ``aggregate`` is derived from it and
written for the convenience of other tools (jq, spreadsheets); ``read_result``
recomputes it rather than trusting the copy in the file.  ``comparison`` cannot
be recomputed (it needs the base run), so it is read back as written.  ``scanrush
check`` nests the live run's whole result under ``live`` and its verdict under
``verdict``.  Each replication may carry ``zones`` (counts per mall zone) and
``window`` (the same statistics restricted to the live window's shoppers); files
written before these existed read back with them empty.

JSON is compact and deterministic (sorted keys, no spaces).  Non-finite floats
are not valid JSON, yet they are honest answers here (a t-interval over one
replication has infinite bounds; a rate over zero checkouts is undefined), so
they are written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``
(the spellings JavaScript's ``Number()`` and Python's ``float()`` both accept)
and turned back into floats wherever a number is expected.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import metadata as _metadata
from pathlib import Path
from typing import Any, ClassVar, Literal, cast

from scanrush import __version__
from scanrush.domain.outcomes import CAUSES, HUABEI_FAILURES, OUTCOMES, Cause, Outcome
from scanrush.errors import InfrastructureError, InputError
from scanrush.stats.ci import Interval, paired_difference, t_interval
from scanrush.stats.histogram import Histogram

FORMAT = "scanrush-result"
VERSION = 1

Kind = Literal["sim", "live"]
Mechanism = Literal["simulated", "live"]

HISTOGRAMS = ("checkout_time", "queue_wait", "payment_latency")
"""The duration histograms every replication keeps (seconds)."""
LEDGER_KEYS = ("trades", "paid", "closed", "refunded", "double_charges", "waiting_at_end", "one_sided")
GATEWAY_KEYS = ("requests", "busy_seconds", "rejected_busy", "utilisation")
METRIC_PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0}
"""Percentiles of each histogram that become per-replication metrics (``checkout_time_p95``, ...)."""
POOLED_PERCENTILES = {**METRIC_PERCENTILES, "p99_9": 99.9}
"""Percentiles reported for the histograms merged over all replications."""

_HIGHER_IS_BETTER = frozenset({"huabei_success_rate", "outcome_share_paid_huabei", "revenue"})
_NEUTRAL = frozenset({"shoppers", "huabei_checkouts", "fees", "gateway_utilisation", "outcome_share_paid_other"})


def metric_direction(name: str) -> int:
    """+1 if a higher value of metric ``name`` is better, −1 if lower is better, 0 if neither.

    A zone-scoped metric (``huabei_success_rate[zone=fashion]``) goes the way of its base.
    """
    name = name.split("[", 1)[0]
    if name in _HIGHER_IS_BETTER:
        return 1
    if name in _NEUTRAL:
        return 0
    return -1


def _zeros(keys: Iterable[str]) -> dict[str, int]:
    return dict.fromkeys(keys, 0)


def _ratio(num: float, den: float) -> float:
    return num / den if den else math.nan


# --------------------------------------------------------------------------------------------
# One replication
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class ReplicationStats:
    """Everything measured in one replication (or one live run); mutable while collecting.

    Counts are keyed by the string values of ``Outcome`` and ``Cause`` so the
    file reads the same from sim and live and from any later version.
    """

    index: int = 0
    seed: list[int] = field(default_factory=list)
    """SeedSequence entropy followed by the spawn key: enough to rerun this replication alone."""
    shoppers: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: _zeros(o.value for o in OUTCOMES))
    failures_by_cause: dict[str, int] = field(default_factory=lambda: _zeros(c.value for c in CAUSES))
    """Failed Huabei checkouts (the three ``HUABEI_FAILURES`` outcomes) by cause."""
    outcome_by_cause: dict[str, dict[str, int]] = field(default_factory=dict)
    """cause → failure outcome → count."""
    attempt_results: dict[str, int] = field(default_factory=dict)
    """Each pay attempt's result: "10000", "40004:ACQ.PAYMENT_REQUEST_HAS_RISK", "timeout", ..."""
    retries: int = 0
    waited: int = 0
    """Shoppers who had to queue at all."""
    revenue: float = 0.0
    revenue_lost: float = 0.0
    """Baskets of shoppers who left unpaid or abandoned the queue."""
    fees: float = 0.0
    checkout_time: Histogram = field(default_factory=Histogram)
    queue_wait: Histogram = field(default_factory=Histogram)
    payment_latency: Histogram = field(default_factory=Histogram)
    series: dict[str, list[float]] = field(default_factory=dict)
    """Per-minute series: arrivals, paid_huabei, huabei_failed, queue_length, failures_<cause>, ..."""
    ledger: dict[str, int] = field(default_factory=lambda: _zeros(LEDGER_KEYS))
    gateway: dict[str, float] = field(default_factory=lambda: dict.fromkeys(GATEWAY_KEYS, 0.0))
    mechanism: Mechanism = "simulated"
    extra: dict[str, object] = field(default_factory=dict)
    zones: dict[str, dict[str, int]] = field(default_factory=dict)
    """Mall zone → ``ZONE_COUNTS`` of its finished shoppers (empty in files from before zones)."""
    window: ReplicationStats | None = None
    """A simulated replication restricted to the shoppers who arrive in the live window: the
    model's prediction of what a live run of that window measures (no ledger, gateway or
    queue-length figures; ``extra["window"]`` is ``[start, end]``).  None for live runs."""

    # -- collecting --------------------------------------------------------------

    def record_outcome(self, outcome: Outcome, cause: Cause | None = None) -> None:
        """Count one shopper's outcome; a failed Huabei checkout must name its one cause."""
        failed = outcome in HUABEI_FAILURES
        if failed != (cause is not None):
            need = "needs a cause" if failed else "takes no cause"
            raise ValueError(f"outcome {outcome.value!r} {need} (got {cause!r})")
        self.outcomes[outcome.value] = self.outcomes.get(outcome.value, 0) + 1
        if cause is not None:
            self.failures_by_cause[cause.value] = self.failures_by_cause.get(cause.value, 0) + 1
            by_outcome = self.outcome_by_cause.setdefault(cause.value, {})
            by_outcome[outcome.value] = by_outcome.get(outcome.value, 0) + 1

    def record_attempt(self, result: str, n: int = 1) -> None:
        self.attempt_results[result] = self.attempt_results.get(result, 0) + n

    def add_to_series(self, name: str, minute: int, amount: float = 1.0) -> None:
        """Add ``amount`` to minute ``minute`` of series ``name``, growing it with zeros."""
        series = self._series_slot(name, minute)
        series[minute] += amount

    def set_series(self, name: str, minute: int, value: float) -> None:
        """Set a level (queue length, utilisation) for minute ``minute`` of series ``name``."""
        self._series_slot(name, minute)[minute] = value

    def _series_slot(self, name: str, minute: int) -> list[float]:
        if minute < 0:
            raise ValueError(f"series minute must be >= 0, got {minute}")
        series = self.series.setdefault(name, [])
        if len(series) <= minute:
            series.extend([0.0] * (minute + 1 - len(series)))
        return series

    # -- derived metrics ---------------------------------------------------------

    def huabei_checkouts(self) -> int:
        """Checkouts that tried Huabei and ended: paid with it, or one of ``HUABEI_FAILURES``."""
        kinds = (Outcome.PAID_HUABEI, *HUABEI_FAILURES)
        return sum(self.outcomes.get(o.value, 0) for o in kinds)

    def huabei_success_rate(self) -> float:
        return _ratio(self.outcomes.get(Outcome.PAID_HUABEI.value, 0), self.huabei_checkouts())

    def abandonment_rate(self) -> float:
        """Shoppers who gave up in the queue, over all shoppers."""
        return _ratio(self.outcomes.get(Outcome.ABANDONED_QUEUE.value, 0), self.shoppers)

    def cause_rate(self, cause: Cause | str) -> float:
        """Failed Huabei checkouts of ``cause``, over all Huabei checkouts."""
        key = cause.value if isinstance(cause, Cause) else cause
        return _ratio(self.failures_by_cause.get(key, 0), self.huabei_checkouts())

    def checkout_time_p(self, q: float) -> float:
        return self.checkout_time.percentile(q)

    def metrics(self) -> dict[str, float]:
        """Flat named metrics, one number each: what gates, comparisons and the aggregate use.

        Undefined values (a rate over zero checkouts, a percentile of an empty
        histogram) are NaN, never 0.
        """
        o = self.outcomes
        m: dict[str, float] = {
            "shoppers": float(self.shoppers),
            "huabei_checkouts": float(self.huabei_checkouts()),
            "huabei_success_rate": self.huabei_success_rate(),
            "abandonment_rate": self.abandonment_rate(),
            "left_unpaid_rate": _ratio(o.get(Outcome.LEFT_UNPAID.value, 0), self.shoppers),
            "unresolved": float(o.get(Outcome.UNRESOLVED.value, 0)),
            "double_charges": float(self.ledger.get("double_charges", math.nan)),
            "ledger_waiting_at_end": float(self.ledger.get("waiting_at_end", math.nan)),
            "ledger_one_sided": float(self.ledger.get("one_sided", math.nan)),
            "retries": float(self.retries),
            "waited_fraction": _ratio(self.waited, self.shoppers),
            "revenue": self.revenue,
            "revenue_lost": self.revenue_lost,
            "fees": self.fees,
            "gateway_utilisation": float(self.gateway.get("utilisation", math.nan)),
            "gateway_rejected_busy": float(self.gateway.get("rejected_busy", math.nan)),
        }
        for name in HISTOGRAMS:
            histogram: Histogram = getattr(self, name)
            m[f"{name}_mean"] = histogram.mean
            values = histogram.percentiles(list(METRIC_PERCENTILES.values()))
            m.update(zip((f"{name}_{p}" for p in METRIC_PERCENTILES), values, strict=True))
        for cause in CAUSES:
            m[f"failure_rate_{cause.value}"] = self.cause_rate(cause)
        for outcome in OUTCOMES:
            m[f"outcome_share_{outcome.value}"] = _ratio(o.get(outcome.value, 0), self.shoppers)
        for zone, counts in self.zones.items():
            m.update(zone_metrics(zone, counts))
        return m

    # -- serialisation -----------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "seed": list(self.seed),
            "shoppers": self.shoppers,
            "outcomes": dict(self.outcomes),
            "failures_by_cause": dict(self.failures_by_cause),
            "outcome_by_cause": {c: dict(v) for c, v in self.outcome_by_cause.items()},
            "attempt_results": dict(self.attempt_results),
            "retries": self.retries,
            "waited": self.waited,
            "revenue": self.revenue,
            "revenue_lost": self.revenue_lost,
            "fees": self.fees,
            "histograms": {name: getattr(self, name).to_dict() for name in HISTOGRAMS},
            "series": {k: list(v) for k, v in self.series.items()},
            "ledger": dict(self.ledger),
            "gateway": dict(self.gateway),
            "mechanism": self.mechanism,
            "extra": dict(self.extra),
            "zones": {zone: dict(counts) for zone, counts in self.zones.items()},
            "window": None if self.window is None else self.window.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReplicationStats:
        mechanism = data["mechanism"]
        if mechanism not in ("simulated", "live"):
            raise ValueError(f"mechanism must be 'simulated' or 'live', got {mechanism!r}")
        histograms = data["histograms"]
        return cls(
            index=_int(data["index"]),
            seed=[_int(s) for s in data["seed"]],
            shoppers=_int(data["shoppers"]),
            outcomes=_counts(data["outcomes"]),
            failures_by_cause=_counts(data["failures_by_cause"]),
            outcome_by_cause={str(c): _counts(v) for c, v in data["outcome_by_cause"].items()},
            attempt_results=_counts(data["attempt_results"]),
            retries=_int(data["retries"]),
            waited=_int(data["waited"]),
            revenue=_num(data["revenue"]),
            revenue_lost=_num(data["revenue_lost"]),
            fees=_num(data["fees"]),
            checkout_time=Histogram.from_dict(histograms["checkout_time"]),
            queue_wait=Histogram.from_dict(histograms["queue_wait"]),
            payment_latency=Histogram.from_dict(histograms["payment_latency"]),
            series={str(k): [_num(x) for x in v] for k, v in data["series"].items()},
            ledger=_counts(data["ledger"]),
            gateway={str(k): _num(v) for k, v in data["gateway"].items()},
            mechanism=cast(Mechanism, mechanism),
            extra=dict(data["extra"]),
            zones={str(zone): _counts(counts) for zone, counts in data.get("zones", {}).items()},
            window=None if data.get("window") is None else ReplicationStats.from_dict(data["window"]),
        )


ZONE_COUNTS = ("shoppers", "huabei_checkouts", "paid_huabei", "abandoned")
"""What ``ReplicationStats.zones`` counts per mall zone."""


def zone_metrics(zone: str, counts: Mapping[str, int]) -> dict[str, float]:
    """The ``ZONE_METRICS`` of one zone from its counts, keyed ``zone_metric(base, zone)``."""
    from scanrush.gates import ZONE_METRICS, zone_metric  # here, not above: gates imports this module

    shoppers, checkouts = counts.get("shoppers", 0), counts.get("huabei_checkouts", 0)
    values = {
        "shoppers": float(shoppers),
        "huabei_checkouts": float(checkouts),
        "huabei_success_rate": _ratio(counts.get("paid_huabei", 0), checkouts),
        "abandonment_rate": _ratio(counts.get("abandoned", 0), shoppers),
    }
    return {zone_metric(base, zone): values[base] for base in ZONE_METRICS}


# --------------------------------------------------------------------------------------------
# Over replications
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Aggregate:
    """What the replications say together; derived, never edited.

    ``metrics`` holds, for every name in ``ReplicationStats.metrics()``, the
    t-interval of its per-replication values (replications are the independent
    units; shoppers within one are not).  ``histograms`` describes the
    histograms merged over all replications: its percentiles are of the pooled
    distribution, which is not the same as the mean of per-replication
    percentiles in ``metrics``.
    """

    confidence: float
    n: int
    metrics: dict[str, Interval]
    totals: dict[str, float]
    outcome_totals: dict[str, int]
    outcome_shares: dict[str, Interval]
    cause_totals: dict[str, int]
    cause_rates: dict[str, Interval]
    outcome_by_cause: dict[str, dict[str, int]]
    attempt_results: dict[str, int]
    histograms: dict[str, dict[str, float]]
    series: dict[str, list[float]]

    @classmethod
    def of(cls, replications: Sequence[ReplicationStats], confidence: float = 0.95,
           per_rep: Sequence[Mapping[str, float]] | None = None) -> Aggregate:
        """Aggregate ``replications``; ``per_rep`` passes their ``metrics()`` if already computed."""
        if per_rep is None:
            per_rep = [r.metrics() for r in replications]
        names = list(dict.fromkeys(name for m in per_rep for name in m)) if per_rep else \
            list(ReplicationStats().metrics())
        metrics = {name: t_interval([m.get(name, math.nan) for m in per_rep], confidence) for name in names}
        return cls(
            confidence=confidence,
            n=len(replications),
            metrics=metrics,
            totals=_totals(replications),
            outcome_totals=_sum_counts(r.outcomes for r in replications),
            outcome_shares={o.value: metrics[f"outcome_share_{o.value}"] for o in OUTCOMES},
            cause_totals=_sum_counts(r.failures_by_cause for r in replications),
            cause_rates={c.value: metrics[f"failure_rate_{c.value}"] for c in CAUSES},
            outcome_by_cause=_sum_nested(r.outcome_by_cause for r in replications),
            attempt_results=_sum_counts(r.attempt_results for r in replications),
            histograms={name: _pooled(replications, name) for name in HISTOGRAMS},
            series=_mean_series(replications),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "confidence": self.confidence,
            "n": self.n,
            "metrics": {k: interval_to_dict(v) for k, v in self.metrics.items()},
            "totals": dict(self.totals),
            "outcome_totals": dict(self.outcome_totals),
            "outcome_shares": {k: interval_to_dict(v) for k, v in self.outcome_shares.items()},
            "cause_totals": dict(self.cause_totals),
            "cause_rates": {k: interval_to_dict(v) for k, v in self.cause_rates.items()},
            "outcome_by_cause": {k: dict(v) for k, v in self.outcome_by_cause.items()},
            "attempt_results": dict(self.attempt_results),
            "histograms": {k: dict(v) for k, v in self.histograms.items()},
            "series": {k: list(v) for k, v in self.series.items()},
        }


def _totals(replications: Sequence[ReplicationStats]) -> dict[str, float]:
    totals = {
        "shoppers": math.fsum(r.shoppers for r in replications),
        "huabei_checkouts": math.fsum(r.huabei_checkouts() for r in replications),
        "retries": math.fsum(r.retries for r in replications),
        "waited": math.fsum(r.waited for r in replications),
        "revenue": math.fsum(r.revenue for r in replications),
        "revenue_lost": math.fsum(r.revenue_lost for r in replications),
        "fees": math.fsum(r.fees for r in replications),
    }
    for key in LEDGER_KEYS:
        totals[f"ledger_{key}"] = math.fsum(r.ledger.get(key, 0) for r in replications)
    for key in ("requests", "rejected_busy"):
        totals[f"gateway_{key}"] = math.fsum(r.gateway.get(key, 0.0) for r in replications)
    return totals


def _sum_counts(maps: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in maps:
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    return total


def _sum_nested(maps: Iterable[Mapping[str, Mapping[str, int]]]) -> dict[str, dict[str, int]]:
    total: dict[str, dict[str, int]] = {}
    for nested in maps:
        for key, counts in nested.items():
            total[key] = _sum_counts([total.get(key, {}), counts])
    return total


def _pooled(replications: Sequence[ReplicationStats], name: str) -> dict[str, float]:
    merged = Histogram.merged(getattr(r, name) for r in replications)
    n = merged.count
    summary = {
        "count": float(n),
        "zero_fraction": _ratio(merged.zeros, n),
        "mean": merged.mean,
        "min": merged.min,
        "max": merged.max,
    }
    values = merged.percentiles(list(POOLED_PERCENTILES.values()))
    summary.update(zip(POOLED_PERCENTILES, values, strict=True))
    return summary


def _mean_series(replications: Sequence[ReplicationStats]) -> dict[str, list[float]]:
    """Per-minute mean over the replications that reached that minute."""
    names = sorted({name for r in replications for name in r.series})
    means: dict[str, list[float]] = {}
    for name in names:
        runs = [r.series[name] for r in replications if name in r.series]
        length = max(len(run) for run in runs)
        columns = ([run[i] for run in runs if i < len(run)] for i in range(length))
        means[name] = [math.fsum(column) / len(column) for column in columns]
    return means


# --------------------------------------------------------------------------------------------
# Comparison of two runs with common random numbers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Paired differences ``twin − base`` of every metric, replication by replication."""

    base_scenario: str
    base_hash: str
    twin_scenario: str
    seed: int
    confidence: float
    differences: dict[str, Interval]

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_scenario": self.base_scenario,
            "base_hash": self.base_hash,
            "twin_scenario": self.twin_scenario,
            "seed": self.seed,
            "confidence": self.confidence,
            "differences": {k: interval_to_dict(v) for k, v in self.differences.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        return cls(
            base_scenario=str(data["base_scenario"]),
            base_hash=str(data["base_hash"]),
            twin_scenario=str(data["twin_scenario"]),
            seed=_int(data["seed"]),
            confidence=_num(data["confidence"]),
            differences={str(k): interval_from_dict(v) for k, v in data["differences"].items()},
        )


def compare_runs(base: RunResult, twin: RunResult, confidence: float = 0.95) -> Comparison:
    """Paired t-intervals of ``twin − base`` for every metric both runs have.

    Pairing is only valid with common random numbers: both runs must have the
    same replications with the same seeds, else ``InputError``.
    """
    base_seeds = [r.seed for r in base.replications]
    twin_seeds = [r.seed for r in twin.replications]
    if not base_seeds or base_seeds != twin_seeds:
        raise InputError(
            f"cannot pair {twin.metadata.scenario_name!r} with {base.metadata.scenario_name!r}: "
            f"their replications were not run with the same seeds ({len(twin_seeds)} vs {len(base_seeds)} "
            "replications); rerun both with the same seed and replication count"
        )
    base_metrics, twin_metrics = base.replication_metrics, twin.replication_metrics
    names = [name for name in twin_metrics[0] if name in base_metrics[0]]
    differences = {
        name: paired_difference([m[name] for m in base_metrics], [m[name] for m in twin_metrics], confidence)
        for name in names
    }
    return Comparison(
        base_scenario=base.metadata.scenario_name,
        base_hash=base.metadata.scenario_hash,
        twin_scenario=twin.metadata.scenario_name,
        seed=twin.metadata.seed,
        confidence=confidence,
        differences=differences,
    )


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metadata:
    """What was run, from which file, with which seed and software."""

    scenario_name: str
    scenario_path: str
    scenario_hash: str
    """``sha256:<hex>`` of the scenario file's bytes (see ``content_hash``)."""
    scenario: dict[str, Any]
    """The fully resolved scenario (defaults filled in), as plain data."""
    seed: int
    replications: int
    """Replications requested; ``len(RunResult.replications)`` is how many finished."""
    created: str
    """UTC, ISO 8601 (``2026-12-12T09:30:00Z``)."""
    versions: dict[str, str]

    @classmethod
    def create(cls, *, scenario_name: str, scenario_path: str, scenario_hash: str,
               scenario: Mapping[str, Any], seed: int, replications: int,
               extra_versions: Mapping[str, str] | None = None) -> Metadata:
        """Metadata stamped with the current UTC time and ``tool_versions()``."""
        return cls(
            scenario_name=scenario_name,
            scenario_path=scenario_path,
            scenario_hash=scenario_hash,
            scenario=dict(scenario),
            seed=seed,
            replications=replications,
            created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            versions={**tool_versions(), **(extra_versions or {})},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario_name": self.scenario_name,
            "scenario_path": self.scenario_path,
            "scenario_hash": self.scenario_hash,
            "scenario": self.scenario,
            "seed": self.seed,
            "replications": self.replications,
            "created": self.created,
            "versions": dict(self.versions),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Metadata:
        return cls(
            scenario_name=str(data["scenario_name"]),
            scenario_path=str(data["scenario_path"]),
            scenario_hash=str(data["scenario_hash"]),
            scenario=dict(data["scenario"]),
            seed=_int(data["seed"]),
            replications=_int(data["replications"]),
            created=str(data["created"]),
            versions={str(k): str(v) for k, v in data["versions"].items()},
        )


def content_hash(data: bytes | str) -> str:
    """``sha256:<hex>`` of a scenario file's content (str is hashed as UTF-8)."""
    raw = data.encode() if isinstance(data, str) else data
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def tool_versions() -> dict[str, str]:
    """Versions that can change the numbers: scanrush, Python, SimPy, NumPy, and the platform."""
    return {
        "scanrush": __version__,
        "python": platform.python_version(),
        "simpy": _dist_version("simpy"),
        "numpy": _dist_version("numpy"),
        "platform": platform.platform(),
    }


def _dist_version(name: str) -> str:
    # From package metadata, so recording SimPy's version does not import SimPy.
    try:
        return _metadata.version(name)
    except _metadata.PackageNotFoundError:
        return "not installed"


@dataclass
class RunResult:
    """A whole run: metadata, every replication, and what follows from them."""

    format: ClassVar[str] = FORMAT
    version: ClassVar[int] = VERSION

    kind: Kind
    metadata: Metadata
    replications: list[ReplicationStats] = field(default_factory=list)
    comparison: Comparison | None = None
    partial: bool = False
    """Fewer replications finished than were requested."""
    interrupted: bool = False
    """The run was stopped (Ctrl-C) and this is what had finished."""
    confidence: float = 0.95
    live: RunResult | None = None
    """``scanrush check``: the live run of the window, nested in the simulated result."""
    verdict: dict[str, Any] | None = None
    """``scanrush check``: the go/no-go verdict as ``Verdict.to_dict()`` (raw: no import of verdict here)."""

    @cached_property
    def aggregate(self) -> Aggregate:
        """Computed on first use; call ``refresh()`` after changing ``replications``."""
        return Aggregate.of(self.replications, self.confidence, self.replication_metrics)

    @cached_property
    def replication_metrics(self) -> list[dict[str, float]]:
        """``metrics()`` of each replication, in order (cached: percentiles walk every bucket)."""
        return [r.metrics() for r in self.replications]

    def refresh(self) -> None:
        """Forget the cached aggregate and metrics (after changing ``replications``)."""
        self.__dict__.pop("aggregate", None)
        self.__dict__.pop("replication_metrics", None)

    @property
    def mechanism(self) -> str:
        """"simulated", "live", "simulated+live", or "none" when nothing finished."""
        kinds = sorted({r.mechanism for r in self.replications}, reverse=True)
        return "+".join(kinds) or "none"

    def metric_values(self, name: str) -> list[float]:
        """Per-replication values of one metric, in replication order."""
        return [m.get(name, math.nan) for m in self.replication_metrics]

    def merged_histogram(self, name: str) -> Histogram:
        """One of ``HISTOGRAMS`` merged over all replications (for CDF charts)."""
        if name not in HISTOGRAMS:
            raise ValueError(f"no histogram {name!r}; there are {', '.join(HISTOGRAMS)}")
        return Histogram.merged(getattr(r, name) for r in self.replications)

    def window_replications(self) -> list[ReplicationStats]:
        """Each replication's ``window`` (the live window's shoppers), in order; those without one left out."""
        return [r.window for r in self.replications if r.window is not None]

    def window_result(self) -> RunResult:
        """The simulated prediction of the live window as a run of its own (its ``aggregate`` holds the
        t-intervals over replications of every metric, zone and cause)."""
        return RunResult(kind=self.kind, metadata=self.metadata, replications=self.window_replications(),
                         partial=self.partial, interrupted=self.interrupted, confidence=self.confidence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "version": self.version,
            "kind": self.kind,
            "metadata": self.metadata.to_dict(),
            "confidence": self.confidence,
            "partial": self.partial,
            "interrupted": self.interrupted,
            "replications": [r.to_dict() for r in self.replications],
            "aggregate": self.aggregate.to_dict(),
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
            "live": None if self.live is None else self.live.to_dict(),
            "verdict": None if self.verdict is None else dict(self.verdict),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        """Rebuild from ``to_dict()`` output; the stored ``aggregate`` is ignored (recomputed)."""
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError(f"not a version-{VERSION} {FORMAT} document")
        kind = data["kind"]
        if kind not in ("sim", "live"):
            raise ValueError(f"kind must be 'sim' or 'live', got {kind!r}")
        comparison, live, verdict = data.get("comparison"), data.get("live"), data.get("verdict")
        if verdict is not None and not isinstance(verdict, Mapping):
            raise ValueError(f"verdict must be an object, got {verdict!r}")
        return cls(
            kind=cast(Kind, kind),
            metadata=Metadata.from_dict(data["metadata"]),
            replications=[ReplicationStats.from_dict(r) for r in data["replications"]],
            comparison=None if comparison is None else Comparison.from_dict(comparison),
            partial=_bool(data["partial"]),
            interrupted=_bool(data["interrupted"]),
            confidence=_num(data["confidence"]),
            live=None if live is None else RunResult.from_dict(live),
            verdict=None if verdict is None else dict(verdict),
        )


# --------------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------------


def dumps_result(result: RunResult) -> str:
    """The file's exact text: compact, sorted keys, non-finite floats as strings, trailing newline."""
    return json.dumps(_jsonable(result.to_dict()), sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n"


def write_result(path: str | os.PathLike[str], result: RunResult) -> Path:
    """Write ``result`` atomically: readers see the old file or the new one, never half of one.

    The text is built first (a serialisation error leaves nothing behind), then
    written to a temporary file in the same directory, fsynced, and renamed over
    ``path`` with ``os.replace``.
    """
    return write_text_atomic(path, dumps_result(result))


def write_json_atomic(path: str | os.PathLike[str], data: object) -> Path:
    """Any JSON document (non-finite floats as strings), written like the result file."""
    text = json.dumps(_jsonable(data), sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n"
    return write_text_atomic(path, text)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise InfrastructureError(f"{target}: cannot write the result file: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_directory(target.parent)
    return target


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform, hence best effort.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_result(path: str | os.PathLike[str]) -> RunResult:
    """Load a result file; ``InputError`` naming the file if it is not one this version can read."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{source}: no such result file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: cannot read it as a scanrush result file ({exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source}: not a scanrush result file: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    _check_header(source, data)
    try:
        return RunResult.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InputError(f"{source}: damaged scanrush result file: {what}") from exc


def _check_header(source: Path, data: object) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(
            f"{source}: not a scanrush result file (expected a JSON object with \"format\": \"{FORMAT}\"); "
            "results are written by `scanrush sim` and `scanrush load`"
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(f"{source}: scanrush result file with an invalid version {version!r}")
    if version > VERSION:
        raise InputError(
            f"{source}: written by a newer scanrush (result version {version}; scanrush {__version__} "
            f"reads version {VERSION}): upgrade scanrush to read it"
        )
    if version != VERSION:
        raise InputError(f"{source}: result version {version} is no longer supported (this scanrush reads {VERSION})")


# --------------------------------------------------------------------------------------------
# JSON helpers
# --------------------------------------------------------------------------------------------

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _jsonable(obj: object) -> object:
    """Replace non-finite floats by their string spellings, recursively."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, dict):
        return {key: _jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(value) for value in obj]
    return obj


def interval_to_dict(interval: Interval) -> dict[str, Any]:
    return {
        "estimate": interval.estimate,
        "low": interval.low,
        "high": interval.high,
        "half_width": interval.half_width,
        "n": interval.n,
        "confidence": interval.confidence,
        "method": interval.method,
    }


def interval_from_dict(data: Mapping[str, Any]) -> Interval:
    return Interval(
        estimate=_num(data["estimate"]),
        low=_num(data["low"]),
        high=_num(data["high"]),
        half_width=_num(data["half_width"]),
        n=_int(data["n"]),
        confidence=_num(data["confidence"]),
        method=str(data["method"]),
    )


def _num(value: object) -> float:
    if isinstance(value, str) and value in _NONFINITE:
        return _NONFINITE[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


number_from_json = _num
"""A number read back from JSON, with the ``"NaN"``/``"Infinity"`` spellings; ``ValueError`` otherwise."""
integer_from_json = _int
"""An integer read back from JSON (not a bool); ``ValueError`` otherwise."""


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _counts(data: Mapping[str, Any]) -> dict[str, int]:
    return {str(key): _int(value) for key, value in data.items()}


def merge_replications(parts: Sequence[ReplicationStats]) -> ReplicationStats:
    """One run measured in several processes (live load generators) as one: counts add up,
    histograms and per-minute series merge; ``extra`` keeps each part's under ``parts``."""
    if not parts:
        raise ValueError("nothing to merge")
    first = parts[0]
    merged = ReplicationStats(index=first.index, seed=list(first.seed), mechanism=first.mechanism)
    for part in parts:
        merged.shoppers += part.shoppers
        merged.retries += part.retries
        merged.waited += part.waited
        merged.revenue += part.revenue
        merged.revenue_lost += part.revenue_lost
        merged.fees += part.fees
        for target, source in ((merged.outcomes, part.outcomes), (merged.failures_by_cause, part.failures_by_cause),
                               (merged.attempt_results, part.attempt_results), (merged.ledger, part.ledger)):
            for key, count in source.items():
                target[key] = target.get(key, 0) + count
        for cause, by_outcome in part.outcome_by_cause.items():
            into = merged.outcome_by_cause.setdefault(cause, {})
            for outcome, count in by_outcome.items():
                into[outcome] = into.get(outcome, 0) + count
        for key, value in part.gateway.items():
            merged.gateway[key] = merged.gateway.get(key, 0.0) + value
        for zone, counts in part.zones.items():
            merged.zones[zone] = _sum_counts([merged.zones.get(zone, {}), counts])
        for name, values in part.series.items():
            series = merged.series.setdefault(name, [0.0] * len(values))
            series.extend([0.0] * (len(values) - len(series)))
            for minute, value in enumerate(values):
                series[minute] += value
        merged.checkout_time.merge(part.checkout_time)
        merged.queue_wait.merge(part.queue_wait)
        merged.payment_latency.merge(part.payment_latency)
    merged.extra["parts"] = [dict(part.extra) for part in parts]
    windows = [part.window for part in parts if part.window is not None]
    if windows and len(windows) == len(parts):  # a window of only some parts would be a part of one
        merged.window = merge_replications(windows)
    return merged
