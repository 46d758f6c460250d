"""Numbers as the console summary shows them (one formatter per metric), shared by HTML and JUnit."""

from __future__ import annotations

import math

from scanrush.stats.ci import Interval
from scanrush.summary import formatter


def base_metric(metric: str) -> str:
    """'huabei_success_rate[zone=fashion]' → 'huabei_success_rate' (the unit comes from the base)."""
    return metric.split("[", 1)[0]


def fmt(metric: str, value: float, *, signed: bool = False) -> str:
    return formatter(base_metric(metric), signed=signed)(value)


def fmt_ci(metric: str, interval: Interval, *, signed: bool = False) -> str:
    """'[low, high]', or why there is no interval."""
    if interval.n < 2 and interval.method.startswith("t"):
        return f"n/a ({interval.n} replication{'' if interval.n == 1 else 's'})"
    if not interval.finite:
        return "n/a"
    return f"[{fmt(metric, interval.low, signed=signed)}, {fmt(metric, interval.high, signed=signed)}]"


def level(confidence: float) -> str:
    """0.95 → '95%'; per-gate Bonferroni levels keep their digits (0.983333 → '98.33%')."""
    if math.isnan(confidence):
        return "n/a"
    return f"{100 * confidence:.4g}%"
