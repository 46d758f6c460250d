"""Idempotency, single-use codes, cancel (close vs refund), the confirm/cancel race, refund and close."""

from __future__ import annotations

import pytest
from harness import Harness

pytestmark = pytest.mark.live

START = 600.0
"""The frozen clock starts at the live window's start, 10m."""


def waiting_trade(stub: Harness, out_trade_no: str = "T1", serial_skip: int = 0) -> str:
    """A 10003 trade (above the 500 password-free limit; the buyer confirms after 29 s); returns its code."""
    shopper = stub.shoppers(count=serial_skip + 1)[-1]
    code = shopper.code(0)
    assert stub.pay(out_trade_no, code, 600.0).code == "10003"
    return code


def test_repeating_a_pending_pay_is_10003_without_sub_code(stub: Harness) -> None:
    code = waiting_trade(stub)
    again = stub.pay("T1", code, 600.0)
    assert (again.code, again.sub_code) == ("10003", None)


def test_repeating_a_paid_pay_says_trade_has_success(stub: Harness) -> None:
    code = stub.shoppers()[0].code(0)
    first = stub.pay("T1", code, 88.0)
    again = stub.pay("T1", code, 88.0)
    assert again.key == "40004:ACQ.TRADE_HAS_SUCCESS"
    assert again.trade_no == first.trade_no


def test_same_order_number_other_amount_is_context_inconsistent(stub: Harness) -> None:
    code = stub.shoppers()[0].code(0)
    stub.pay("T1", code, 88.0)
    assert stub.pay("T1", code, 99.0).key == "40004:ACQ.CONTEXT_INCONSISTENT"


def test_same_order_number_other_buyer_is_buyer_not_match(stub: Harness) -> None:
    first, second = stub.shoppers(count=2)
    stub.pay("T1", first.code(0), 88.0)
    assert stub.pay("T1", second.code(0), 88.0).key == "40004:ACQ.TRADE_BUYER_NOT_MATCH"


def test_paying_a_cancelled_order_again_says_trade_has_close(stub: Harness) -> None:
    code = waiting_trade(stub)
    assert stub.cancel("T1").action == "close"
    assert stub.pay("T1", code, 600.0).key == "40004:ACQ.TRADE_HAS_CLOSE"


def test_a_code_pays_once_even_when_the_attempt_failed(stub: Harness) -> None:
    shopper = stub.shoppers(where=lambda s: not s.has_fallback)[0]
    assert stub.pay("T1", shopper.code(0), 6000.0).code == "40004"  # over the limit, code burnt anyway
    assert stub.pay("T2", shopper.code(0), 88.0).key == "40004:ACQ.PAYMENT_AUTH_CODE_INVALID"
    assert stub.pay("T3", shopper.code(1), 88.0).code == "10000"  # the refreshed code works


def test_cancel_closes_an_unpaid_trade_and_refunds_a_paid_one(stub: Harness) -> None:
    waiting_trade(stub, "T1")
    closed = stub.cancel("T1")
    assert (closed.code, closed.action, closed.retry_flag) == ("10000", "close", "N")
    stub.pay("T2", stub.shoppers(count=2)[1].code(0), 88.0)
    refunded = stub.cancel("T2")
    assert (refunded.code, refunded.action) == ("10000", "refund")
    assert stub.query("T2").trade_status == "TRADE_CLOSED"
    assert stub.cancel("T9").key == "40004:ACQ.TRADE_NOT_EXIST"


def test_buyer_confirms_at_29s_and_the_pos_cancels_at_30s_refunds(stub: Harness) -> None:
    waiting_trade(stub)
    stub.at(START + 28.0)
    assert stub.query("T1").trade_status == "WAIT_BUYER_PAY"
    stub.at(START + 30.0)
    assert stub.cancel("T1").action == "refund"
    assert stub.query("T1").trade_status == "TRADE_CLOSED"
    assert stub.ledger(settle=True)["audit"]["refunded"] == 1


def test_pos_cancels_at_28s_before_the_buyer_confirms_and_the_confirmation_is_lost(stub: Harness) -> None:
    waiting_trade(stub)
    stub.at(START + 28.0)
    assert stub.cancel("T1").action == "close"
    stub.at(START + 31.0)
    assert stub.query("T1").trade_status == "TRADE_CLOSED"
    audit = stub.ledger(settle=True)["audit"]
    assert (audit["closed"], audit["paid"]) == (1, 0)


def test_query_by_trade_no(stub: Harness) -> None:
    trade_no = stub.pay("T1", stub.shoppers()[0].code(0), 88.0).trade_no
    response = stub.call("alipay.trade.query", {"trade_no": trade_no})
    assert (response.fields["out_trade_no"], response.reply.trade_status) == ("T1", "TRADE_SUCCESS")


def test_refund_returns_a_paid_trade_once(stub: Harness) -> None:
    stub.pay("T1", stub.shoppers()[0].code(0), 88.0)
    assert stub.call("alipay.trade.refund", {"out_trade_no": "T1", "refund_amount": "50.00"}).reply.sub_code == (
        "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
    first = stub.call("alipay.trade.refund", {"out_trade_no": "T1", "refund_amount": "88.00"})
    assert (first.reply.code, first.fields["fund_change"], first.fields["refund_fee"]) == ("10000", "Y", "88.00")
    again = stub.call("alipay.trade.refund", {"out_trade_no": "T1", "refund_amount": "88.00"})
    assert (again.reply.code, again.fields["fund_change"]) == ("10000", "N")
    assert stub.query("T1").trade_status == "TRADE_CLOSED"


def test_refund_of_an_unpaid_trade_is_refused(stub: Harness) -> None:
    waiting_trade(stub)
    reply = stub.call("alipay.trade.refund", {"out_trade_no": "T1", "refund_amount": "600.00"}).reply
    assert reply.key == "40004:ACQ.TRADE_STATUS_ERROR"


def test_close_only_closes_a_waiting_trade(stub: Harness) -> None:
    waiting_trade(stub)
    assert stub.call("alipay.trade.close", {"out_trade_no": "T1"}).reply.code == "10000"
    assert stub.query("T1").trade_status == "TRADE_CLOSED"
    assert stub.call("alipay.trade.close", {"out_trade_no": "T1"}).reply.key == "40004:ACQ.TRADE_STATUS_ERROR"
    assert stub.call("alipay.trade.close", {"out_trade_no": "T7"}).reply.key == "40004:ACQ.TRADE_NOT_EXIST"
