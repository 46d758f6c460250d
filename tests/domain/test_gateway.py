"""The gateway's pure pay decision, check by check."""

from __future__ import annotations

import pytest

from scanrush.domain.codes import garble, make_code
from scanrush.domain.gateway import BALANCE, IDLE, PCREDIT, BuyerProfile, Load, PayRequest, decide_pay
from scanrush.domain.world import Merchant

GOOD_MERCHANT = Merchant(1, 0, True, True, False, False, 500.0, 5000.0, None)
GOOD_BUYER = BuyerProfile(huabei_opened=True, frozen=False, available_credit=5000.0, has_fallback=True,
                          confirm_time=10.0)
CODE = make_code(28, 18, 5 * 16)
REQUEST = PayRequest("T1", CODE, 180.0, 1, 7)


def decide(request: PayRequest = REQUEST, buyer: BuyerProfile = GOOD_BUYER, merchant: Merchant = GOOD_MERCHANT,
           *, u_risk: float = 0.9, risk: float = 0.01, load: Load = IDLE, limit: float = 1000.0,
           received: float = 0.0) -> tuple[str, str | None, str | None]:
    d = decide_pay(request, buyer, merchant, received_today=received, risk_reject=risk, u_risk=u_risk,
                   password_free_limit=limit, load=load)
    return d.reply.code, d.reply.sub_code, d.reply.fund_channel


def test_happy_path_pays_with_huabei() -> None:
    assert decide() == ("10000", None, PCREDIT)


def test_above_password_free_limit_waits_for_the_buyer() -> None:
    assert decide(limit=100.0) == ("10003", None, PCREDIT)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"load": Load(busy=True)}, ("20000", "aop.ACQ.SYSTEM_ERROR", None)),
        ({"load": Load(brownout_error=True)}, ("20000", "aop.ACQ.SYSTEM_ERROR", None)),
        ({"request": PayRequest("T1", "28123", 180.0, 1, 7)}, ("40004", "ACQ.PAYMENT_AUTH_CODE_INVALID", None)),
        ({"request": PayRequest("T1", garble(CODE), 180.0, 1, 7)}, ("40004", "ACQ.PAYMENT_AUTH_CODE_INVALID", None)),
        ({"request": PayRequest("T1", make_code(31, 18, 80), 180.0, 1, 7)},
         ("40004", "ACQ.PAYMENT_AUTH_CODE_INVALID", None)),
        ({"request": PayRequest("T1", CODE, 180.0, 1, 7, store_id_valid=False)},
         ("40004", "ACQ.INVALID_STORE_ID", None)),
        ({"merchant": Merchant(1, 0, False, True, False, False, 500.0, 5000.0, None)},
         ("40004", "ACQ.ACCESS_FORBIDDEN", None)),
        ({"merchant": Merchant(1, 0, True, True, True, False, 500.0, 5000.0, None)},
         ("40004", "ACQ.MERCHANT_STATUS_NOT_NORMAL", None)),
        ({"merchant": Merchant(1, 0, True, True, False, True, 100.0, 5000.0, None)},
         ("40004", "ACQ.BEYOND_PER_RECEIPT_SINGLE_RESTRICTION", None)),
        ({"merchant": Merchant(1, 0, True, True, False, True, 500.0, 5000.0, None), "received": 4900.0},
         ("40004", "ACQ.BEYOND_PER_RECEIPT_DAY_RESTRICTION", None)),
        ({"u_risk": 0.001}, ("40004", "ACQ.PAYMENT_REQUEST_HAS_RISK", None)),
    ],
)
def test_each_rejection(changes: dict[str, object], expected: tuple[str, str | None, str | None]) -> None:
    assert decide(**changes) == expected  # type: ignore[arg-type]


def test_merchant_without_huabei_falls_back_silently_when_the_buyer_can() -> None:
    merchant = Merchant(1, 0, True, False, False, False, 500.0, 5000.0, None)
    assert decide(merchant=merchant) == ("10000", None, BALANCE)


def test_merchant_without_huabei_and_buyer_without_fallback_is_declined() -> None:
    merchant = Merchant(1, 0, True, False, False, False, 500.0, 5000.0, None)
    buyer = BuyerProfile(True, False, 5000.0, False, 10.0)
    assert decide(merchant=merchant, buyer=buyer) == ("40004", "ACQ.NO_PAYMENT_INSTRUMENTS_AVAILABLE", None)


def test_exhausted_credit_without_fallback_is_declined() -> None:
    buyer = BuyerProfile(True, False, 50.0, False, 10.0)
    assert decide(buyer=buyer) == ("40004", "ACQ.BUYER_BALANCE_NOT_ENOUGH", None)


def test_busy_wins_over_every_business_check() -> None:
    merchant = Merchant(1, 0, False, False, True, False, 500.0, 5000.0, None)
    assert decide(merchant=merchant, load=Load(busy=True))[0] == "20000"
