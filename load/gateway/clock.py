"""Scenario time for the live stub: where in the promotion the live window is, and how fast it runs.

``scenario time = origin + (monotonic() - anchor) * compression``.  Schedules in the
scenario (risk surges, brownouts, the buyer's confirmation delay) are in scenario
seconds; the stub turns durations it must really wait (service time, queue
timeout) into wall seconds with :meth:`ScenarioClock.real`.  Compression 0
freezes scenario time, so tests can move it only by :meth:`set` (jumps) and get
deterministic answers; capacity then waits scenario seconds 1:1.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
"""Alipay renders times (``gmt_payment``, ``timestamp``) in China Standard Time."""


class ScenarioClock:
    __slots__ = ("_anchor", "_compression", "_formatted", "_origin", "_ran")

    def __init__(self, origin: float = 0.0, compression: float = 1.0) -> None:
        _check(compression)
        self._origin = origin
        self._compression = compression
        self._anchor = time.monotonic()
        self._formatted = (-1, "")
        self._ran = 0.0
        """:meth:`elapsed` at ``_anchor``."""

    @property
    def compression(self) -> float:
        return self._compression

    def now(self) -> float:
        """Scenario seconds since the promotion opened."""
        return self._origin + (time.monotonic() - self._anchor) * self._compression

    def set(self, scenario_time: float | None = None, compression: float | None = None) -> None:
        """Re-anchor: scenario time is ``scenario_time`` now (default: unchanged) and runs at ``compression``."""
        current = self.now()
        if scenario_time is not None and not math.isfinite(scenario_time):
            raise ValueError(f"scenario_time must be finite, got {scenario_time!r}")
        if compression is not None:
            _check(compression)
        ran = self.elapsed()  # what ran so far, at the old pace
        if compression is not None:
            self._compression = compression
        self._origin = current if scenario_time is None else scenario_time
        self._anchor = time.monotonic()
        self._ran = ran

    def elapsed(self) -> float:
        """Scenario seconds that have run since the clock was made, at the pace workers serve.

        Jumps (:meth:`set` with ``scenario_time``) are not time that ran; while frozen,
        time runs 1:1 with the wall, as :meth:`real` makes capacity wait.  It is what a
        worker's busy time (scenario seconds of service) is a share of.
        """
        compression = self._compression
        return self._ran + (time.monotonic() - self._anchor) * (compression if compression > 0 else 1.0)

    def real(self, scenario_seconds: float) -> float:
        """Wall seconds that ``scenario_seconds`` last at this compression (1:1 when frozen)."""
        return scenario_seconds / self._compression if self._compression > 0 else scenario_seconds

    def wall(self, scenario_time: float) -> datetime:
        """The wall-clock moment (China time) of ``scenario_time``, for Alipay's ``gmt_*`` fields."""
        offset = (scenario_time - self.now()) / self._compression if self._compression > 0 else 0.0
        return datetime.now(CHINA) + timedelta(seconds=offset)


    def alipay(self, scenario_time: float) -> str:
        """:meth:`wall` as Alipay writes times; cached per second (every paid reply carries one)."""
        offset = (scenario_time - self.now()) / self._compression if self._compression > 0 else 0.0
        second = int(time.time() + offset)
        cached_second, text = self._formatted
        if second != cached_second:
            text = alipay_time(datetime.fromtimestamp(second, CHINA))
            self._formatted = (second, text)
        return text


def _check(compression: float) -> None:
    if not (compression >= 0 and math.isfinite(compression)):
        raise ValueError(f"compression must be a finite number >= 0, got {compression!r}")


def alipay_time(moment: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` as Alipay writes it."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
