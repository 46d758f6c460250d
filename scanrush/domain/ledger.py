"""Trades by ``out_trade_no``: Alipay's idempotency rules, single-use codes, and the audit.

Sans-I/O and clock-free: every call is told ``now``.  A trade waiting for the
buyer resolves lazily (the buyer's confirmation time is known when the trade is
created), so the simulator needs no event for it and the live stub no timer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from scanrush.domain.gateway import Decision, PayRequest
from scanrush.domain.replies import (
    FAILED,
    SUCCESS,
    TRADE_CLOSED,
    TRADE_SUCCESS,
    WAIT_BUYER_PAY,
    WAITING,
    Reply,
)

_new = tuple.__new__
REFUNDED = "REFUNDED"
"""Internal: paid then refunded by a cancel; Alipay reports it as TRADE_CLOSED."""
LATE_WINDOW = 600.0
"""Seconds a settled checkout's trade-less attempts are watched for a late request (TCP gives up
on a connection after ~131 s; a request cannot arrive later than that)."""
TIMEOUT_EXPRESS = 300.0
"""Unpaid bar-code trades close after 5 minutes (the F2F demo's timeout_express=5m)."""
_TRADE_NO_BASE = 2026 * 10**16
_TRADE_NO_SPAN = 10**16
"""Alipay trade numbers are ``2026`` and the ledger's serial in 16 digits: ``str(_TRADE_NO_BASE + serial)``."""
_CODE_USED = Reply(FAILED, "ACQ.PAYMENT_AUTH_CODE_INVALID", "payment code already used")


class Trade:
    __slots__ = ("amount", "auth_code", "channel", "closed_at", "confirm_at", "created_at", "merchant",
                 "out_trade_no", "status", "trade_no")

    def __init__(self, request: PayRequest, trade_no: str, created_at: float, confirm_at: float | None,
                 channel: str | None) -> None:
        self.out_trade_no, self.auth_code, self.amount, self.merchant, _, _, _ = request
        self.trade_no = trade_no
        self.created_at = created_at
        self.confirm_at = confirm_at
        self.channel = channel
        self.status = TRADE_SUCCESS if confirm_at == created_at else WAIT_BUYER_PAY
        self.closed_at: float | None = None

    def status_at(self, now: float) -> str:
        """The trade's state at ``now``, settling a pending confirmation or expiry."""
        if self.status == WAIT_BUYER_PAY:
            if self.confirm_at is not None and self.confirm_at <= now:
                self.status = TRADE_SUCCESS
            elif now >= self.created_at + TIMEOUT_EXPRESS:
                self.status = TRADE_CLOSED
                self.closed_at = self.created_at + TIMEOUT_EXPRESS
        return self.status

    def eventual_status(self) -> str:
        """Where the trade ends if nobody touches it again."""
        if self.status == WAIT_BUYER_PAY:
            return TRADE_SUCCESS if self.confirm_at is not None and (
                self.confirm_at < self.created_at + TIMEOUT_EXPRESS) else TRADE_CLOSED
        return self.status


@dataclass
class Audit:
    """Closed-loop accounting of every trade (the ledger audit of the result file)."""

    trades: int = 0
    paid: int = 0
    closed: int = 0
    refunded: int = 0
    double_charges: int = 0
    one_sided: int = 0
    waiting_at_end: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Ledger:
    trades: dict[str, Trade] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)
    burned_by: dict[str, str] = field(default_factory=dict)
    """out_trade_no -> code, for requests that burned a code without creating a trade."""
    received: dict[int, float] = field(default_factory=dict)
    audit: Audit = field(default_factory=Audit)
    late_watch: dict[str, int] = field(default_factory=dict)
    """Attempts of settled checkouts that created no trade (yet) -> charges that checkout made.
    A request the terminal gave up on can still create its trade later; it is audited then."""
    _late_order: deque[tuple[float, str]] = field(default_factory=deque)
    _serial: int = 0

    def received_today(self, merchant: int) -> float:
        return self.received.get(merchant, 0.0)

    def replay(self, request: PayRequest, now: float) -> Reply | None:
        """The reply to a pay request that reuses an ``out_trade_no`` or a code, if it does."""
        trade = self.trades.get(request[0])  # request.out_trade_no (the NamedTuple's property costs a call)
        if trade is not None:
            self._status(trade, now)
            return _idempotent_reply(trade, request, now)
        if request[1] in self.used_codes:  # request.auth_code
            return _CODE_USED
        return None

    def record_pay(self, request: PayRequest, decision: Decision, now: float) -> Reply:
        """Apply a fresh pay decision taken at ``now``; returns the reply to send."""
        reply, creates_trade, confirm_in, burns_code = decision
        out_trade_no, auth_code, amount, merchant, _, _, _ = request
        if burns_code:
            self.used_codes.add(auth_code)
        if not creates_trade:
            if burns_code:
                self.burned_by[out_trade_no] = auth_code
            return reply
        self._serial += 1
        # f"2026{serial:016d}" while the serial has at most 16 digits, without the format spec's parsing
        serial = self._serial
        trade_no = str(_TRADE_NO_BASE + serial) if serial < _TRADE_NO_SPAN else f"2026{serial:016d}"
        confirm_at = None if confirm_in is None else now + confirm_in
        code, sub_code, sub_msg, _, fund_channel, _, _, _ = reply
        trade = Trade(request, trade_no, now, confirm_at, fund_channel)
        self.trades[out_trade_no] = trade
        audit = self.audit
        audit.trades += 1
        if confirm_at == now:  # trade.status == TRADE_SUCCESS: paid on the spot
            self.received[merchant] = self.received.get(merchant, 0.0) + amount  # self._credit(trade)
        if out_trade_no in self.late_watch:  # its checkout is over: audit it now
            charges = self.late_watch.pop(out_trade_no)
            self.trades.pop(out_trade_no)
            self.used_codes.discard(auth_code)
            if charges + self._audit_trade(trade, False, now) > 1:
                audit.double_charges += 1
        # Reply(code, sub_code, sub_msg, None, fund_channel, trade_no=trade_no), without the
        # NamedTuple's Python-level __new__ (this runs per trade).
        return _new(Reply, (code, sub_code, sub_msg, None, fund_channel, None, None, trade_no))

    def _credit(self, trade: Trade) -> None:
        self.received[trade.merchant] = self.received.get(trade.merchant, 0.0) + trade.amount

    def _status(self, trade: Trade, now: float) -> str:
        """``trade.status_at(now)``, crediting the merchant when a waiting trade turns out paid."""
        before = trade.status
        status = trade.status_at(now)
        if before == WAIT_BUYER_PAY and status == TRADE_SUCCESS:
            self._credit(trade)
        return status

    def query(self, out_trade_no: str, now: float) -> Reply:
        trade = self.trades.get(out_trade_no)
        if trade is None or trade.created_at > now:
            return Reply(FAILED, "ACQ.TRADE_NOT_EXIST", "trade does not exist")
        status = _public_status(self._status(trade, now))
        channel = trade.channel if status == TRADE_SUCCESS else None
        return Reply(SUCCESS, trade_status=status, fund_channel=channel, trade_no=trade.trade_no)

    def cancel(self, out_trade_no: str, now: float) -> Reply:
        """Close an unpaid trade or refund a paid one (``action`` says which)."""
        trade = self.trades.get(out_trade_no)
        if trade is None or trade.created_at > now:
            return Reply(FAILED, "ACQ.TRADE_NOT_EXIST", "trade does not exist", retry_flag="N")
        status = self._status(trade, now)
        if status == TRADE_SUCCESS:
            trade.status = REFUNDED
            trade.closed_at = now
            self.received[trade.merchant] = self.received.get(trade.merchant, 0.0) - trade.amount
            return Reply(SUCCESS, action="refund", retry_flag="N", trade_no=trade.trade_no)
        if status == WAIT_BUYER_PAY:
            trade.status = TRADE_CLOSED
            trade.closed_at = now
        action = "refund" if trade.status == REFUNDED else "close"
        return Reply(SUCCESS, action=action, retry_flag="N", trade_no=trade.trade_no)

    def settle(self, out_trade_nos: Iterable[str], acknowledged: str | None, paid_otherwise: bool,
               now: float, *, forget: bool) -> None:
        """Audit one checkout's trades when the terminal is done with them.

        ``acknowledged`` is the trade the terminal recorded as paid (if any);
        ``paid_otherwise`` means the shopper also paid another way.  With
        ``forget`` (the simulator) the trades are dropped, so memory does not
        grow with shoppers.
        """
        charges = 1 if paid_otherwise else 0
        without_trade = []
        for out_trade_no in out_trade_nos:
            if forget and out_trade_no in self.burned_by:
                self.used_codes.discard(self.burned_by.pop(out_trade_no))
            trade = self.trades.pop(out_trade_no, None) if forget else self.trades.get(out_trade_no)
            if trade is None:
                without_trade.append(out_trade_no)
                continue
            if forget:
                self.used_codes.discard(trade.auth_code)
            charges += self._audit_trade(trade, out_trade_no == acknowledged, now)
        if charges > 1:
            self.audit.double_charges += 1
        if forget:
            self._watch_late(without_trade, charges, now)

    def _watch_late(self, out_trade_nos: list[str], charges: int, now: float) -> None:
        while self._late_order and self._late_order[0][0] < now - LATE_WINDOW:
            self.late_watch.pop(self._late_order.popleft()[1], None)
        for out_trade_no in out_trade_nos:
            self.late_watch[out_trade_no] = charges
            self._late_order.append((now, out_trade_no))

    def sweep(self, now: float) -> None:
        """Audit trades no checkout settled: requests that reached the gateway after the
        terminal had given up on them (each one a trade the terminal never knew about)."""
        for out_trade_no in list(self.trades):
            self.settle([out_trade_no], None, False, now, forget=True)

    def _audit_trade(self, trade: Trade, acknowledged: bool, now: float) -> int:
        # A trade paid on the spot (most of them) is settled already: neither settling it at ``now``
        # nor asking where it ends can change or say anything but TRADE_SUCCESS.
        if trade.status == TRADE_SUCCESS:
            final = TRADE_SUCCESS
        else:
            if self._status(trade, now) == WAIT_BUYER_PAY:
                self.audit.waiting_at_end += 1
            final = trade.eventual_status()
        if final == TRADE_SUCCESS:
            self.audit.paid += 1
            if not acknowledged:
                self.audit.one_sided += 1
            return 1
        if final == REFUNDED:
            self.audit.refunded += 1
        else:
            self.audit.closed += 1
        return 0


def _public_status(status: str) -> str:
    return TRADE_CLOSED if status == REFUNDED else status


def _idempotent_reply(trade: Trade, request: PayRequest, now: float) -> Reply:
    """Alipay's answers to a repeated ``out_trade_no`` (alipay.md §7)."""
    if trade.amount != request.amount:
        return Reply(FAILED, "ACQ.CONTEXT_INCONSISTENT", "order number duplicated; cancel and collect again")
    if trade.auth_code != request.auth_code:
        return Reply(FAILED, "ACQ.TRADE_BUYER_NOT_MATCH", "trade exists for another buyer")
    status = trade.status_at(now)
    if status == WAIT_BUYER_PAY:
        return Reply(WAITING, trade_no=trade.trade_no)
    if status == TRADE_SUCCESS:
        return Reply(FAILED, "ACQ.TRADE_HAS_SUCCESS", "trade already paid", trade_no=trade.trade_no)
    return Reply(FAILED, "ACQ.TRADE_HAS_CLOSE", "trade closed", trade_no=trade.trade_no)
