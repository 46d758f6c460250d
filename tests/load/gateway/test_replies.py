"""Every reply path of alipay.trade.pay over real HTTP: paid, fallback, waiting, declined, busy."""

from __future__ import annotations

import threading
import time

import pytest
from harness import NO_HUABEI_STORE, UNQUALIFIED_STORE, Harness, StubFactory, options

from scanrush.domain.codes import garble

pytestmark = pytest.mark.live


def test_paid_with_huabei(stub: Harness) -> None:
    shopper = stub.shoppers()[0]
    reply = stub.pay("T1", shopper.code(0), 88.0)
    assert (reply.code, reply.sub_code, reply.fund_channel) == ("10000", None, "PCREDIT")
    assert reply.trade_no is not None
    assert reply.paid


def test_merchant_without_huabei_falls_back_to_the_buyers_balance(stub: Harness) -> None:
    shopper = stub.shoppers(where=lambda s: s.has_fallback)[0]
    reply = stub.pay("T1", shopper.code(0), 88.0, store_id=NO_HUABEI_STORE)
    assert (reply.code, reply.fund_channel) == ("10000", "ALIPAYACCOUNT")


def test_no_fallback_at_a_merchant_without_huabei_is_declined(stub: Harness) -> None:
    shopper = stub.shoppers(where=lambda s: not s.has_fallback)[0]
    reply = stub.pay("T1", shopper.code(0), 88.0, store_id=NO_HUABEI_STORE)
    assert reply.key == "40004:ACQ.NO_PAYMENT_INSTRUMENTS_AVAILABLE"


def test_limit_exhausted_without_fallback_is_a_credit_decline(stub: Harness) -> None:
    shopper = stub.shoppers(where=lambda s: not s.has_fallback)[0]
    assert stub.pay("T1", shopper.code(0), 6000.0).key == "40004:ACQ.BUYER_BALANCE_NOT_ENOUGH"


def test_unqualified_merchant_is_declined(stub: Harness) -> None:
    shopper = stub.shoppers()[0]
    assert stub.pay("T1", shopper.code(0), 88.0, store_id=UNQUALIFIED_STORE).key == "40004:ACQ.ACCESS_FORBIDDEN"


def test_risk_surge_rejects_on_the_scenario_clock(stub: Harness) -> None:
    first, second = stub.shoppers(count=2)
    assert stub.pay("T1", first.code(0), 88.0).code == "10000"
    stub.at(45 * 60.0)
    assert stub.pay("T2", second.code(0), 88.0).key == "40004:ACQ.PAYMENT_REQUEST_HAS_RISK"


@pytest.mark.parametrize("store_id", ["INVALID", "99", "007", ""])
def test_a_store_id_naming_no_store_is_a_firmware_fault(stub: Harness, store_id: str) -> None:
    shopper = stub.shoppers()[0]
    reply = stub.pay("T1", shopper.code(0), 88.0, store_id=store_id or None)
    assert reply.key == "40004:ACQ.INVALID_STORE_ID"


def test_a_garbled_code_is_rejected_not_charged_to_a_stranger(stub: Harness) -> None:
    shopper = stub.shoppers()[0]
    assert stub.pay("T1", garble(shopper.code(0)), 88.0).key == "40004:ACQ.PAYMENT_AUTH_CODE_INVALID"
    assert stub.pay("T2", shopper.code(0)[:-1], 88.0).key == "40004:ACQ.PAYMENT_AUTH_CODE_INVALID"


def test_a_well_formed_code_no_shopper_was_shown_has_no_payment_instrument(stub: Harness) -> None:
    from scanrush.domain.codes import make_code

    stranger = make_code(28, 18, stub.live.max_shoppers * 16 + 3)  # check digit fine, serial out of range
    assert stub.pay("T1", stranger, 88.0).key == "40004:ACQ.NO_PAYMENT_INSTRUMENTS_AVAILABLE"


def test_buyer_confirms_on_the_phone_by_real_time(make_stub: StubFactory) -> None:
    stub = make_stub("shoppers.credit.confirm_time=1s", options=options(compression=1.0))
    shopper = stub.shoppers()[0]
    waiting = stub.pay("T1", shopper.code(0), 600.0)
    assert (waiting.code, waiting.sub_code) == ("10003", None)
    assert stub.query("T1").trade_status == "WAIT_BUYER_PAY"
    time.sleep(1.2)
    paid = stub.query("T1")
    assert (paid.trade_status, paid.fund_channel) == ("TRADE_SUCCESS", "PCREDIT")


def test_saturated_gateway_answers_system_busy(make_stub: StubFactory) -> None:
    stub = make_stub("gateway.workers=1", "gateway.service_time=300ms", "gateway.queue_timeout=100ms",
                     options=options(compression=1.0))
    shoppers = stub.shoppers(count=6)
    replies: dict[int, str] = {}

    def pay(index: int) -> None:
        replies[index] = stub.pay(f"T{index}", shoppers[index].code(0), 88.0).key

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(replies.values()).count("10000") >= 1
    assert "20000:aop.ACQ.SYSTEM_ERROR" in replies.values()
    metrics = stub.get("/control/metrics")[1]
    assert metrics["busy_rejections"] == list(replies.values()).count("20000:aop.ACQ.SYSTEM_ERROR")
