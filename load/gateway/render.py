"""Response objects in Alipay's field names, from the shared domain's replies and trades.

Which fields each answer carries follows Alipay's response classes (alipay.md §1.3):
a paid ``alipay.trade.pay`` has the amounts, ``gmt_payment`` and ``fund_bill_list``;
10003 echoes the trade with zero paid amounts; failed bodies echo zero amounts.

Pay answers, the bulk of the traffic, are written straight to JSON text
(:func:`pay_text`), the very text ``json`` would write for :func:`pay_fields`.
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

from load.gateway.clock import ScenarioClock
from load.gateway.wire import Fields, amount_text, encode_fields, envelope, envelope_text, json_text, reply_text
from scanrush.domain.ledger import Trade
from scanrush.domain.replies import SUCCESS, TRADE_SUCCESS, WAITING, Reply

ZERO = "0.00"
_ZERO_AMOUNTS = {"buyer_pay_amount": ZERO, "invoice_amount": ZERO, "point_amount": ZERO, "receipt_amount": ZERO}
_ZERO_TAIL = "".join(f',"{name}":"{value}"' for name, value in _ZERO_AMOUNTS.items()) + "}"
"""The zero amounts and the closing brace, as JSON text."""


class BuyerIds(NamedTuple):
    """Digits, and digits and ``*``: JSON text as they are."""

    user_id: str
    logon_id: str


_new = tuple.__new__  # a NamedTuple without its Python-level __new__ (per paid answer)


def buyer_ids(serial: int | None, code: str) -> BuyerIds:
    """Alipay's ids for a buyer: ``2088…`` user id and a masked phone-number logon id.

    Shoppers of the world get ids from their serial (stable across runs); a code
    that is nobody's gets ids from a checksum of the code.
    """
    number = serial if serial is not None else 10**11 + zlib.crc32(code.encode("utf-8", "replace"))
    phone = (number * 7919 + 3_000_000_000) % 10**10  # the ten digits after a phone number's leading 1
    # "2088" and 12 digits; the phone number's first three digits, ****, its last four.  Written with
    # str() of numbers that carry the padding (100 + two digits: "1" and both), cheaper than format specs.
    user_id = str(2088 * 10**12 + number % 10**12)
    return _new(BuyerIds, (user_id, f"{100 + phone // 10**8}****{str(10**4 + phone % 10**4)[1:]}"))


def pay_fields(reply: Reply, out_trade_no: str, trade: Trade | None, buyer: BuyerIds, clock: ScenarioClock,
               *, store_name: str | None) -> Fields:
    fields = envelope(reply)
    fields["out_trade_no"] = out_trade_no
    if reply.code == SUCCESS and trade is not None:
        _paid(fields, trade, buyer, clock, "gmt_payment")
        if store_name:
            fields["store_name"] = store_name
        return fields
    if reply.code == WAITING and trade is not None:
        _trade_echo(fields, trade, buyer)
    fields.update(_ZERO_AMOUNTS)
    return fields


def pay_text(reply: Reply, out_trade_no: str, trade: Trade | None, buyer: BuyerIds | None, clock: ScenarioClock,
             *, store_name: str | None) -> str:
    """``encode_fields(pay_fields(...))``, written directly (``buyer`` may be None without a trade)."""
    code = reply.code
    if trade is None or code not in (SUCCESS, WAITING):
        return f"{reply_text(reply)},\"out_trade_no\":{json_text(out_trade_no)}{_ZERO_TAIL}"
    assert buyer is not None, "the buyer's ids come with the trade"
    if (reply.trade_no is None or reply.trade_status is not None or reply.action is not None
            or reply.retry_flag is not None):
        # not a shape the ledger's pay replies take: the general way
        return encode_fields(pay_fields(reply, out_trade_no, trade, buyer, clock, store_name=store_name))
    # The envelope's trade_no (the trade's own, as _trade_echo writes it), then the order of pay_fields.
    # Amounts (%.2f), the buyer's ids and Alipay times (digits) need no escaping; the rest is escaped.
    total = amount_text(trade.amount)
    echo = (f'{envelope_text(code, reply.sub_code, reply.sub_msg)},"trade_no":{json_text(trade.trade_no)},'
            f'"out_trade_no":{json_text(out_trade_no)},"buyer_logon_id":"{buyer.logon_id}",'
            f'"buyer_user_id":"{buyer.user_id}","total_amount":"{total}"')
    if code == WAITING:
        return echo + _ZERO_TAIL
    paid_at = trade.confirm_at if trade.confirm_at is not None else trade.created_at
    text = (f'{echo},"receipt_amount":"{total}","buyer_pay_amount":"{total}","invoice_amount":"{total}",'
            f'"point_amount":"{ZERO}","gmt_payment":"{clock.alipay(paid_at)}",'
            f'"fund_bill_list":[{{"fund_channel":{json_text(trade.channel or "")},"amount":"{total}"}}]')
    return f'{text},"store_name":{json_text(store_name)}}}' if store_name else text + "}"


def query_fields(reply: Reply, out_trade_no: str | None, trade: Trade | None, buyer: BuyerIds | None,
                 clock: ScenarioClock) -> Fields:
    fields = envelope(reply)
    if out_trade_no:
        fields["out_trade_no"] = out_trade_no
    if reply.code != SUCCESS or trade is None or buyer is None:
        return fields
    if reply.trade_status == TRADE_SUCCESS:
        _paid(fields, trade, buyer, clock, "send_pay_date")
    else:
        _trade_echo(fields, trade, buyer)
        fields.update(_ZERO_AMOUNTS)
    return fields


def cancel_fields(reply: Reply, out_trade_no: str | None, clock: ScenarioClock, now: float) -> Fields:
    fields = envelope(reply)
    if out_trade_no:
        fields["out_trade_no"] = out_trade_no
    if reply.action == "refund":
        fields["gmt_refund_pay"] = clock.alipay(now)
    return fields


def refund_fields(reply: Reply, trade: Trade, buyer: BuyerIds, clock: ScenarioClock, now: float,
                  *, fund_change: bool) -> Fields:
    fields = envelope(reply)
    fields.update(out_trade_no=trade.out_trade_no, buyer_logon_id=buyer.logon_id, buyer_user_id=buyer.user_id,
                  fund_change="Y" if fund_change else "N", refund_fee=amount_text(trade.amount),
                  gmt_refund_pay=clock.alipay(now))
    return fields


def _trade_echo(fields: Fields, trade: Trade, buyer: BuyerIds) -> None:
    fields.update(trade_no=trade.trade_no, buyer_logon_id=buyer.logon_id, buyer_user_id=buyer.user_id,
                  total_amount=amount_text(trade.amount))


def _paid(fields: Fields, trade: Trade, buyer: BuyerIds, clock: ScenarioClock, date_field: str) -> None:
    total = amount_text(trade.amount)
    _trade_echo(fields, trade, buyer)
    paid_at = trade.confirm_at if trade.confirm_at is not None else trade.created_at
    fields.update(receipt_amount=total, buyer_pay_amount=total, invoice_amount=total, point_amount=ZERO)
    fields[date_field] = clock.alipay(paid_at)
    fields["fund_bill_list"] = [{"fund_channel": trade.channel or "", "amount": total}]
