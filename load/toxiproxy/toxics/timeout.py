"""``timeout {timeout}`` (ms): drop all data; close after ``timeout`` ms without a chunk.

The timer restarts with every (dropped) chunk, so it is an inactivity timer started
when the toxic starts on the link. ``timeout: 0`` drops data forever and never closes.
Removing the toxic closes the links it was on: the stream lost bytes and cannot be
resumed (``closes_on_remove``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from load.toxiproxy.toxics.base import Stub, TimedOut, Toxic, attribute, register


@register
@dataclass(frozen=True, slots=True)
class TimeoutToxic(Toxic):
    type_name = "timeout"
    go_name = "TimeoutToxic"
    closes_on_remove = True

    timeout_ms: int = attribute("timeout", "ms")

    async def pipe(self, stub: Stub) -> None:
        window_s = self.timeout_ms / 1000.0 if self.timeout_ms > 0 else math.inf
        while True:
            item = await stub.recv_until(stub.now() + window_s)
            if item is None or item is TimedOut.TIMED_OUT:
                stub.close()
                return
            # a chunk: dropped on the floor
