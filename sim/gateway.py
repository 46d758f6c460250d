"""The gateway's capacity on simulated time: FCFS workers, rate limits, brownouts.

Queueing costs no SimPy events: requests reach the gateway in time order (each
arrival is an event), so a heap of the workers' next-free times gives every
request its exact FCFS start time on arrival.  The decision itself is the
shared :func:`scanrush.domain.gateway.decide_pay`, applied through the shared
ledger.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

from scanrush.domain.gateway import BUSY, Buyer, Load, PayRequest, decide_pay
from scanrush.domain.ledger import Ledger
from scanrush.domain.profile import risk_reject_at
from scanrush.domain.replies import Reply
from scanrush.domain.terminal import Op
from scanrush.domain.world import World
from scanrush.scenario.schema import Gateway, Scenario

REJECT_TIME = 0.005
"""Seconds the gateway takes to answer 'system busy' once a request has queued too long."""


class SimGateway:
    def __init__(self, scenario: Scenario, world: World, uniform: Callable[[], float],
                 service_time: Callable[[], float]) -> None:
        self._config: Gateway = scenario.gateway
        self._password_free_limit = scenario.shoppers.credit.password_free_limit
        self._world = world
        self._uniform = uniform
        self._service_time = service_time
        self._free_at = [0.0] * self._config.workers
        self._buckets: dict[int, tuple[float, float]] = {}
        self.ledger = Ledger()
        self.requests = 0
        self.rejected_busy = 0
        self.busy_seconds = 0.0
        self.on_busy: Callable[[float, float], None] | None = None

    def handle(self, op: Op, request: PayRequest, buyer: Buyer, u_risk: float, now: float) -> tuple[Reply, float]:
        """The reply to a request arriving at ``now`` and the time it leaves the gateway."""
        self.requests += 1
        start, service = self._admit(now)
        if start is None:
            self.rejected_busy += 1
            return BUSY, now + REJECT_TIME
        done = start + service
        if op is Op.PAY:
            load = self._pay_load(request.merchant, now)
            return self._decide(request, buyer, u_risk, done, load), done
        if op is Op.QUERY:
            return self.ledger.query(request.out_trade_no, done), done
        return self.ledger.cancel(request.out_trade_no, done), done

    def _decide(self, request: PayRequest, buyer: Buyer, u_risk: float, now: float, load: Load) -> Reply:
        replay = self.ledger.replay(request, now)
        if replay is not None:
            return replay
        decision = decide_pay(
            request, buyer, self._world.merchants[request.merchant],
            received_today=self.ledger.received_today(request.merchant),
            risk_reject=risk_reject_at(self._config.risk, now), u_risk=u_risk,
            password_free_limit=self._password_free_limit, load=load,
        )
        return self.ledger.record_pay(request, decision, now)

    def _admit(self, now: float) -> tuple[float | None, float]:
        factor, _ = self._brownout(now)
        service = self._service_time() * factor
        free = self._free_at[0]
        start = now if free <= now else free
        if start - now > self._config.queue_timeout:
            return None, 0.0
        heapq.heapreplace(self._free_at, start + service)
        self.busy_seconds += service
        if self.on_busy is not None:
            self.on_busy(start, service)
        return start, service

    def _brownout(self, now: float) -> tuple[float, float]:
        for brownout in self._config.brownouts:
            if brownout.contains(now):
                return brownout.service_factor, brownout.error_rate
        return 1.0, 0.0

    def _pay_load(self, merchant: int, now: float) -> Load:
        _, error_rate = self._brownout(now)
        brownout_error = error_rate > 0 and self._uniform() < error_rate
        return Load(brownout_error=brownout_error, rate_limited=self._rate_limited(merchant, now))

    def _rate_limited(self, merchant: int, now: float) -> bool:
        rate = self._world.merchants[merchant].rate_limit
        if rate is None:
            return False
        burst = max(1.0, rate)
        tokens, last = self._buckets.get(merchant, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens < 1.0:
            self._buckets[merchant] = (tokens, now)
            return True
        self._buckets[merchant] = (tokens - 1.0, now)
        return False

    def utilisation(self, horizon: float) -> float:
        return self.busy_seconds / (self._config.workers * horizon) if horizon > 0 else math.nan
