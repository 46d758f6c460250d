"""Fault windows of a scenario (outages per zone, gateway brownouts, risk surges), for marking charts.

Read from the resolved scenario stored in ``result.metadata.scenario`` (plain data), so a report
needs neither the scenario file nor its loader; anything missing or malformed yields no window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["outage", "brownout", "risk"]

FAULT_COLOURS: Mapping[FaultKind, str] = {"outage": "#d62728", "brownout": "#ff7f0e", "risk": "#9467bd"}
"""One colour per kind, shared by the PNG charts and the HTML legend."""


@dataclass(frozen=True, slots=True)
class FaultWindow:
    kind: FaultKind
    start: float
    """Seconds after the promotion opens."""
    end: float
    label: str
    """What a planner reads in the legend, e.g. 'outage: boutiques (mall-wifi)'."""


def fault_windows(scenario: Mapping[str, Any]) -> list[FaultWindow]:
    """Every fault window of the scenario, sorted by start time."""
    windows = [*_outages(scenario), *_brownouts(scenario), *_risk_surges(scenario)]
    return sorted(windows, key=lambda w: (w.start, w.kind, w.label))


def _span(window: object) -> tuple[float, float] | None:
    if not isinstance(window, Mapping):
        return None
    at, length = window.get("at"), window.get("for")
    if not isinstance(at, (int, float)) or not isinstance(length, (int, float)):
        return None
    return float(at), float(at) + float(length)


def _mapping(data: object, key: str) -> Mapping[str, Any]:
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _sequence(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return list(value) if isinstance(value, (list, tuple)) else []


def _outages(scenario: Mapping[str, Any]) -> list[FaultWindow]:
    zones_by_network: dict[str, list[str]] = {}
    for zone in _sequence(_mapping(scenario, "mall"), "zones"):
        if isinstance(zone, Mapping):
            zones_by_network.setdefault(str(zone.get("network")), []).append(str(zone.get("name")))
    out = []
    for network, profile in _mapping(scenario, "networks").items():
        zones = ", ".join(zones_by_network.get(str(network), [])) or "no zone"
        for window in _sequence(profile, "outages") if isinstance(profile, Mapping) else []:
            span = _span(window)
            if span:
                out.append(FaultWindow("outage", *span, f"outage: {zones} ({network})"))
    return out


def _brownouts(scenario: Mapping[str, Any]) -> list[FaultWindow]:
    out = []
    for window in _sequence(_mapping(scenario, "gateway"), "brownouts"):
        span = _span(window)
        if span:
            factor, errors = window.get("service_factor", 1.0), window.get("error_rate", 0.0)
            label = f"gateway brownout: service ×{factor:g}, {100 * errors:g}% errors"
            out.append(FaultWindow("brownout", *span, label))
    return out


def _risk_surges(scenario: Mapping[str, Any]) -> list[FaultWindow]:
    risk = _mapping(_mapping(scenario, "gateway"), "risk")
    spared = " (spared: promotion registered)" if risk.get("promotion_registered") else ""
    out = []
    for window in _sequence(risk, "surges"):
        span = _span(window)
        if span:
            out.append(FaultWindow("risk", *span, f"risk surge: {100 * window.get('reject', 0.0):g}% rejected{spared}"))
    return out
