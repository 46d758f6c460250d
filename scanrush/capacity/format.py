"""Numbers as people read them: rates in %, differences of rates in pp, durations in s."""

from __future__ import annotations

import math

from scanrush.capacity.compare import metric_kind
from scanrush.stats.ci import Interval


def value(metric: str, x: float) -> str:
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    kind = metric_kind(metric)
    if kind == "rate":
        return f"{x:.2%}"
    if kind == "duration":
        return f"{x:.1f}s"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def difference(metric: str, x: float) -> str:
    if math.isfinite(x) and metric_kind(metric) == "rate":
        return f"{x * 100:+.2f}pp"
    text = value(metric, x)
    return text if text.startswith(("-", "n/a", "∞")) or x == 0 else "+" + text


def interval(metric: str, ci: Interval, *, diff: bool = False) -> str:
    """``73.09% ±3.29pp``: the intervals here are t-intervals, symmetric about the estimate."""
    centre = (difference if diff else value)(metric, ci.estimate)
    if math.isnan(ci.half_width):
        return centre
    if math.isinf(ci.half_width):
        return f"{centre} ±∞"
    spread = difference(metric, ci.half_width).lstrip("+")
    return f"{centre} ±{spread}"
