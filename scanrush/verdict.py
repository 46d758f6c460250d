"""Go/no-go: each gate judged on a one-sided confidence bound; the run's GO / NO-GO / INCONCLUSIVE.

The statistics (simulation.md §5), in short:

* **Simulated evidence**: one value of the gate's metric per replication (replications are
  the independent units; shoppers within one share queues and outages), and one-sided
  Student-t bounds on their mean.  A gate ``m >= τ`` is GO when the lower bound is ``≥ τ``,
  NO-GO when the upper bound is ``< τ`` (``>`` and ``<`` move the equality to the other
  side), else INCONCLUSIVE.  Replications where the metric is undefined (NaN: a rate over
  zero checkouts) are left out, and the row says so.  Zero spread gives zero-width bounds.
* **Invariants** (``==`` gates, and counts that must be 0 such as ``double_charges == 0``) are
  exact: any replication or live window that violates one is NO-GO, none is GO.  They take
  no statistical error, so they take no share of the error budget.
* **Live evidence** (one window over real sockets) is judged on its own sample: Wilson bounds
  over the window's checkouts for rates (this treats the window's checkouts as independent,
  which shared queues and outages make optimistic; the row says so), distribution-free
  order-statistic bounds from the exact histogram for percentiles, the exact rule for
  invariants; anything else cannot be decided from one window.  A window whose load
  generator's CPU saturated decides nothing (its timings and timeouts are the generator's).
* **Combining**: every (gate, evidence) pair is one row; the overall decision is NO-GO if any
  row is NO-GO, GO if every row is GO, else INCONCLUSIVE (so a gate judged on sim and live
  must hold on both).  The family error ``α = 1 − confidence`` is split by Bonferroni over
  the statistical rows, and a simulated row's share again over the planned sequential looks,
  so ``P(any wrong GO or NO-GO) ≤ α`` however early the sequence stops.  Live rows do not
  change between looks (their data do not grow), so they are not split over looks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Generic, Literal, Protocol, TypeVar

from scanrush.gates import OPERATORS, Gate, Operator, format_threshold, metric_kind, split_metric, zone_metric
from scanrush.results import HISTOGRAMS, METRIC_PERCENTILES, ReplicationStats, RunResult, merge_replications
from scanrush.results import integer_from_json as _int
from scanrush.results import number_from_json as _num
from scanrush.stats.ci import one_sided_bounds, quantile_ranks, wilson
from scanrush.stats.histogram import GROWTH, Histogram


class Decision(StrEnum):
    GO = "GO"
    NO_GO = "NO-GO"
    INCONCLUSIVE = "INCONCLUSIVE"


EXIT_CODES: Mapping[Decision, int] = {Decision.GO: 0, Decision.NO_GO: 1, Decision.INCONCLUSIVE: 4}
"""DESIGN.md's exit-code table for ``scanrush check``."""

Evidence = Literal["sim", "live"]
METHODS = ("t", "wilson", "order", "exact", "none")
"""How a row was judged: Student t over replications, Wilson over independent outcomes,
order statistics of a histogram (live percentiles), the exact rule (invariants), or not at all."""


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
    """The two one-sided bounds at ``confidence`` (the one that decides depends on the operator).
    For the exact rule: the smallest and largest value observed."""
    confidence: float
    """Per-gate confidence after the Bonferroni correction (and the correction for sequential looks);
    1.0 for the exact rule, which makes no statistical error."""
    n: int
    """Sample size behind the bound: replications for "t" and "exact" (1 for a live window), outcomes for
    "wilson", samples of the histogram for "order"."""
    method: str
    """"t", "wilson", "order", "exact" or "none" (see ``METHODS``)."""
    reason: str
    """One sentence a release manager can read: why this decision."""
    excluded: int = 0
    """Replications left out because the metric was undefined (NaN) in them."""

    @property
    def bound(self) -> float:
        """The bound compared with the threshold: lower for ``>=``/``>``, upper for ``<=``/``<``."""
        if self.gate.op == "==":
            return self.upper if abs(self.upper - self.gate.threshold) >= abs(self.lower - self.gate.threshold) \
                else self.lower
        return self.lower if self.gate.higher_is_better else self.upper

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({
            "gate": self.gate.text, "name": self.gate.name, "metric": self.gate.metric, "op": self.gate.op,
            "threshold": self.gate.threshold, "evidence": self.evidence, "decision": self.decision.value,
            "observed": self.observed, "lower": self.lower, "upper": self.upper, "bound": self.bound,
            "confidence": self.confidence, "n": self.n, "method": self.method, "reason": self.reason,
            "excluded": self.excluded,
        })

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateVerdict:
        gate = Gate(text=str(data["gate"]), metric=str(data["metric"]), op=_op(data["op"]),
                    threshold=_num(data["threshold"]))
        return cls(gate=gate, evidence=str(data["evidence"]), decision=Decision(data["decision"]),
                   observed=_num(data["observed"]), lower=_num(data["lower"]), upper=_num(data["upper"]),
                   confidence=_num(data["confidence"]), n=_int(data["n"]), method=str(data["method"]),
                   reason=str(data["reason"]), excluded=_int(data.get("excluded", 0)))


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
    looks: int = 1
    """Sequential looks the error budget was split over (planned, not necessarily taken)."""

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.decision]

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({
            "decision": self.decision.value, "exit_code": self.exit_code, "confidence": self.confidence,
            "replications": self.replications, "looks": self.looks, "notes": list(self.notes),
            "gates": [row.to_dict() for row in self.gates],
        })

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(decision=Decision(data["decision"]),
                   gates=tuple(GateVerdict.from_dict(row) for row in data["gates"]),
                   confidence=_num(data["confidence"]), replications=_int(data["replications"]),
                   notes=tuple(str(note) for note in data.get("notes", ())), looks=_int(data.get("looks", 1)))


# --------------------------------------------------------------------------- judging


class SupportsMetrics(Protocol):
    """A replication as the verdict sees it: ``ReplicationStats``, or a stand-in in tests."""

    def metrics(self) -> dict[str, float]: ...


R = TypeVar("R", bound=SupportsMetrics)



def judge(sim: RunResult | Sequence[SupportsMetrics] | None, gates: Sequence[Gate], *,
          live: RunResult | None = None, confidence: float = 0.95, looks: int = 1) -> Verdict:
    """The verdict on ``gates`` from simulated and/or live evidence.

    ``looks`` is the number of sequential looks *planned* (``judge_sequentially`` passes it):
    each simulated row is judged at ``α / (rows · looks)`` so that looking after every batch
    cannot inflate the error.  A ``sim`` result of kind "live" is taken as the live evidence.
    """
    if isinstance(sim, RunResult) and sim.kind == "live" and live is None:
        sim, live = None, sim
    per_rep, notes = _sim_metrics(sim)
    return _judge(per_rep, sim is not None, gates, live=live, confidence=confidence, looks=looks, notes=notes)


def error_budget(gates: Sequence[Gate], *, sim: bool, live: bool, confidence: float = 0.95,
                 looks: int = 1) -> tuple[float, float]:
    """Per-row error ``(α_sim, α_live)``: Bonferroni over the statistical rows, sim rows also over looks."""
    _check_level(confidence, looks)
    rows = sum(1 for g in gates if not is_invariant(g)) * (int(sim) + int(live))
    alpha = (1.0 - confidence) / max(rows, 1)
    return alpha / looks, alpha


def is_invariant(gate: Gate) -> bool:
    """Judged by the exact rule: ``==`` gates, and counts that must stay 0 (``<= 0``, ``< 1``)."""
    if gate.op == "==":
        return True
    if metric_kind(gate.base_metric) != "count":
        return False
    return (gate.op == "<=" and gate.threshold < 1) or (gate.op == "<" and gate.threshold <= 1)


def judge_values(gate: Gate, values: Sequence[float], *, alpha: float, evidence: Evidence = "sim") -> GateVerdict:
    """One gate on per-replication values: the exact rule for invariants, else one-sided t at ``1 − alpha``."""
    finite = [v for v in values if not math.isnan(v)]
    excluded = len(values) - len(finite)
    if is_invariant(gate):
        return _exact(gate, finite, evidence, excluded)
    bounds = one_sided_bounds(finite, 1.0 - alpha)
    if len(finite) > 1 and min(finite) == max(finite):
        # No spread: the bounds are the value itself, exactly (fsum/n can be an ulp off it,
        # which would flip a gate written on that very value).
        bounds = replace(bounds, estimate=finite[0], low=finite[0], high=finite[0], half_width=0.0)
    decision = decide(gate, bounds.low, bounds.high)
    reason = _t_reason(gate, decision, observed=bounds.estimate, lower=bounds.low, upper=bounds.high,
                       n=len(finite), level=1.0 - alpha)
    return GateVerdict(gate, evidence, decision, bounds.estimate, bounds.low, bounds.high, 1.0 - alpha,
                       len(finite), "t", reason + _excluded_note(excluded), excluded)


def decide(gate: Gate, lower: float, upper: float) -> Decision:
    """The three-way rule on one-sided bounds (NaN bounds decide nothing)."""
    t = gate.threshold
    go, no_go = {
        ">=": (lower >= t, upper < t), ">": (lower > t, upper <= t),
        "<=": (upper <= t, lower > t), "<": (upper < t, lower >= t),
        "==": (lower == t == upper, lower > t or upper < t),
    }[gate.op]
    return Decision.GO if go else Decision.NO_GO if no_go else Decision.INCONCLUSIVE


def judge_live(gate: Gate, replication: ReplicationStats, *, alpha: float,
               metrics: Mapping[str, float] | None = None) -> GateVerdict:
    """One gate on one live window (see the module docstring for the methods)."""
    values = replication.metrics() if metrics is None else metrics
    observed = values.get(gate.metric, math.nan)
    if is_invariant(gate):
        return _exact(gate, [] if math.isnan(observed) else [observed], "live", int(math.isnan(observed)))
    denominator = _denominator(gate.metric)
    if denominator is not None:
        return _wilson_row(gate, observed, values.get(denominator, math.nan), alpha)
    percentile = _percentile_of(gate.base_metric)
    if percentile is not None and gate.zone is None:
        name, q = percentile
        return _order_row(gate, getattr(replication, name), q, observed, alpha)
    reason = (f"one live window gives no sampling distribution for {gate.metric}; "
              "only simulated replications can judge it")
    return GateVerdict(gate, "live", Decision.INCONCLUSIVE, observed, -math.inf, math.inf, 1.0 - alpha, 1,
                       "none", reason)


def load_generator_saturated(live: RunResult) -> bool:
    """Whether any live load-generator process reported ``cpu_saturated`` (also inside ``extra["parts"]``)."""
    for replication in live.replications:
        extra = replication.extra
        parts = extra.get("parts")
        candidates = [extra, *(parts if isinstance(parts, list) else [])]
        if any(isinstance(part, dict) and part.get("cpu_saturated") for part in candidates):
            return True
    return False


# --------------------------------------------------------------------------- sequential replications


@dataclass(frozen=True)
class Sequential(Generic[R]):
    """What ``judge_sequentially`` ran and decided."""

    replications: tuple[R, ...]
    verdict: Verdict
    looks_taken: int
    looks_planned: int


def planned_looks(initial: int, budget: int, batch: int) -> int:
    """Looks at ``initial``, then after each ``batch`` until ``budget`` replications."""
    if initial < 1 or batch < 1 or budget < initial:
        raise ValueError(f"need 1 <= initial <= budget and batch >= 1, got initial={initial}, budget={budget}, "
                         f"batch={batch}")
    return 1 + math.ceil((budget - initial) / batch)


def judge_sequentially(run_more: Callable[[int], Sequence[R]], gates: Sequence[Gate], *,
                       initial: int, budget: int, batch: int | None = None, live: RunResult | None = None,
                       confidence: float = 0.95,
                       on_look: Callable[[Verdict], None] | None = None) -> Sequential[R]:
    """Run ``initial`` replications, judge, and add ``batch``-sized batches up to ``budget`` while undecided.

    ``run_more(k)`` runs ``k`` more replications and returns them (fewer, or none, if it was
    stopped: the procedure then ends with what it has).  The error budget is split over the
    planned looks up front, so stopping at the first decisive look keeps ``P(wrong) ≤ α``.
    It stops as soon as the verdict is GO or NO-GO, or when no simulated row is undecided
    (more replications could not change anything).  ``on_look`` sees each interim verdict.
    """
    step = batch or initial
    planned = planned_looks(initial, budget, step)
    replications: list[R] = []
    per_rep: list[dict[str, float]] = []
    verdict: Verdict | None = None
    looks = 0
    want = initial
    while want > 0:
        new = list(run_more(want))[:want]
        replications += new
        per_rep += [r.metrics() for r in new]
        looks += 1
        verdict = _judge(per_rep, True, gates, live=live, confidence=confidence, looks=planned, notes=())
        if on_look is not None:
            on_look(verdict)
        undecided = any(row.evidence == "sim" and row.decision is Decision.INCONCLUSIVE for row in verdict.gates)
        if verdict.decision is not Decision.INCONCLUSIVE or not undecided or len(new) < want:
            break
        want = min(step, budget - len(replications))
    assert verdict is not None  # the loop runs at least once: initial >= 1
    note = (f"sequential: {looks} of {planned} planned looks, {len(replications)} replications "
            f"(budget {budget}); the error budget was split over all {planned} looks")
    final = Verdict(verdict.decision, verdict.gates, verdict.confidence, verdict.replications,
                    (*verdict.notes, note), verdict.looks)
    return Sequential(tuple(replications), final, looks, planned)


# --------------------------------------------------------------------------- internals


def _sim_metrics(sim: RunResult | Sequence[SupportsMetrics] | None) -> tuple[list[dict[str, float]], list[str]]:
    if sim is None:
        return [], []
    if isinstance(sim, RunResult):
        notes = ["the simulated run is partial: fewer replications finished than were requested"] \
            if sim.partial or sim.interrupted else []
        return list(sim.replication_metrics), notes
    return [r.metrics() for r in sim], []


def _judge(per_rep: Sequence[Mapping[str, float]], has_sim: bool, gates: Sequence[Gate], *,
           live: RunResult | None, confidence: float, looks: int, notes: Sequence[str]) -> Verdict:
    alpha_sim, alpha_live = error_budget(gates, sim=has_sim, live=live is not None, confidence=confidence,
                                         looks=looks)
    rows: list[GateVerdict] = []
    all_notes = list(notes)
    if has_sim:
        rows += [_sim_row(g, per_rep, alpha_sim) for g in gates]
    if live is not None:
        live_rows, live_notes = _live_rows(live, gates, alpha_live)
        rows += live_rows
        all_notes += live_notes
    all_notes += _summary_notes(rows, has_sim, live is not None, gates)
    return Verdict(_overall(rows), tuple(rows), confidence, len(per_rep), tuple(all_notes), looks)


def _sim_row(gate: Gate, per_rep: Sequence[Mapping[str, float]], alpha: float) -> GateVerdict:
    row = judge_values(gate, [m.get(gate.metric, math.nan) for m in per_rep], alpha=alpha)
    if per_rep and all(gate.metric not in m for m in per_rep):
        # Not undefined but absent: say why rather than blaming every replication.
        reason = (f"the result has no {gate.metric} (no such zone in the run, or a result file written "
                  "before that metric existed)")
        row = replace(row, reason=reason, excluded=0, n=0)
    return row


def _live_rows(live: RunResult, gates: Sequence[Gate], alpha: float) -> tuple[list[GateVerdict], list[str]]:
    if not live.replications:
        reason = "the live result holds no measurement"
        rows = [GateVerdict(g, "live", Decision.INCONCLUSIVE, math.nan, -math.inf, math.inf, 1.0 - alpha, 0,
                            "none", reason) for g in gates]
        return rows, [reason]
    window = live.replications[0] if len(live.replications) == 1 else merge_replications(live.replications)
    metrics = window.metrics()
    rows = [judge_live(g, window, alpha=alpha, metrics=metrics) for g in gates]
    notes: list[str] = []
    if live.partial or live.interrupted:
        notes.append("the live run was interrupted: its window is shorter than planned")
    if load_generator_saturated(live):
        notes.append("the load generator's CPU saturated during the live run: its timings and timeouts cannot "
                     "be trusted, so the live evidence decides nothing (rerun with --processes N)")
        rows = [_untrusted(row) for row in rows]
    return rows, notes


def _untrusted(row: GateVerdict) -> GateVerdict:
    reason = f"not trusted, the load generator's CPU saturated (measured: {row.reason})"
    return GateVerdict(row.gate, row.evidence, Decision.INCONCLUSIVE, row.observed, row.lower, row.upper,
                       row.confidence, row.n, row.method, reason, row.excluded)


def _overall(rows: Sequence[GateVerdict]) -> Decision:
    if any(row.decision is Decision.NO_GO for row in rows):
        return Decision.NO_GO
    if rows and all(row.decision is Decision.GO for row in rows):
        return Decision.GO
    return Decision.INCONCLUSIVE


def _summary_notes(rows: Sequence[GateVerdict], has_sim: bool, has_live: bool, gates: Sequence[Gate]) -> list[str]:
    notes: list[str] = []
    if not gates:
        notes.append("no gates to judge: add gates to the scenario")
    if not has_sim and not has_live:
        notes.append("no evidence: neither simulated replications nor a live window")
    statistical = [row for row in rows if row.method in ("t", "wilson", "order")]
    if statistical:
        level = min(row.confidence for row in statistical)
        notes.append(f"{len(statistical)} statistical row{'s' if len(statistical) != 1 else ''}, each bound at "
                     f"{_pct(level)} or more (Bonferroni over gates, evidence and sequential looks)")
    excluded = [row for row in rows if row.excluded]
    notes += [f"{row.gate.metric}: {row.excluded} {row.evidence} replication{'s' if row.excluded != 1 else ''} "
              "left out, the metric was undefined (NaN) there" for row in excluded]
    notes += [f"{row.gate.name}: an invariant failed ({row.reason})" for row in rows
              if row.method == "exact" and row.decision is Decision.NO_GO]
    return notes


def _exact(gate: Gate, values: Sequence[float], evidence: Evidence, excluded: int) -> GateVerdict:
    where = "replication" if evidence == "sim" else "live window"
    if not values:
        return GateVerdict(gate, evidence, Decision.INCONCLUSIVE, math.nan, math.nan, math.nan, 1.0, 0, "exact",
                           f"{gate.metric} is undefined in every {where}" + _excluded_note(excluded), excluded)
    observed = math.fsum(values) / len(values)
    bad = [(i, v) for i, v in enumerate(values) if not gate.holds(v)]
    if bad:
        shown = ", ".join(_fmt(gate.metric, v) for _, v in bad[:5])
        many = f"{len(bad)} of {len(values)} {where}s" if len(values) > 1 else f"the {where}"
        reason = (f"{gate.metric} was {shown} in {many}: an invariant fails on any observed violation "
                  "(exact rule, no statistics)")
        decision = Decision.NO_GO
    else:
        count = f"every one of {len(values)} {where}s" if len(values) > 1 else f"the {where}"
        reason = (f"{gate.metric} met {gate.op} {format_threshold(gate.metric, gate.threshold)} in {count} "
                  "(exact rule: no violation observed, which cannot rule out a rarer one)")
        decision = Decision.GO
    return GateVerdict(gate, evidence, decision, observed, min(values), max(values), 1.0, len(values), "exact",
                       reason + _excluded_note(excluded), excluded)


def _wilson_row(gate: Gate, observed: float, total: float, alpha: float) -> GateVerdict:
    n = 0 if math.isnan(total) else round(total)
    if n == 0 or math.isnan(observed):
        return GateVerdict(gate, "live", Decision.INCONCLUSIVE, math.nan, math.nan, math.nan, 1.0 - alpha, 0,
                           "wilson", f"{gate.metric} is undefined in the live window (nothing to count)")
    k = min(max(round(observed * n), 0), n)
    # Two-sided at 1 − 2α is a pair of one-sided bounds at 1 − α each.
    interval = wilson(k, n, 1.0 - 2.0 * alpha)
    decision = decide(gate, interval.low, interval.high)
    reason = (_t_reason(gate, decision, observed=observed, lower=interval.low, upper=interval.high, n=n,
                        level=1.0 - alpha, unit="outcomes")
              + "; Wilson treats the window's outcomes as independent, shared queues and outages make the "
              "real uncertainty larger")
    return GateVerdict(gate, "live", decision, observed, interval.low, interval.high, 1.0 - alpha, n, "wilson",
                       reason)


def _order_row(gate: Gate, histogram: Histogram, q: float, observed: float, alpha: float) -> GateVerdict:
    n = histogram.count
    j, k = quantile_ranks(n, q / 100.0, 1.0 - alpha) if n else (None, None)
    # The histogram knows each sample to within its bucket: widen by a bucket so the bound stays a bound.
    lower = _order_statistic(histogram, j) / GROWTH if j is not None else -math.inf
    upper = _order_statistic(histogram, k) * GROWTH if k is not None else math.inf
    decision = decide(gate, lower, upper)
    reason = _t_reason(gate, decision, observed=observed, lower=lower, upper=upper, n=n, level=1.0 - alpha,
                       unit="samples")
    if decision is Decision.INCONCLUSIVE and (j is None or k is None):
        reason += f" (too few samples in the window for a distribution-free bound on the p{q:g})"
    return GateVerdict(gate, "live", decision, observed, lower, upper, 1.0 - alpha, n, "order", reason)


def _order_statistic(histogram: Histogram, rank: int) -> float:
    # Histogram.percentile takes rank ceil(n·q/100); aim half a rank low so rounding cannot skip it.
    return histogram.percentile(100.0 * (rank - 0.5) / histogram.count)


_SHOPPER_RATES = {"abandonment_rate", "left_unpaid_rate", "waited_fraction"}


def _denominator(metric: str) -> str | None:
    """The count a rate metric is a share of (so its numerator is a count of independent-ish outcomes)."""
    base, zone = split_metric(metric)
    if base == "huabei_success_rate" or base.startswith("failure_rate_"):
        den = "huabei_checkouts"
    elif base in _SHOPPER_RATES or base.startswith("outcome_share_"):
        den = "shoppers"
    else:
        return None
    return den if zone is None else zone_metric(den, zone)


def _percentile_of(base: str) -> tuple[str, float] | None:
    for name in HISTOGRAMS:
        for suffix, q in METRIC_PERCENTILES.items():
            if base == f"{name}_{suffix}":
                return name, q
    return None


def _t_reason(gate: Gate, decision: Decision, *, observed: float, lower: float, upper: float, n: int,
              level: float, unit: str = "replications") -> str:
    metric, op, shown = gate.metric, gate.op, format_threshold(gate.metric, gate.threshold)
    head = f"{metric} {_fmt(metric, observed)} over {n} {unit}"
    if n == 0 or math.isnan(lower) or math.isnan(upper):
        return f"{metric} is undefined: no {unit} to judge"
    if unit == "replications" and n == 1:
        return f"{head}: one replication gives no estimate of spread, so no bound (run at least 2, more to decide)"
    if decision is Decision.GO:
        side = f"at least {_fmt(metric, lower)}" if gate.higher_is_better else f"at most {_fmt(metric, upper)}"
        return f"{head}; with {_pct(level)} confidence it is {side}, which meets {op} {shown}"
    if decision is Decision.NO_GO:
        side = f"at most {_fmt(metric, upper)}" if gate.higher_is_better else f"at least {_fmt(metric, lower)}"
        return f"{head}; with {_pct(level)} confidence it is {side}, which fails {op} {shown}"
    return (f"{head}; the {_pct(level)} bounds [{_fmt(metric, lower)}, {_fmt(metric, upper)}] straddle {shown}: "
            "more evidence needed")


def _excluded_note(excluded: int) -> str:
    if not excluded:
        return ""
    return f" ({excluded} replication{'s' if excluded != 1 else ''} left out: the metric was undefined there)"


def _fmt(metric: str, value: float) -> str:
    if math.isnan(value):
        return "undefined"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    kind = metric_kind(split_metric(metric)[0])
    if kind == "fraction":
        return f"{value * 100:.4g}%"
    if kind == "duration" and value < 0:
        return "-" + format_threshold(metric, -value)
    if kind == "duration":
        return format_threshold(metric, float(f"{value:.4g}"))
    return f"{value:.4g}"


def _pct(level: float) -> str:
    return f"{level * 100:.4g}%"


def _check_level(confidence: float, looks: int) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    if looks < 1:
        raise ValueError(f"looks must be >= 1, got {looks}")


# --------------------------------------------------------------------------- JSON (like results.py)

def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(value) for key, value in data.items()}


def _plain(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _op(value: object) -> Operator:
    if value not in OPERATORS:
        raise ValueError(f"not a gate operator: {value!r}")
    return value

