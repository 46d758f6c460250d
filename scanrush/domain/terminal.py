"""The POS terminal's payment protocol as a sans-I/O state machine.

It says what to send and how long to wait; it is fed replies, timeouts and
wake-ups.  The SimPy terminal drives it on simulated time, the Locust terminal
over real HTTP: neither re-implements it.  The flow is Alipay's F2F demo
(alipay.md §2.1) with the open docs' closed-loop rule (§2.2):

    pay ── 10000 ───────────────────────────────► paid
     │ ── 10003 ──► sleep/query × N ── paid ─────► paid
     │                    └─ still waiting ──► cancel ── ok ──► failed
     │ ── 20000 / timeout ──► query ── paid ────► paid             └─ error × M ──► unresolved
     │                         └─ not paid ──► cancel
     └─ 40004 ─────────────────────────────────► failed (cause from sub_code)
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from scanrush.domain.outcomes import Cause
from scanrush.domain.replies import (
    FAILED,
    SUCCESS,
    TRADE_CLOSED,
    WAIT_BUYER_PAY,
    WAITING,
    Reply,
    cause_of,
    is_unknown,
)
from scanrush.scenario.schema import Pos


class Op(StrEnum):
    PAY = "alipay.trade.pay"
    QUERY = "alipay.trade.query"
    CANCEL = "alipay.trade.cancel"


class Status(StrEnum):
    PAID = "paid"
    FAILED = "failed"
    UNRESOLVED = "unresolved"


class Send(NamedTuple):
    op: Op
    read_timeout: float


class Sleep(NamedTuple):
    seconds: float


class Finish(NamedTuple):
    status: Status
    cause: Cause | None = None
    fund_channel: str | None = None
    detail: str = ""


Action = Send | Sleep | Finish

_new = tuple.__new__
_PAYING, _POLLING, _CHECKING, _CANCELLING, _DONE = range(5)


class TerminalProtocol:
    """One payment attempt (one ``out_trade_no``) on one terminal."""

    __slots__ = ("_cancels_left", "_cause", "_polls_left", "_pos", "_query_on_timeout", "_state",
                 "out_trade_no", "requests")

    def __init__(self, pos: Pos, out_trade_no: str, *, query_on_timeout: bool = True) -> None:
        self._pos = pos
        self._query_on_timeout = query_on_timeout
        self.out_trade_no = out_trade_no
        self._state = _PAYING
        self._polls_left = pos.query.times
        self._cancels_left = pos.cancel.retries
        self._cause: Cause | None = None
        self.requests = 0

    # ------------------------------------------------------------------ entry points

    def start(self) -> Action:
        return self._send(_PAY)

    def on_reply(self, reply: Reply) -> Action:
        if self._state == _PAYING:
            return self._after_pay(reply)
        if self._state == _POLLING:
            return self._after_poll(reply)
        if self._state == _CHECKING:
            return self._after_check(reply)
        if self._state == _CANCELLING:
            return self._after_cancel(reply)
        raise RuntimeError("reply after the protocol finished")

    def on_timeout(self, *, connected: bool = True) -> Action:
        """No reply in time; ``connected=False`` means the request never left."""
        self._note(_NETWORK)
        if self._state == _PAYING:
            if not connected:
                return self._finish(_FAILED, "connect failed")
            if not self._query_on_timeout:
                # The outcome is unknown, but this firmware gives up without query or cancel:
                # the fix is a firmware upgrade, so that is the cause.
                self._cause = _FIRMWARE
                return self._finish(_FAILED, "timeout treated as failure")
            self._state = _CHECKING
            return self._send(_QUERY)
        if self._state == _POLLING:
            return self._next_poll()
        if self._state == _CHECKING:
            return self._start_cancel()
        if self._state == _CANCELLING:
            return self._retry_cancel()
        raise RuntimeError("timeout after the protocol finished")

    def on_wake(self) -> Action:
        if self._state == _POLLING:
            self._polls_left -= 1
            return self._send(_QUERY)
        if self._state == _CANCELLING:
            self._cancels_left -= 1
            return self._send(_CANCEL)
        raise RuntimeError("wake-up in a state that does not sleep")

    @property
    def cause(self) -> Cause | None:
        return self._cause

    # ------------------------------------------------------------------ transitions

    def _after_pay(self, reply: Reply) -> Action:
        if reply.code == SUCCESS:
            return self._finish(_PAID, channel=reply.fund_channel)
        if reply.sub_code == "ACQ.TRADE_HAS_SUCCESS":
            self._state = _CHECKING  # paid by an earlier request: learn the channel
            return self._send(_QUERY)
        if reply.code == WAITING:
            self._note(_CREDIT)  # if it never completes, the buyer did not confirm
            self._state = _POLLING
            return Sleep(self._pos.query.every)
        if is_unknown(reply):
            self._note(cause_of(reply))
            self._state = _CHECKING
            return self._send(_QUERY)
        self._note(cause_of(reply))
        return self._finish(_FAILED, reply.key)

    def _after_poll(self, reply: Reply) -> Action:
        if reply.paid:
            return self._finish(_PAID, channel=reply.fund_channel)
        if reply.trade_status == TRADE_CLOSED:
            return self._finish(_FAILED, "trade closed while waiting")
        if is_unknown(reply):
            self._note(cause_of(reply))
        return self._next_poll()

    def _after_check(self, reply: Reply) -> Action:
        if reply.paid:
            return self._finish(_PAID, channel=reply.fund_channel)
        if reply.trade_status == WAIT_BUYER_PAY:
            self._state = _POLLING
            return Sleep(self._pos.query.every)
        return self._start_cancel()

    def _after_cancel(self, reply: Reply) -> Action:
        if reply.code == SUCCESS:
            return self._finish(_FAILED, f"cancelled ({reply.action})")
        if reply.code == FAILED and reply.sub_code == "ACQ.TRADE_NOT_EXIST":
            return self._finish(_FAILED, "no trade to cancel")
        if reply.retry_flag == "Y" or is_unknown(reply):
            return self._retry_cancel()
        return self._finish(_UNRESOLVED, f"cancel refused: {reply.key}")

    # ------------------------------------------------------------------ helpers

    def _next_poll(self) -> Action:
        if self._polls_left > 0:
            return Sleep(self._pos.query.every)
        return self._start_cancel()

    def _start_cancel(self) -> Action:
        self._state = _CANCELLING
        return self._send(_CANCEL)

    def _retry_cancel(self) -> Action:
        if self._cancels_left > 0:
            return Sleep(self._pos.cancel.every)
        return self._finish(_UNRESOLVED, "cancel never confirmed")

    def _send(self, op: Op) -> Send:
        self.requests += 1
        return _new(Send, (op, self._pos.read_timeout))  # Send(op, ...) minus NamedTuple's Python __new__

    def _note(self, cause: Cause | None) -> None:
        if self._cause is None:
            self._cause = cause

    def _finish(self, status: Status, detail: str = "", channel: str | None = None) -> Finish:
        self._state = _DONE
        cause = None if status == _PAID else (self._cause or _NETWORK)
        return _new(Finish, (status, cause, channel, detail))


# Enum members as module constants: reading a member off its class goes through EnumType's
# __getattr__ hook (~0.2 us in 3.11), and these are read several times per payment attempt.
_PAY, _QUERY, _CANCEL = Op.PAY, Op.QUERY, Op.CANCEL
_PAID, _FAILED, _UNRESOLVED = Status.PAID, Status.FAILED, Status.UNRESOLVED
_NETWORK, _CREDIT, _FIRMWARE = Cause.NETWORK, Cause.CREDIT, Cause.FIRMWARE
