"""What the stub counts about itself, served as JSON by ``GET /control/metrics``."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from scanrush.stats.histogram import Histogram

_PERCENTILES = (50.0, 90.0, 99.0, 99.9)


class Metrics:
    __slots__ = ("busy_rejections", "by_method", "by_reply", "in_flight", "latency", "queued", "rejected")

    def __init__(self) -> None:
        self.by_method: Counter[str] = Counter()
        self.by_reply: Counter[str] = Counter()
        self.in_flight = 0
        """Requests holding a worker right now."""
        self.queued = 0
        """Requests waiting for a worker right now."""
        self.busy_rejections = 0
        """Requests that waited longer than ``queue_timeout`` (answered 20000 system busy)."""
        self.rejected = 0
        """Requests turned away before the business ran (40001/40002/40006)."""
        self.latency = Histogram()
        """Seconds from the request's arrival at the handler to its answer (the stub's own time)."""

    def clear(self) -> None:
        """Start the counters and the histogram over; the gauges (in flight, queued) stay live."""
        self.by_method.clear()
        self.by_reply.clear()
        self.busy_rejections = 0
        self.rejected = 0
        self.latency = Histogram()

    def answered(self, method: str, key: str, seconds: float) -> None:
        self.by_method[method] += 1
        self.by_reply[key] += 1
        self.latency.record(seconds)

    def as_dict(self) -> dict[str, Any]:
        latency = self.latency
        quantiles = latency.percentiles(_PERCENTILES) if latency.count else []
        return {
            "requests": sum(self.by_method.values()),
            "by_method": dict(self.by_method),
            "by_reply": dict(self.by_reply),
            "in_flight": self.in_flight,
            "queued": self.queued,
            "busy_rejections": self.busy_rejections,
            "rejected_before_business": self.rejected,
            "latency_seconds": {
                "count": latency.count,
                "mean": _finite(latency.mean),
                **{f"p{q:g}": value for q, value in zip(_PERCENTILES, quantiles, strict=False)},
                "max": _finite(latency.max),
                "histogram": latency.to_dict(),
            },
        }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
