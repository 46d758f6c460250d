"""What the stub counts about itself, served as JSON by ``GET /control/metrics``."""

from __future__ import annotations

import math
from typing import Any

from scanrush.domain.replies import Reply
from scanrush.stats.histogram import Histogram

_PERCENTILES = (50.0, 90.0, 99.0, 99.9)


class Metrics:
    __slots__ = ("_answers", "busy_rejections", "busy_seconds", "in_flight", "latency", "queued", "rejected")

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str, str | None], int] = {}
        """(method, code, sub_code) -> answers; per method and per reply key on reading."""
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
        self.busy_seconds = 0.0
        """Scenario seconds of service the workers took on (counted when a worker starts, as the simulator does)."""

    def clear(self) -> None:
        """Start the counters and the histogram over; the gauges (in flight, queued) stay live."""
        self._answers = {}
        self.busy_rejections = 0
        self.rejected = 0
        self.latency = Histogram()
        self.busy_seconds = 0.0

    def answered(self, method: str, reply: Reply, seconds: float) -> None:
        key = (method, reply.code, reply.sub_code)
        answers = self._answers
        answers[key] = answers.get(key, 0) + 1
        self.latency.record(seconds)

    @property
    def by_method(self) -> dict[str, int]:
        """Answers per method label, in order of first appearance."""
        counts: dict[str, int] = {}
        for (method, _code, _sub_code), count in self._answers.items():
            counts[method] = counts.get(method, 0) + count
        return counts

    @property
    def by_reply(self) -> dict[str, int]:
        """Answers per reply key (``Reply.key``: ``code`` or ``code:sub_code``), in order of first appearance."""
        counts: dict[str, int] = {}
        for (_method, code, sub_code), count in self._answers.items():
            key = Reply(code, sub_code).key
            counts[key] = counts.get(key, 0) + count
        return counts

    def utilisation(self, workers: int, elapsed: float) -> float:
        """Busy share of ``workers`` over ``elapsed`` scenario seconds (as the simulator's); 0 before any time."""
        capacity = workers * elapsed
        return self.busy_seconds / capacity if capacity > 0 else 0.0

    def as_dict(self, *, workers: int, elapsed: float) -> dict[str, Any]:
        """Everything counted, with utilisation over ``elapsed`` scenario seconds of ``workers``."""
        latency = self.latency
        quantiles = latency.percentiles(_PERCENTILES) if latency.count else []
        by_method = self.by_method
        return {
            "requests": sum(by_method.values()),
            "by_method": by_method,
            "by_reply": self.by_reply,
            "in_flight": self.in_flight,
            "queued": self.queued,
            "busy_rejections": self.busy_rejections,
            "rejected_before_business": self.rejected,
            "busy_seconds": self.busy_seconds,
            "utilisation": self.utilisation(workers, elapsed),
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
