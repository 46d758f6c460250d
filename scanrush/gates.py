"""Gates: ``metric op threshold`` lines of a scenario, parsed and checked against the metric catalogue.

A gate names one key of ``ReplicationStats.metrics()`` (optionally restricted to a mall zone,
``huabei_success_rate[zone=fashion]``), an operator and a threshold written in the metric's
unit: a percentage or fraction for rates (``97%``, ``0.97``), a duration with its unit for
times (``45s``, ``3m``), a plain number for counts and amounts (``0``, ``5000``).  A unit that
does not fit the metric is an error, not a guess: ``checkout_time_p95 <= 45`` could mean
seconds or milliseconds.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from scanrush.results import HISTOGRAMS, ReplicationStats
from scanrush.units import format_duration, parse_duration, parse_fraction

Operator = Literal[">=", "<=", "==", "<", ">"]
MetricKind = Literal["fraction", "duration", "count", "number"]
"""What a metric's threshold is written as: a rate, a time, a whole count, any other number."""

OPERATORS: tuple[Operator, ...] = (">=", "<=", "==", "<", ">")

ZONE_METRICS = ("shoppers", "huabei_checkouts", "huabei_success_rate", "abandonment_rate")
"""Metrics that ``ReplicationStats.metrics()`` also reports per mall zone, as ``zone_metric(base, zone)``."""

_GATE = re.compile(r"^\s*(?P<metric>[A-Za-z_][\w.]*)\s*(?:\[\s*(?P<scope>[^\]]*)\])?\s*"
                   r"(?P<op>>=|<=|==|=>|=<|!=|=|<|>)\s*(?P<value>\S.*?)\s*$")
_ZONE_SCOPE = re.compile(r"^zone\s*=\s*(?P<zone>[^\s\]]+)$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_COUNTS = frozenset({"shoppers", "huabei_checkouts", "unresolved", "double_charges", "retries",
                     "gateway_rejected_busy"})
_EXAMPLE = "expected a gate such as 'huabei_success_rate >= 97%' (metric, operator, value)"


@dataclass(frozen=True, slots=True)
class Gate:
    text: str
    """As written in the scenario, e.g. 'huabei_success_rate >= 97%'."""
    metric: str
    """A key of ``ReplicationStats.metrics()``, e.g. 'huabei_success_rate' or
    'huabei_success_rate[zone=fashion]'."""
    op: Operator
    threshold: float
    """In the metric's unit: fractions for rates (97% -> 0.97), seconds for durations (3m -> 180)."""

    @property
    def name(self) -> str:
        """Stable identifier (JUnit testcase name): the normalised text, e.g. 'huabei_success_rate >= 97%'."""
        return f"{self.metric} {self.op} {format_threshold(self.metric, self.threshold)}"

    @property
    def base_metric(self) -> str:
        """The metric without its zone: 'huabei_success_rate' for 'huabei_success_rate[zone=fashion]'."""
        return split_metric(self.metric)[0]

    @property
    def zone(self) -> str | None:
        return split_metric(self.metric)[1]

    @property
    def kind(self) -> MetricKind:
        return metric_kind(self.base_metric)

    @property
    def higher_is_better(self) -> bool:
        """True for ``>=``/``>``: the gate holds when the metric is large enough."""
        return self.op in (">=", ">")

    def holds(self, value: float) -> bool:
        """Whether one exact value meets the gate; NaN (undefined) never does."""
        if math.isnan(value):
            return False
        return {
            ">=": value >= self.threshold, ">": value > self.threshold,
            "<=": value <= self.threshold, "<": value < self.threshold,
            "==": value == self.threshold,
        }[self.op]


def parse_gate(text: str | Gate, zones: Collection[str] | None = None) -> Gate:
    """A gate from its text; ``ValueError`` with a hint for anything else.

    ``zones``, when given, are the scenario's zone names: a zone-scoped gate must name one.
    A ``Gate`` is returned as is (after the zone check), so callers may pass either.
    """
    gate = text if isinstance(text, Gate) else _parse(text)
    if zones is not None:
        check_zone(gate, zones)
    return gate


def _parse(text: str) -> Gate:
    if not isinstance(text, str):
        raise ValueError(_EXAMPLE)
    match = _GATE.match(text)
    if not match:
        raise ValueError(_EXAMPLE)
    base = match["metric"]
    op = _operator(match["op"])
    _check_metric(base)
    metric = base if match["scope"] is None else zone_metric(base, _zone_of(base, match["scope"]))
    threshold = parse_threshold(base, match["value"])
    return Gate(text=text, metric=metric, op=op, threshold=threshold)


def _operator(written: str) -> Operator:
    if written in OPERATORS:
        return written
    meant = {"=>": ">=", "=<": "<=", "=": "=="}.get(written)
    hint = f"did you mean '{meant}'?" if meant else "operators are >=, <=, ==, < and >"
    raise ValueError(f"unknown operator '{written}' ({hint})")


def _check_metric(base: str) -> None:
    catalogue = metric_catalogue()
    if base in catalogue:
        return
    close = difflib.get_close_matches(base, sorted(catalogue), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else "see the metric table in scenarios/README.md"
    raise ValueError(f"unknown metric '{base}' ({hint})")


def _zone_of(base: str, scope: str) -> str:
    match = _ZONE_SCOPE.match(scope.strip())
    if not match:
        raise ValueError(f"cannot read the scope [{scope}] (write [zone=NAME], e.g. {base}[zone=fashion])")
    if base not in ZONE_METRICS:
        raise ValueError(f"{base} is not reported per zone (zone metrics: {', '.join(ZONE_METRICS)})")
    return match["zone"]


def check_zone(gate: Gate, zones: Collection[str]) -> None:
    """``ValueError`` if a zone-scoped gate names a zone the scenario does not have."""
    zone = gate.zone
    if zone is None or zone in zones:
        return
    close = difflib.get_close_matches(zone, list(zones), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else f"zones: {', '.join(zones) or 'none'}"
    raise ValueError(f"no zone '{zone}' in this scenario ({hint})")


def parse_threshold(base: str, written: str) -> float:
    """The threshold in the metric's unit, insisting on the unit that fits the metric."""
    kind = metric_kind(base)
    value = written.strip()
    if kind == "fraction":
        if not (value.endswith("%") or _NUMBER.match(value)):
            raise ValueError(f"{base} is a rate: write a percentage such as 97% or a fraction such as 0.97, "
                             f"not '{value}'")
        return parse_fraction(float(value) if _NUMBER.match(value) else value)
    if kind == "duration":
        if _NUMBER.match(value):
            raise ValueError(f"{base} is a duration: write it with its unit, such as {value}s or {value}ms")
        try:
            return parse_duration(value)
        except ValueError:
            raise ValueError(f"{base} is a duration: write one such as 45s, 500ms or 3m, not '{value}'") from None
    if not _NUMBER.match(value):
        what = "a count" if kind == "count" else "a number"
        raise ValueError(f"{base} is {what}: write a plain number such as 0 or 5, not '{value}'")
    number = float(value)
    if kind == "count" and (number < 0 or not number.is_integer()):
        raise ValueError(f"{base} is a count: the threshold must be a whole number >= 0, not '{value}'")
    return number


def format_threshold(metric: str, threshold: float) -> str:
    """The threshold as a reader writes it: '97%', '45s', '0'."""
    kind = metric_kind(split_metric(metric)[0])
    if kind == "fraction":
        return f"{threshold * 100:.6g}%"
    if kind == "duration":
        return format_duration(threshold)
    return f"{threshold:.10g}"


def metric_kind(base: str) -> MetricKind:
    """What a (zone-less) metric measures, from its name."""
    if base.endswith(("_rate", "_fraction", "_utilisation")) or base.startswith(("failure_rate_", "outcome_share_")):
        return "fraction"
    if any(base.startswith(f"{h}_") for h in HISTOGRAMS):
        return "duration"
    if base in _COUNTS or base.startswith("ledger_"):
        return "count"
    return "number"


@lru_cache(maxsize=1)
def metric_catalogue() -> frozenset[str]:
    """The metric names a gate may use (zone-scoped keys are built from ``ZONE_METRICS``)."""
    return frozenset(key for key in ReplicationStats().metrics() if "[" not in key)


def split_metric(metric: str) -> tuple[str, str | None]:
    """'huabei_success_rate[zone=fashion]' -> ('huabei_success_rate', 'fashion')."""
    base, bracket, rest = metric.partition("[zone=")
    return (base, rest.removesuffix("]")) if bracket else (base, None)


def zone_metric(base: str, zone: str) -> str:
    """The metric key of ``base`` restricted to one mall zone: 'huabei_success_rate[zone=fashion]'."""
    return f"{base}[zone={zone}]"
