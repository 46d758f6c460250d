"""The gateway's business side for one world: decision, ledger, schedules. Sans-I/O, clock-free.

Both realisations of the gateway wrap this one object: the simulator's queue of
workers on simulated time (``sim/gateway.py``) and the live HTTP stub.  Only
capacity (how long a request waits for a worker, and whether it waited too
long) differs between them; everything a request's *answer* depends on is here.
"""

from __future__ import annotations

from collections.abc import Callable

from scanrush.domain.gateway import BUSY, IDLE, Buyer, Load, PayRequest, decide_pay
from scanrush.domain.ledger import Ledger
from scanrush.domain.profile import risk_reject_at
from scanrush.domain.replies import Reply
from scanrush.domain.terminal import Op
from scanrush.domain.world import World
from scanrush.scenario.schema import Gateway, Scenario


class GatewayCore:
    def __init__(self, scenario: Scenario, world: World, uniform: Callable[[], float]) -> None:
        self.config: Gateway = scenario.gateway
        self.world = world
        self.ledger = Ledger()
        self._password_free_limit = scenario.shoppers.credit.password_free_limit
        self._uniform = uniform
        self._buckets: dict[int, tuple[float, float]] = {}
        self._brownouts = tuple((b.at, b.end, b.service_factor, b.error_rate) for b in self.config.brownouts)
        """(start, end, service factor, error rate) per brownout: ``Window.contains`` without a call per window."""

    def handle(self, op: Op, request: PayRequest, buyer: Buyer, u_risk: float, now: float) -> Reply:
        """Answer a request a worker processes at ``now`` (scenario time, seconds)."""
        if op is Op.PAY:
            return self.pay(request, buyer, u_risk, now, self._pay_load(request.merchant, now))
        if op is Op.QUERY:
            return self.ledger.query(request.out_trade_no, now)
        return self.ledger.cancel(request.out_trade_no, now)

    def busy(self) -> Reply:
        """The answer to a request that waited longer than ``queue_timeout`` for a worker."""
        return BUSY

    def pay(self, request: PayRequest, buyer: Buyer, u_risk: float, now: float, load: Load = IDLE) -> Reply:
        replay = self.ledger.replay(request, now)
        if replay is not None:
            return replay
        decision = decide_pay(
            request, buyer, self.world.merchants[request.merchant],
            received_today=self.ledger.received_today(request.merchant),
            risk_reject=risk_reject_at(self.config.risk, now), u_risk=u_risk,
            password_free_limit=self._password_free_limit, load=load,
        )
        return self.ledger.record_pay(request, decision, now)

    def service_factor(self, now: float) -> float:
        """How much slower a worker is at ``now`` (brownout windows)."""
        for start, end, factor, _ in self._brownouts:
            if start <= now < end:
                return factor
        return 1.0

    def _brownout_error_rate(self, now: float) -> float:
        for start, end, _, error_rate in self._brownouts:
            if start <= now < end:
                return error_rate
        return 0.0

    def _pay_load(self, merchant: int, now: float) -> Load:
        error_rate = self._brownout_error_rate(now)
        brownout_error = error_rate > 0 and self._uniform() < error_rate
        rate_limited = self._rate_limited(merchant, now)
        if not (brownout_error or rate_limited):
            return IDLE
        return Load(brownout_error=brownout_error, rate_limited=rate_limited)

    def _rate_limited(self, merchant: int, now: float) -> bool:
        """Token bucket per merchant: ``rate_limit`` pay requests per second, burst of one second."""
        rate = self.world.merchants[merchant].rate_limit
        if rate is None:
            return False
        burst = max(1.0, rate)
        tokens, last = self._buckets.get(merchant, (burst, now))
        tokens = min(burst, tokens + max(0.0, now - last) * rate)
        if tokens < 1.0:
            self._buckets[merchant] = (tokens, now)
            return True
        self._buckets[merchant] = (tokens - 1.0, now)
        return False
