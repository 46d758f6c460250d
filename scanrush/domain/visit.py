"""A shopper's visit to a till, from the first scanned item to the last word on the payment.

Written once, sans-I/O, as a generator: it yields what must happen — ``Wait``
(time passes at the till) or ``Exchange`` (one request to the gateway and its
reply) — and is sent back the reply (or :class:`TimedOut`).  The SimPy till
drives it on simulated time, the Locust till over real HTTP, so the checkout
flow, the retries and the cause attribution are identical in both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from scanrush.domain.checkout import Choice, after_failure, fallback_cause, is_huabei
from scanrush.domain.codes import accepts, garble
from scanrush.domain.gateway import PayRequest
from scanrush.domain.outcomes import Cause, Outcome
from scanrush.domain.replies import Reply
from scanrush.domain.shoppers import Shopper
from scanrush.domain.terminal import Finish, Op, Send, Status, TerminalProtocol
from scanrush.domain.world import Merchant
from scanrush.scenario.schema import Firmware, OnFailure, Pos


class Wait(NamedTuple):
    seconds: float
    protocol_timer: bool = False
    """True for the terminal's own timers (poll/cancel intervals): never time-compressed live."""


class Exchange(NamedTuple):
    op: Op
    request: PayRequest
    u_risk: float
    read_timeout: float


class TimedOut(NamedTuple):
    """No reply in time; ``connected=False``: the request never left (connect failed)."""

    connected: bool


Step = Wait | Exchange
Answer = Reply | TimedOut | None


@dataclass(slots=True)
class Visit:
    outcome: Outcome
    cause: Cause | None
    trades: list[str] = field(default_factory=list)
    acknowledged: str | None = None
    """The trade the terminal recorded as paid."""
    paid_otherwise: bool = False
    """The shopper also (or only) paid another way: counts as a charge in the ledger audit."""


class Observer(Protocol):
    def attempt(self, key: str) -> None: ...
    def payment_latency(self, seconds: float) -> None: ...
    def retry(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Till:
    """What a visit needs to know about the till it happens at."""

    terminal: int
    merchant: Merchant
    firmware: Firmware
    pos: Pos
    on_failure: OnFailure
    tag: str
    """Makes ``out_trade_no`` unique per run (replication or live run)."""
    _shapes: dict[tuple[int, int], bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    def reads(self, prefix: int, length: int) -> bool:
        """``accepts(firmware.accepts, prefix, length)``, remembered per code shape (a handful per run)."""
        shape = (prefix, length)
        known = self._shapes.get(shape)
        if known is None:
            known = self._shapes[shape] = accepts(self.firmware.accepts, prefix, length)
        return known


_OP_LABEL = {Op.PAY: "pay:", Op.QUERY: "query:", Op.CANCEL: "cancel:"}


PAID_DIRECTLY = Visit(Outcome.PAID_OTHER, None, paid_otherwise=True)
"""How every visit of a shopper who never tries Huabei ends (shared: never mutated)."""


def direct_payment(shopper: Shopper) -> float | None:
    """Seconds at the till of a shopper who pays another way from the start; None if they try Huabei.

    Drivers may short-cut such a visit (half the shoppers) to one wait ending in
    :data:`PAID_DIRECTLY`: exactly what :func:`visit` does for them.
    """
    return None if shopper.wants_huabei else shopper.checkout_time + shopper.other_time


def visit(shopper: Shopper, till: Till, draw: Callable[[], float], observer: Observer,
          now: Callable[[], float]) -> Generator[Step, Answer, Visit]:
    """The whole visit; ``draw`` supplies uniforms for decisions after the first attempt."""
    direct = direct_payment(shopper)
    if direct is not None:
        yield Wait(direct)
        return PAID_DIRECTLY
    yield _new(Wait, (shopper.checkout_time + shopper.scan_time, False))  # Wait(...), minus NamedTuple.__new__
    attempt = 0
    first_cause: Cause | None = None
    trades: list[str] = []
    while True:
        finish = yield from _attempt(shopper, till, attempt, trades=trades, draw=draw, observer=observer, now=now)
        if finish.status is _PAID:
            if is_huabei(finish.fund_channel):
                return Visit(_PAID_HUABEI, None, trades, trades[-1])
            cause = first_cause or fallback_cause(till.merchant)
            return Visit(_PAID_OTHER_AFTER_FAILURE, cause, trades, trades[-1])
        first_cause = first_cause or finish.cause
        if finish.status is _UNRESOLVED:
            yield Wait(shopper.other_time)  # the cashier asks for another way to pay
            return Visit(_OUTCOME_UNRESOLVED, first_cause, trades, None, paid_otherwise=True)
        u = shopper.u_after_failure if attempt == 0 else draw()
        choice = after_failure(till.on_failure, u, attempt)
        if choice is _RETRY_NEW_CODE:
            attempt += 1
            observer.retry()
            yield Wait(shopper.scan_time)
            continue
        if choice is _OTHER_METHOD:
            yield Wait(shopper.other_time)
            return Visit(_PAID_OTHER_AFTER_FAILURE, first_cause, trades, None, paid_otherwise=True)
        return Visit(_LEFT_UNPAID, first_cause, trades)


def _attempt(shopper: Shopper, till: Till, attempt: int, *, trades: list[str], draw: Callable[[], float],
             observer: Observer, now: Callable[[], float]) -> Generator[Step, Answer, Finish]:
    """One Huabei attempt: the firmware parses the code, then the POS protocol runs."""
    firmware = till.firmware
    if not till.reads(shopper.code_prefix, shopper.code_length):
        observer.attempt("firmware_reject")
        yield Wait(shopper.scan_time)  # the cashier rescans before giving up
        return Finish(_FAILED, _FIRMWARE, None, "code format not supported by firmware")
    first = attempt == 0
    misread = (shopper.u_misread if first else draw()) < firmware.misread
    bad_request = (shopper.u_bad_request if first else draw()) < firmware.bad_request
    u_risk = shopper.u_risk if first else draw()
    code = shopper.code(attempt)
    out_trade_no = f"T{till.terminal}S{shopper.serial}A{attempt}{till.tag}"
    # PayRequest(out_trade_no, code, basket, merchant, terminal, store_id_valid=...) without the
    # NamedTuple's Python-level __new__ (likewise Exchange below): this runs per attempt.
    request = _new(PayRequest, (out_trade_no, garble(code) if misread else code, shopper.basket,
                                till.merchant.id, till.terminal, not bad_request, _SUBJECT))
    trades.append(out_trade_no)
    protocol = TerminalProtocol(till.pos, out_trade_no, query_on_timeout=firmware.query_on_timeout)
    action = protocol.start()
    while True:
        if isinstance(action, Send):
            op = action.op
            sent = now()
            answer = yield _new(Exchange, (op, request, u_risk, action.read_timeout))
            if op is _PAY:
                observer.payment_latency(now() - sent)
            label = _OP_LABEL[op]
            if isinstance(answer, Reply):
                observer.attempt(label + answer.key)
                action = protocol.on_reply(answer)
            else:
                connected = answer.connected if answer is not None else True
                observer.attempt(label + ("timeout" if connected else "connect_failed"))
                action = protocol.on_timeout(connected=connected)
        elif isinstance(action, Finish):
            return action
        else:
            yield Wait(action.seconds, protocol_timer=True)
            action = protocol.on_wake()


_new = tuple.__new__
_SUBJECT: str = PayRequest._field_defaults["subject"]
_PAY = Op.PAY
# Enum members as module constants: reading a member off its class goes through EnumType's
# __getattr__ hook (~0.2 us in 3.11), and visits read them per attempt.
_PAID, _FAILED, _UNRESOLVED = Status.PAID, Status.FAILED, Status.UNRESOLVED
_PAID_HUABEI, _PAID_OTHER_AFTER_FAILURE = Outcome.PAID_HUABEI, Outcome.PAID_OTHER_AFTER_FAILURE
_OUTCOME_UNRESOLVED, _LEFT_UNPAID = Outcome.UNRESOLVED, Outcome.LEFT_UNPAID
_RETRY_NEW_CODE, _OTHER_METHOD = Choice.RETRY_NEW_CODE, Choice.OTHER_METHOD
_FIRMWARE = Cause.FIRMWARE
