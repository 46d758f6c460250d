"""A sweep: every grid point run with the same seeds, summarised as one JSON document."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from scanrush.capacity.grid import Axis, Point
from scanrush.capacity.runs import KEY_METRICS, interval_json
from scanrush.results import RunResult, tool_versions

FORMAT = "scanrush-sweep"
VERSION = 1
CHART_METRICS = ("huabei_success_rate", "checkout_time_p95")
"""What the heatmaps and line charts show (with their CIs)."""
PER_REPLICATION = ("shoppers", "huabei_checkouts")
"""Kept per replication besides the key metrics: the denominators, for pooled rates across points."""


def point_entry(point: Point, result: RunResult, decision: str | None) -> dict[str, Any]:
    """One grid point: its settings, every metric's t-interval, and the key metrics per replication.

    The per-replication values make later paired comparisons between points possible: all
    points ran the same replication indices with the same seed (common random numbers).
    """
    aggregate = result.aggregate
    return {
        "index": point.index,
        "settings": dict(point.settings),
        "overrides": point.overrides,
        "replications": len(result.replications),
        "partial": result.partial,
        "decision": decision,
        "metrics": {name: interval_json(ci) for name, ci in aggregate.metrics.items()},
        "per_replication": {name: result.metric_values(name) for name in (*PER_REPLICATION, *KEY_METRICS)},
    }


def sweep_document(*, scenario_name: str, scenario_path: str, seed: int, replications: int,
                   base_overrides: Sequence[str], axes: Sequence[Axis], executor: str,
                   points: Sequence[Mapping[str, Any]], interrupted: bool, wall_seconds: float) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "scenario": scenario_name,
        "scenario_path": scenario_path,
        "seed": seed,
        "replications": replications,
        "base_overrides": list(base_overrides),
        "axes": [{"path": axis.path, "values": list(axis.values)} for axis in axes],
        "executor": executor,
        "confidence": 0.95,
        "interrupted": interrupted,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": tool_versions(),
        "wall_seconds": round(wall_seconds, 2),
        "points": list(points),
    }


def best_point(points: Sequence[Mapping[str, Any]], metric: str = "huabei_success_rate") -> Mapping[str, Any] | None:
    """The point with the highest estimate of ``metric`` (ties: the earlier point)."""
    scored = [(p["metrics"][metric]["estimate"], -p["index"], p) for p in points if metric in p["metrics"]]
    scored = [s for s in scored if not math.isnan(s[0])]
    return max(scored, key=lambda s: (s[0], s[1]))[2] if scored else None
