"""Random interleavings of pay, query, cancel, duplicate pay and waiting for the buyer, over HTTP.

The machine plays disciplined tills (a new attempt only after the previous one
was declined or cancelled, a closing cancel for anything not known paid) against
the stub, and checks the ledger after every step and at the end: nobody is
charged twice for one checkout, nothing cancelled is left waiting for the buyer,
and every trade ends closed-loop (paid and acknowledged, closed, or refunded).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from harness import Harness, scenario
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

pytestmark = pytest.mark.live

OPEN, PAID, CLOSED = "open", "paid", "closed"
START = 600.0
_server: list[Harness] = []


def server() -> Harness:
    if not _server:
        _server.append(Harness(scenario()))
    return _server[0]


@pytest.fixture(scope="module", autouse=True)
def _close_server() -> Iterator[None]:
    yield
    while _server:
        _server.pop().close()


@dataclass
class Attempt:
    out_trade_no: str
    code: str
    state: str = OPEN
    trade: bool = True
    """False once the gateway said no trade was created (declined)."""


@dataclass
class Checkout:
    serial: int
    amount: float
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def current(self) -> Attempt:
        return self.attempts[-1]


class TillsAgainstTheStub(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.stub = server()
        self.checkouts: list[Checkout] = []
        self.now = START

    @initialize()
    def fresh_gateway(self) -> None:
        assert self.stub.post_json("/control/reset", {})[0] == 200
        self.stub.at(START)

    # ------------------------------------------------------------------ rules

    @rule(amount=st.sampled_from([88.0, 600.0, 7000.0]))
    def start_checkout(self, amount: float) -> None:
        checkout = Checkout(serial=len(self.checkouts), amount=amount)
        self.checkouts.append(checkout)
        self._pay_new_attempt(checkout)

    @precondition(lambda self: self.checkouts)
    @rule(pick=st.integers(0, 999))
    def duplicate_pay(self, pick: int) -> None:
        checkout = self._pick(pick)
        attempt = checkout.current
        reply = self.stub.pay(attempt.out_trade_no, attempt.code, checkout.amount)
        assert reply.code != "10000", "a repeated pay must never charge again"
        if not attempt.trade:
            assert reply.sub_code == "ACQ.PAYMENT_AUTH_CODE_INVALID"  # the code was burnt by the decline
        elif reply.code == "10003":
            assert reply.sub_code is None
            assert attempt.state == OPEN
        else:
            assert reply.sub_code in ("ACQ.TRADE_HAS_SUCCESS", "ACQ.TRADE_HAS_CLOSE")

    @precondition(lambda self: self.checkouts)
    @rule(pick=st.integers(0, 999))
    def query(self, pick: int) -> None:
        attempt = self._pick(pick).current
        reply = self.stub.query(attempt.out_trade_no)
        if not attempt.trade:
            assert reply.sub_code == "ACQ.TRADE_NOT_EXIST"
        elif attempt.state == CLOSED:
            assert reply.trade_status == "TRADE_CLOSED"
        elif reply.trade_status == "TRADE_SUCCESS":
            attempt.state = PAID
        elif reply.trade_status == "TRADE_CLOSED":
            attempt.state = CLOSED  # the buyer never confirmed within timeout_express

    @precondition(lambda self: self.checkouts)
    @rule(pick=st.integers(0, 999))
    def cancel(self, pick: int) -> None:
        attempt = self._pick(pick).current
        reply = self.stub.cancel(attempt.out_trade_no)
        if not attempt.trade:
            assert reply.sub_code == "ACQ.TRADE_NOT_EXIST"
            return
        assert reply.code == "10000"
        assert reply.action in ("close", "refund")
        attempt.state = CLOSED
        assert self.stub.query(attempt.out_trade_no).trade_status == "TRADE_CLOSED"

    @precondition(lambda self: any(c.current.state == CLOSED and len(c.attempts) < 16 for c in self.checkouts))
    @rule(pick=st.integers(0, 999))
    def retry_with_a_new_code(self, pick: int) -> None:
        candidates = [c for c in self.checkouts if c.current.state == CLOSED and len(c.attempts) < 16]
        self._pay_new_attempt(candidates[pick % len(candidates)])

    @rule(seconds=st.sampled_from([1.0, 10.0, 28.0, 30.0, 120.0]))
    def wait_for_the_buyer(self, seconds: float) -> None:
        self.now += seconds
        self.stub.at(self.now)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def nobody_charged_twice_and_nothing_cancelled_waits(self) -> None:
        view = self.stub.ledger()
        assert view["double_charged_buyers"] == {}
        cancelled = {a.out_trade_no for c in self.checkouts for a in c.attempts if a.state == CLOSED}
        assert not cancelled & set(view["waiting"])

    def teardown(self) -> None:
        if not self.checkouts:
            return
        for checkout in self.checkouts:  # each till closes its loop: paid, or cancelled
            attempt = checkout.current
            if attempt.trade and attempt.state == OPEN:
                if self.stub.query(attempt.out_trade_no).trade_status == "TRADE_SUCCESS":
                    attempt.state = PAID
                else:
                    self.cancel(self.checkouts.index(checkout))
        reports = [{"trades": [a.out_trade_no for a in c.attempts],
                    "acknowledged": next((a.out_trade_no for a in c.attempts if a.state == PAID), None)}
                   for c in self.checkouts]
        status, view = self.stub.post_json("/control/ledger", {"checkouts": reports})
        assert status == 200
        audit = view["audit"]
        assert audit["double_charges"] == 0
        assert audit["one_sided"] == 0
        assert audit["waiting_at_end"] == 0
        assert audit["trades"] == audit["paid"] + audit["closed"] + audit["refunded"]
        assert audit["paid"] == sum(a.state == PAID for c in self.checkouts for a in c.attempts)

    # ------------------------------------------------------------------ helpers

    def _pick(self, pick: int) -> Checkout:
        return self.checkouts[pick % len(self.checkouts)]

    def _pay_new_attempt(self, checkout: Checkout) -> None:
        shopper = self.stub.live.shopper(checkout.serial)
        assert shopper is not None
        number = len(checkout.attempts)
        attempt = Attempt(out_trade_no=f"S{checkout.serial}A{number}", code=shopper.code(number))
        checkout.attempts.append(attempt)
        reply = self.stub.pay(attempt.out_trade_no, attempt.code, checkout.amount)
        if reply.code == "10000":
            attempt.state = PAID
        elif reply.code == "40004":
            attempt.state, attempt.trade = CLOSED, False
        else:
            assert reply.code == "10003", reply


TillsAgainstTheStub.TestCase.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestTillsAgainstTheStub = TillsAgainstTheStub.TestCase
