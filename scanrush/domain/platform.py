"""The gateway's business side for one world: decision, ledger, schedules. Sans-I/O, clock-free.

Both realisations of the gateway wrap this one object: the simulator's queue of
workers on simulated time (``sim/gateway.py``) and the live HTTP stub.  Only
capacity (how long a request waits for a worker, and whether it waited too
long) differs between them; everything a request's *answer* depends on is here.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence

from scanrush.domain.gateway import BUSY, IDLE, Buyer, Load, PayRequest, decide_pay
from scanrush.domain.ledger import Ledger
from scanrush.domain.profile import risk_reject_at
from scanrush.domain.replies import Reply
from scanrush.domain.terminal import Op
from scanrush.domain.world import World
from scanrush.scenario.schema import Gateway, Risk, Scenario

Phase = tuple[float, float, float]
"""(service factor, brownout error rate, risk rejection probability) in force at one time."""


class Phases:
    """The gateway's brownouts and risk schedule as one step function of time, tabulated once.

    Brownout and risk-surge windows only start or end at a handful of instants, so
    between two consecutive instants everything the schedule says is constant: the
    value of each piece is computed once, by the very rules it replaces (first
    brownout containing ``t`` in declaration order; :func:`risk_reject_at`).  The
    piece of the last lookup is kept, since requests come in (nearly) time order.
    """

    __slots__ = ("_bounds", "_current", "_high", "_low", "_values")

    def __init__(self, brownouts: Sequence[tuple[float, float, float, float]], risk: Risk) -> None:
        instants = {t for start, end, _, _ in brownouts for t in (start, end)}
        instants.update(t for surge in risk.surges for t in (surge.at, surge.end))
        self._bounds = sorted(instants)
        # Piece i is bounds[i-1] <= t < bounds[i] (piece 0: before the first instant, where no window is).
        starts = [-math.inf, *self._bounds]
        self._values: list[Phase] = [_phase_at(brownouts, risk, t) for t in starts]
        self._low, self._high, self._current = -math.inf, -math.inf, self._values[0]

    def at(self, t: float) -> Phase:
        if self._low <= t < self._high:
            return self._current
        bounds = self._bounds
        index = bisect.bisect_right(bounds, t)
        self._low = bounds[index - 1] if index > 0 else -math.inf
        self._high = bounds[index] if index < len(bounds) else math.inf
        self._current = self._values[index]
        return self._current


def _phase_at(brownouts: Sequence[tuple[float, float, float, float]], risk: Risk, t: float) -> Phase:
    for start, end, factor, error_rate in brownouts:
        if start <= t < end:
            return factor, error_rate, risk_reject_at(risk, t)
    return 1.0, 0.0, risk_reject_at(risk, t)


class GatewayCore:
    def __init__(self, scenario: Scenario, world: World, uniform: Callable[[], float]) -> None:
        self.config: Gateway = scenario.gateway
        self.world = world
        self.ledger = Ledger()
        self._password_free_limit = scenario.shoppers.credit.password_free_limit
        self._uniform = uniform
        self._buckets: dict[int, tuple[float, float]] = {}
        brownouts = tuple((b.at, b.end, b.service_factor, b.error_rate) for b in self.config.brownouts)
        self._phases = Phases(brownouts, self.config.risk)
        self._merchants = world.merchants
        self._rate_limits: tuple[float | None, ...] | None = tuple(m.rate_limit for m in world.merchants)
        """Each merchant's ``rate_limit``; None when no merchant has one (no bucket to look at, per request)."""
        if all(rate is None for rate in self._rate_limits):
            self._rate_limits = None

    def handle(self, op: Op, request: PayRequest, buyer: Buyer, u_risk: float, now: float) -> Reply:
        """Answer a request a worker processes at ``now`` (scenario time, seconds)."""
        if op is not _PAY:
            if op is _QUERY:
                return self.ledger.query(request.out_trade_no, now)
            return self.ledger.cancel(request.out_trade_no, now)
        # The gateway's load comes first: the brownout draw and the merchant's token are taken
        # before the ledger looks for a replay, whatever the request turns out to be.
        _, error_rate, risk_reject = self._phases.at(now)
        brownout_error = error_rate > 0 and self._uniform() < error_rate
        rate_limited = self._rate_limits is not None and self._rate_limited(request.merchant, now)
        load = Load(False, brownout_error, rate_limited) if brownout_error or rate_limited else IDLE
        return self._pay(request, buyer, u_risk, now, load, risk_reject=risk_reject)

    def busy(self) -> Reply:
        """The answer to a request that waited longer than ``queue_timeout`` for a worker."""
        return BUSY

    def pay(self, request: PayRequest, buyer: Buyer, u_risk: float, now: float, load: Load = IDLE) -> Reply:
        return self._pay(request, buyer, u_risk, now, load, risk_reject=self._phases.at(now)[2])

    def _pay(self, request: PayRequest, buyer: Buyer, u_risk: float, now: float, load: Load, *,
             risk_reject: float) -> Reply:
        ledger = self.ledger
        replay = ledger.replay(request, now)
        if replay is not None:
            return replay
        merchant = request.merchant
        decision = decide_pay(
            request, buyer, self._merchants[merchant],
            received_today=ledger.received.get(merchant, 0.0),  # ledger.received_today(merchant)
            risk_reject=risk_reject, u_risk=u_risk, password_free_limit=self._password_free_limit, load=load,
        )
        return ledger.record_pay(request, decision, now)

    def service_factor(self, now: float) -> float:
        """How much slower a worker is at ``now`` (brownout windows)."""
        return self._phases.at(now)[0]

    def _rate_limited(self, merchant: int, now: float) -> bool:
        """Token bucket per merchant: ``rate_limit`` pay requests per second, burst of one second."""
        rate = self._merchants[merchant].rate_limit
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


_PAY = Op.PAY
_QUERY = Op.QUERY
