"""Response objects in Alipay's field names, from the shared domain's replies and trades.

Which fields each answer carries follows Alipay's response classes (alipay.md §1.3):
a paid ``alipay.trade.pay`` has the amounts, ``gmt_payment`` and ``fund_bill_list``;
10003 echoes the trade with zero paid amounts; failed bodies echo zero amounts.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from load.gateway.clock import ScenarioClock
from load.gateway.wire import Fields, amount_text, envelope
from scanrush.domain.ledger import Trade
from scanrush.domain.replies import SUCCESS, TRADE_SUCCESS, WAITING, Reply

ZERO = "0.00"
_ZERO_AMOUNTS = {"buyer_pay_amount": ZERO, "invoice_amount": ZERO, "point_amount": ZERO, "receipt_amount": ZERO}


@dataclass(frozen=True, slots=True)
class BuyerIds:
    user_id: str
    logon_id: str


def buyer_ids(serial: int | None, code: str) -> BuyerIds:
    """Alipay's ids for a buyer: ``2088…`` user id and a masked phone-number logon id.

    Shoppers of the world get ids from their serial (stable across runs); a code
    that is nobody's gets ids from a checksum of the code.
    """
    number = serial if serial is not None else 10**11 + zlib.crc32(code.encode("utf-8", "replace"))
    phone = f"1{(number * 7919 + 3_000_000_000) % 10**10:010d}"
    return BuyerIds(user_id=f"2088{number % 10**12:012d}", logon_id=f"{phone[:3]}****{phone[-4:]}")


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
