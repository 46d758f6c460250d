"""The stub's business side: HTTP-free, one method per Alipay API, every answer from the shared domain.

``prepare`` runs before a worker is taken (the gateway checks parameters and
finds the buyer up front); the :data:`Job` it returns runs on a worker at scenario
time ``now``.  Pay, query and cancel are ``GatewayCore.handle`` — the very object
the simulator's gateway wraps.  Refund and close are not in the terminal's
protocol; they are thin compositions of the core's ledger (query, then cancel).

Buyers are the world's shoppers, recognised by their payment code
(:meth:`load.world.LiveWorld.owner_of`).  A code that is nobody's (made up, or
garbled into another valid-looking code) belongs to :data:`UNKNOWN_BUYER`: no
Huabei and nothing to fall back to, so Alipay finds no payment instrument.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from load.gateway import render
from load.gateway.clock import ScenarioClock
from load.gateway.parse import PayArgs, TradeRef, parse_pay, parse_ref, parse_refund
from load.gateway.wire import CANCEL, CLOSE, PAY, QUERY, REFUND, Fields, encode_fields, envelope
from load.world import CodeOwner, GatewayStreams, LiveWorld, store_id
from scanrush.domain.gateway import BuyerProfile, PayRequest
from scanrush.domain.ledger import REFUNDED, Trade
from scanrush.domain.platform import GatewayCore
from scanrush.domain.replies import FAILED, SUCCESS, TRADE_SUCCESS, WAIT_BUYER_PAY, Reply
from scanrush.domain.shoppers import Shopper
from scanrush.domain.terminal import Op

UNKNOWN_BUYER = BuyerProfile(huabei_opened=False, frozen=False, available_credit=0.0, has_fallback=False,
                             confirm_time=None)
"""The buyer behind a code no shopper was shown."""
NOT_EXIST = Reply(FAILED, "ACQ.TRADE_NOT_EXIST", "trade does not exist")


class Answer(NamedTuple):
    reply: Reply
    text: str
    """The ``*_response`` object as JSON text (``encode_fields`` of its fields)."""


Job = Callable[[float], Answer]


class Business:
    def __init__(self, live: LiveWorld, clock: ScenarioClock) -> None:
        self.live = live
        self.clock = clock
        merchants = range(len(live.world.merchants))
        self._stores = {store_id(merchant): merchant for merchant in merchants}
        """``store_id`` text -> merchant: ``live.merchant_of_store`` as a table."""
        self._store_names = [self._store_name(merchant) for merchant in merchants]
        service_time = live.scenario.gateway.service_time
        self.instant = service_time.fixed is not None and float(service_time.fixed) == 0.0
        """Workers take no time at all (the service time is a fixed 0, brownouts or not), and draw none."""
        self._ids: dict[int, render.BuyerIds] = {}
        """Shopper serial -> Alipay's ids for them (world data, filled in as shoppers pay)."""
        self.reset()

    def reset(self) -> None:
        """Forget every trade and start the gateway's streams over (the world stays)."""
        self.streams: GatewayStreams = self.live.streams()
        self.core = GatewayCore(self.live.scenario, self.live.world, self.streams.uniform)
        self._trade_nos: dict[str, str] = {}
        """trade_no -> out_trade_no, for queries and cancels by Alipay's trade number."""

    def service_time(self, now: float) -> float:
        """Scenario seconds a worker spends on a request at ``now`` (brownouts slow it)."""
        return self.streams.service_time() * self.core.service_factor(now)

    def busy(self, biz: Mapping[str, Any]) -> Answer:
        """The answer to a request that waited too long for a worker (20000, outcome unknown)."""
        reply = self.core.busy()
        fields = envelope(reply)
        out_trade_no = biz.get("out_trade_no")
        if isinstance(out_trade_no, str):
            fields["out_trade_no"] = out_trade_no
        return Answer(reply, encode_fields(fields))

    def prepare(self, method: str, biz: Mapping[str, Any]) -> Job:
        """Check ``biz_content`` for ``method`` (raises ``Rejected``) and return the work to do."""
        if method == PAY:
            return self._pay(parse_pay(biz))
        if method == REFUND:
            args = parse_refund(biz)
            return lambda now: self._refund(args.ref, args.amount, now)
        ref = parse_ref(biz)
        handlers = {QUERY: self._query, CANCEL: self._cancel, CLOSE: self._close}
        handler = handlers[method]
        return lambda now: handler(ref, now)

    # ------------------------------------------------------------------ pay

    def _pay(self, args: PayArgs) -> Job:
        out_trade_no, auth_code, amount, subject, store, terminal_id = args
        if terminal_id is None:  # the usual request: a store_id and no terminal_id
            terminal = -1
            merchant = self._stores.get(store) if store is not None else None
            store_valid = merchant is not None
            if merchant is None:
                merchant = 0
        else:
            index = _index(terminal_id, len(self.live.world.terminals))
            merchant, store_valid = self._merchant(store, index)
            terminal = -1 if index is None else index
        request = _new(PayRequest, (out_trade_no, auth_code, amount, merchant, terminal, store_valid, subject))
        owner = self.live.claimed_owner(auth_code)  # decide_pay rejects a code failing its check digit
        store_name = self._store_names[merchant] if store_valid else None
        core = self.core
        if owner is None:
            buyer: BuyerProfile | Shopper = UNKNOWN_BUYER
            first_risk = None
        else:
            buyer = owner.shopper
            # the shopper's own draw on their first code, as in the simulator; a fresh one otherwise
            first_risk = buyer.u_risk if owner.attempt == 0 else None

        def job(now: float) -> Answer:
            # drawn when the job runs: the retry stream's draws follow the order workers serve requests in
            u_risk = self.streams.retry_risk() if first_risk is None else first_risk
            reply = core.handle(_PAY, request, buyer, u_risk, now)
            trade = core.ledger.trades.get(out_trade_no) if reply.trade_no else None
            ids = None
            if trade is not None:
                self._trade_nos[trade.trade_no] = trade.out_trade_no
                ids = self._buyer_ids(owner, auth_code)
            return _new(Answer, (reply, render.pay_text(reply, out_trade_no, trade, ids, self.clock,
                                                        store_name=store_name)))

        return job

    def _buyer_ids(self, owner: CodeOwner | None, code: str) -> render.BuyerIds:
        """``render.buyer_ids`` of the code's owner; a shopper's are made once (they depend on the serial only)."""
        if owner is None:
            return render.buyer_ids(None, code)
        serial = owner.shopper.serial
        ids = self._ids.get(serial)
        if ids is None:
            ids = self._ids[serial] = render.buyer_ids(serial, code)
        return ids

    def _merchant(self, store: str | None, terminal: int | None) -> tuple[int, bool]:
        """(merchant, store_id valid): the store named by ``store_id``, else the terminal's store.

        A request naming no valid store is still charged to the terminal's store
        (if ``terminal_id`` names one) for rate limiting, as the simulator does.
        """
        fallback = self.live.world.terminals[terminal].merchant if terminal is not None else None
        if store is None:
            return (fallback, True) if fallback is not None else (0, False)
        merchant = self._stores.get(store)
        if merchant is None:
            return (fallback if fallback is not None else 0), False
        return merchant, True

    def _store_name(self, merchant: int) -> str:
        zone = self.live.scenario.mall.zones[self.live.world.merchants[merchant].zone]
        return f"{zone.name} store {merchant}"

    # ------------------------------------------------------------------ query, cancel

    def _resolve(self, ref: TradeRef) -> str:
        """The ``out_trade_no`` a reference names; ``trade_no`` wins, as at Alipay ("" if unknown)."""
        if ref.trade_no is not None:
            return self._trade_nos.get(ref.trade_no, "")
        return ref.out_trade_no or ""

    def _trade_ids(self, trade: Trade) -> render.BuyerIds:
        return self._buyer_ids(self.live.owner_of(trade.auth_code), trade.auth_code)

    def _op(self, op: Op, out_trade_no: str, now: float) -> Reply:
        request = PayRequest(out_trade_no, "", 0.0, 0, -1)
        return self.core.handle(op, request, UNKNOWN_BUYER, 0.0, now)

    def _query(self, ref: TradeRef, now: float) -> Answer:
        out_trade_no = self._resolve(ref)
        reply = self._op(Op.QUERY, out_trade_no, now)
        trade = self.core.ledger.trades.get(out_trade_no) if reply.code == SUCCESS else None
        ids = self._trade_ids(trade) if trade is not None else None
        fields = render.query_fields(reply, out_trade_no or ref.out_trade_no, trade, ids, self.clock)
        return Answer(reply, encode_fields(fields))

    def _cancel(self, ref: TradeRef, now: float) -> Answer:
        out_trade_no = self._resolve(ref)
        reply = self._op(Op.CANCEL, out_trade_no, now)
        return Answer(reply, encode_fields(render.cancel_fields(reply, out_trade_no or ref.out_trade_no, self.clock,
                                                                now)))

    # ------------------------------------------------------------------ refund, close (ledger compositions)

    def _trade_at(self, ref: TradeRef, now: float) -> tuple[Trade | None, str | None]:
        """The trade and its public status at ``now`` (querying settles a pending confirmation)."""
        out_trade_no = self._resolve(ref)
        status = self._op(Op.QUERY, out_trade_no, now).trade_status
        return self.core.ledger.trades.get(out_trade_no) if status else None, status

    def _refund(self, ref: TradeRef, amount: float, now: float) -> Answer:
        trade, status = self._trade_at(ref, now)
        if trade is None:
            return _failed(NOT_EXIST, ref)
        if trade.status != REFUNDED and status != TRADE_SUCCESS:
            return _failed(Reply(FAILED, "ACQ.TRADE_STATUS_ERROR", "trade not paid; nothing to refund"), ref)
        if amount != trade.amount:
            return _failed(Reply(FAILED, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                                 "the stub refunds whole trades only"), ref)
        already = trade.status == REFUNDED
        if not already:
            self._op(Op.CANCEL, trade.out_trade_no, now)  # the ledger refunds a paid trade on cancel
        reply = Reply(SUCCESS, trade_no=trade.trade_no)
        return Answer(reply, encode_fields(render.refund_fields(reply, trade, self._trade_ids(trade), self.clock, now,
                                                                fund_change=not already)))

    def _close(self, ref: TradeRef, now: float) -> Answer:
        trade, status = self._trade_at(ref, now)
        if trade is None:
            return _failed(NOT_EXIST, ref)
        if status != WAIT_BUYER_PAY:
            return _failed(Reply(FAILED, "ACQ.TRADE_STATUS_ERROR", f"only unpaid trades close ({status})"), ref)
        self._op(Op.CANCEL, trade.out_trade_no, now)
        reply = Reply(SUCCESS, trade_no=trade.trade_no)
        fields = envelope(reply)
        fields["out_trade_no"] = trade.out_trade_no
        return Answer(reply, encode_fields(fields))


_new = tuple.__new__
"""A NamedTuple without its Python-level ``__new__`` (per request)."""
_PAY = Op.PAY
"""Read once: an enum member read off its class costs a ``__getattr__`` hook call (per request)."""


def _failed(reply: Reply, ref: TradeRef) -> Answer:
    fields: Fields = envelope(reply)
    if ref.out_trade_no:
        fields["out_trade_no"] = ref.out_trade_no
    return Answer(reply, encode_fields(fields))


def _index(text: str | None, size: int) -> int | None:
    """A decimal id below ``size``, or None."""
    # isdecimal, not isdigit: int() refuses digits such as "²" that are not decimal ones.
    if text is None or not text.isdecimal() or len(text) > 9:
        return None
    value = int(text)
    return value if value < size else None
