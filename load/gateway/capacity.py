"""The gateway's workers on real time: a FIFO pool with a queue timeout, like the simulator's.

``workers`` requests run at once; each holds its worker for the service time
(the caller sleeps its wall-clock equivalent).  A request that waited longer than
``queue_timeout`` for a worker is answered "system busy" (20000) without
running, which is what the simulated gateway does to a request whose FCFS start
would come too late.
"""

from __future__ import annotations

import asyncio

from load.gateway.metrics import Metrics


class Workers:
    def __init__(self, count: int, metrics: Metrics) -> None:
        self._slots = asyncio.Semaphore(count)
        self._metrics = metrics

    def available(self) -> bool:
        """Whether a worker is free with nobody queued for it (``acquire`` would not wait)."""
        return not self._slots.locked()

    async def acquire(self, queue_timeout: float) -> bool:
        """Take a worker, waiting at most ``queue_timeout`` wall seconds; False (counted busy) if none came."""
        metrics = self._metrics
        slots = self._slots
        if slots.locked():
            metrics.queued += 1
            try:
                async with asyncio.timeout(queue_timeout):
                    await slots.acquire()
            except TimeoutError:
                metrics.busy_rejections += 1
                return False
            finally:
                metrics.queued -= 1
        else:
            await slots.acquire()  # a free worker: returns without suspending (the common, fast path)
        metrics.in_flight += 1
        return True

    def release(self) -> None:
        self._metrics.in_flight -= 1
        self._slots.release()
