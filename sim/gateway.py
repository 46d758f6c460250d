"""The gateway's capacity on simulated time: FCFS workers in front of the shared gateway core.

Queueing costs no SimPy events: requests reach the gateway in time order (each
arrival is an event), so a heap of the workers' next-free times gives every
request its exact FCFS start time on arrival.  What the gateway *answers* is
:class:`scanrush.domain.platform.GatewayCore`, the same object the live stub uses.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

from scanrush.domain.gateway import Buyer, PayRequest
from scanrush.domain.ledger import Ledger
from scanrush.domain.platform import GatewayCore
from scanrush.domain.replies import Reply
from scanrush.domain.terminal import Op
from scanrush.domain.world import World
from scanrush.scenario.schema import Scenario


class SimGateway:
    def __init__(self, scenario: Scenario, world: World, uniform: Callable[[], float],
                 service_time: Callable[[], float]) -> None:
        self.core = GatewayCore(scenario, world, uniform)
        self._workers = scenario.gateway.workers
        self._queue_timeout = scenario.gateway.queue_timeout
        self._service_time = service_time
        self._free_at = [0.0] * self._workers
        self.requests = 0
        self.rejected_busy = 0
        self.busy_seconds = 0.0
        self.on_busy: Callable[[float, float], None] | None = None

    @property
    def ledger(self) -> Ledger:
        return self.core.ledger

    def handle(self, op: Op, request: PayRequest, buyer: Buyer, u_risk: float, now: float) -> tuple[Reply, float]:
        """The reply to a request arriving at ``now`` and the time it leaves the gateway."""
        self.requests += 1
        start, service = self._admit(now)
        if start is None:
            self.rejected_busy += 1
            return self.core.busy(), now + self._queue_timeout  # it waited that long for a worker, in vain
        done = start + service
        return self.core.handle(op, request, buyer, u_risk, done), done

    def _admit(self, now: float) -> tuple[float | None, float]:
        service = self._service_time() * self.core.service_factor(now)
        free = self._free_at[0]
        start = now if free <= now else free
        if start - now > self._queue_timeout:
            return None, 0.0
        heapq.heapreplace(self._free_at, start + service)
        self.busy_seconds += service
        if self.on_busy is not None:
            self.on_busy(start, service)
        return start, service

    def utilisation(self, horizon: float) -> float:
        return self.busy_seconds / (self._workers * horizon) if horizon > 0 else math.nan
