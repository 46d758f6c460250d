"""The POS protocol state machine, fed replies and timeouts by hand."""

from __future__ import annotations

from scanrush.domain.outcomes import Cause
from scanrush.domain.replies import Reply
from scanrush.domain.terminal import Finish, Op, Send, Sleep, Status, TerminalProtocol
from scanrush.scenario.schema import CancelPolicy, Pos, QueryPolicy

POS = Pos(query=QueryPolicy(every=5.0, times=3), cancel=CancelPolicy(every=2.0, retries=2))
PAID = Reply("10000", fund_channel="PCREDIT")
WAITING = Reply("10003")
BUSY = Reply("20000", "aop.ACQ.SYSTEM_ERROR", "system busy")
STILL_WAITING = Reply("10000", trade_status="WAIT_BUYER_PAY")
QUERY_PAID = Reply("10000", trade_status="TRADE_SUCCESS", fund_channel="PCREDIT")
NOT_EXIST = Reply("40004", "ACQ.TRADE_NOT_EXIST")
CANCELLED = Reply("10000", action="close", retry_flag="N")


def protocol(**kwargs: bool) -> TerminalProtocol:
    return TerminalProtocol(POS, "T1", **kwargs)


def test_paid_at_once() -> None:
    p = protocol()
    assert p.start() == Send(Op.PAY, 15.0)
    assert p.on_reply(PAID) == Finish(Status.PAID, None, "PCREDIT", "")


def test_definite_decline_finishes_with_the_sub_code_cause() -> None:
    p = protocol()
    p.start()
    finish = p.on_reply(Reply("40004", "ACQ.PAYMENT_REQUEST_HAS_RISK"))
    assert isinstance(finish, Finish)
    assert (finish.status, finish.cause) == (Status.FAILED, Cause.RISK)


def test_waiting_buyer_polls_then_pays() -> None:
    p = protocol()
    p.start()
    assert p.on_reply(WAITING) == Sleep(5.0)
    assert p.on_wake() == Send(Op.QUERY, 15.0)
    assert p.on_reply(STILL_WAITING) == Sleep(5.0)
    assert p.on_wake() == Send(Op.QUERY, 15.0)
    finish = p.on_reply(QUERY_PAID)
    assert isinstance(finish, Finish)
    assert finish.status is Status.PAID


def test_waiting_buyer_who_never_confirms_is_cancelled_and_blamed_on_credit() -> None:
    p = protocol()
    p.start()
    action = p.on_reply(WAITING)
    for _ in range(POS.query.times):
        assert action == Sleep(5.0)
        assert p.on_wake().op is Op.QUERY  # type: ignore[union-attr]
        action = p.on_reply(STILL_WAITING)
    assert action == Send(Op.CANCEL, 15.0)
    finish = p.on_reply(CANCELLED)
    assert isinstance(finish, Finish)
    assert (finish.status, finish.cause) == (Status.FAILED, Cause.CREDIT)


def test_unknown_result_queries_once_then_cancels() -> None:
    p = protocol()
    p.start()
    assert p.on_reply(BUSY) == Send(Op.QUERY, 15.0)
    assert p.on_reply(NOT_EXIST) == Send(Op.CANCEL, 15.0)
    finish = p.on_reply(NOT_EXIST)
    assert isinstance(finish, Finish)
    assert (finish.status, finish.cause) == (Status.FAILED, Cause.CAPACITY)


def test_read_timeout_then_query_finds_it_paid() -> None:
    p = protocol()
    p.start()
    assert p.on_timeout() == Send(Op.QUERY, 15.0)
    finish = p.on_reply(QUERY_PAID)
    assert isinstance(finish, Finish)
    assert finish.status is Status.PAID


def test_cancel_that_never_answers_leaves_the_trade_unresolved() -> None:
    p = protocol()
    p.start()
    p.on_timeout()
    assert p.on_timeout() == Send(Op.CANCEL, 15.0)
    for _ in range(POS.cancel.retries):
        assert p.on_timeout() == Sleep(2.0)
        assert p.on_wake() == Send(Op.CANCEL, 15.0)
    finish = p.on_timeout()
    assert isinstance(finish, Finish)
    assert (finish.status, finish.cause) == (Status.UNRESOLVED, Cause.NETWORK)


def test_old_firmware_treats_a_timeout_as_failure_without_query_and_is_blamed() -> None:
    p = protocol(query_on_timeout=False)
    p.start()
    finish = p.on_timeout()
    assert isinstance(finish, Finish)
    assert (finish.status, finish.cause) == (Status.FAILED, Cause.FIRMWARE)


def test_connect_failure_is_a_definite_network_failure() -> None:
    p = protocol()
    p.start()
    finish = p.on_timeout(connected=False)
    assert isinstance(finish, Finish)
    assert finish.cause is Cause.NETWORK


def test_repeat_pay_reporting_already_paid_is_checked_by_query() -> None:
    p = protocol()
    p.start()
    assert p.on_reply(Reply("40004", "ACQ.TRADE_HAS_SUCCESS")) == Send(Op.QUERY, 15.0)
    finish = p.on_reply(QUERY_PAID)
    assert isinstance(finish, Finish)
    assert finish.status is Status.PAID
