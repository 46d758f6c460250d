"""Trades, idempotency and the closed-loop audit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scanrush.domain.gateway import Decision, PayRequest
from scanrush.domain.ledger import TIMEOUT_EXPRESS, Ledger
from scanrush.domain.replies import Reply

REQUEST = PayRequest("T1", "281234567890123456", 88.0, 3, 1)
PAY_NOW = Decision(Reply("10000", fund_channel="PCREDIT"), creates_trade=True, confirm_in=0.0)


def waiting(confirm_in: float | None) -> Decision:
    return Decision(Reply("10003", fund_channel="PCREDIT"), creates_trade=True, confirm_in=confirm_in)


def test_paid_trade_is_found_by_query_and_refunded_by_cancel() -> None:
    ledger = Ledger()
    assert ledger.record_pay(REQUEST, PAY_NOW, 0.0).code == "10000"
    assert ledger.query("T1", 1.0).trade_status == "TRADE_SUCCESS"
    assert ledger.received_today(3) == 88.0
    cancel = ledger.cancel("T1", 2.0)
    assert (cancel.code, cancel.action) == ("10000", "refund")
    assert ledger.query("T1", 3.0).trade_status == "TRADE_CLOSED"
    assert ledger.received_today(3) == 0.0


def test_buyer_confirms_later_lazily() -> None:
    ledger = Ledger()
    ledger.record_pay(REQUEST, waiting(12.0), 0.0)
    assert ledger.query("T1", 5.0).trade_status == "WAIT_BUYER_PAY"
    assert ledger.query("T1", 12.5).trade_status == "TRADE_SUCCESS"


def test_cancel_before_confirmation_closes_and_the_late_confirmation_is_lost() -> None:
    ledger = Ledger()
    ledger.record_pay(REQUEST, waiting(30.0), 0.0)
    assert ledger.cancel("T1", 29.0).action == "close"
    assert ledger.query("T1", 31.0).trade_status == "TRADE_CLOSED"


def test_unconfirmed_trade_expires() -> None:
    ledger = Ledger()
    ledger.record_pay(REQUEST, waiting(None), 0.0)
    assert ledger.query("T1", TIMEOUT_EXPRESS + 1).trade_status == "TRADE_CLOSED"


def test_repeated_out_trade_no_follows_alipay_rules() -> None:
    ledger = Ledger()
    ledger.record_pay(REQUEST, waiting(30.0), 0.0)
    assert ledger.replay(REQUEST, 1.0) == Reply("10003", trade_no=ledger.trades["T1"].trade_no)
    other_amount = PayRequest("T1", REQUEST.auth_code, 99.0, 3, 1)
    assert ledger.replay(other_amount, 1.0).sub_code == "ACQ.CONTEXT_INCONSISTENT"  # type: ignore[union-attr]
    other_buyer = PayRequest("T1", "289999999999999999", 88.0, 3, 1)
    assert ledger.replay(other_buyer, 1.0).sub_code == "ACQ.TRADE_BUYER_NOT_MATCH"  # type: ignore[union-attr]
    assert ledger.replay(REQUEST, 31.0).sub_code == "ACQ.TRADE_HAS_SUCCESS"  # type: ignore[union-attr]


def test_payment_code_is_single_use_even_after_a_failure() -> None:
    ledger = Ledger()
    ledger.record_pay(REQUEST, Decision(Reply("40004", "ACQ.PAYMENT_REQUEST_HAS_RISK")), 0.0)
    retry = PayRequest("T2", REQUEST.auth_code, 88.0, 3, 1)
    assert ledger.replay(retry, 1.0).sub_code == "ACQ.PAYMENT_AUTH_CODE_INVALID"  # type: ignore[union-attr]


def test_query_before_the_trade_exists() -> None:
    ledger = Ledger()
    ledger.record_pay(REQUEST, PAY_NOW, 10.0)
    assert ledger.query("T1", 9.0).sub_code == "ACQ.TRADE_NOT_EXIST"


def test_audit_counts_a_one_sided_charge_and_a_double_charge() -> None:
    ledger = Ledger()
    ledger.record_pay(REQUEST, PAY_NOW, 0.0)
    ledger.settle(["T1"], acknowledged=None, paid_otherwise=True, now=5.0, forget=True)
    assert ledger.audit.one_sided == 1
    assert ledger.audit.double_charges == 1
    assert not ledger.trades
    assert not ledger.used_codes


def test_audit_of_a_clean_checkout() -> None:
    ledger = Ledger()
    ledger.record_pay(REQUEST, PAY_NOW, 0.0)
    ledger.settle(["T1"], acknowledged="T1", paid_otherwise=False, now=5.0, forget=False)
    assert (ledger.audit.paid, ledger.audit.double_charges, ledger.audit.one_sided) == (1, 0, 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["pay", "query", "cancel", "wait"]), st.floats(0, 40)), max_size=30),
       st.one_of(st.none(), st.floats(0, 60)))
def test_cancel_always_leaves_the_trade_closed_loop(ops: list[tuple[str, float]], confirm: float | None) -> None:
    """Whatever the interleaving, a trade ends paid or closed, never charged twice."""
    ledger = Ledger()
    now = 0.0
    for op, dt in ops:
        now += dt
        if op == "pay":
            if ledger.replay(REQUEST, now) is None:
                ledger.record_pay(REQUEST, waiting(confirm), now)
        elif op == "query":
            ledger.query("T1", now)
        elif op == "cancel":
            ledger.cancel("T1", now)
    ledger.cancel("T1", now + 1)
    trade = ledger.trades.get("T1")
    if trade is not None:
        assert trade.status_at(now + 2) in ("TRADE_CLOSED", "REFUNDED")
    assert ledger.audit.trades <= 1


def test_settling_forgets_codes_burned_by_failed_attempts() -> None:
    """The simulator's memory must not grow with shoppers."""
    ledger = Ledger()
    ledger.record_pay(REQUEST, Decision(Reply("40004", "ACQ.PAYMENT_REQUEST_HAS_RISK")), 0.0)
    assert ledger.used_codes
    ledger.settle(["T1"], acknowledged=None, paid_otherwise=True, now=1.0, forget=True)
    assert not ledger.used_codes
    assert not ledger.burned_by
