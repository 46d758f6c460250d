"""Alipay's envelope and field names, and every malformed request answered without a 5xx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from harness import Harness

from load import wire as terminal_wire
from load.gateway.wire import PAY, QUERY, request_params
from scanrush.domain.gateway import PayRequest
from scanrush.domain.terminal import Op

pytestmark = pytest.mark.live

PAID_FIELDS = {"code", "msg", "trade_no", "out_trade_no", "buyer_logon_id", "buyer_user_id", "total_amount",
               "receipt_amount", "buyer_pay_amount", "invoice_amount", "point_amount", "gmt_payment",
               "fund_bill_list", "store_name"}


def pay_biz(code: str, **changes: Any) -> dict[str, Any]:
    biz = {"out_trade_no": "T1", "scene": "bar_code", "auth_code": code, "subject": "promotion",
           "total_amount": "88.00", "store_id": "0"}
    biz.update(changes)
    return {k: v for k, v in biz.items() if v is not None}


def test_paid_response_envelope_and_fields(stub: Harness) -> None:
    response = stub.call(PAY, pay_biz(stub.shoppers()[0].code(0)))
    outer = json.loads(response.body)
    assert list(outer) == ["alipay_trade_pay_response"]
    fields = outer["alipay_trade_pay_response"]
    assert set(fields) == PAID_FIELDS
    assert (fields["code"], fields["msg"]) == ("10000", "Success")
    assert fields["fund_bill_list"] == [{"fund_channel": "PCREDIT", "amount": "88.00"}]
    assert fields["buyer_user_id"].startswith("2088")
    assert "****" in fields["buyer_logon_id"]
    assert fields["total_amount"] == fields["receipt_amount"] == "88.00"
    assert response.status == 200


def test_waiting_and_failed_responses_echo_zero_amounts(stub: Harness) -> None:
    first, second = stub.shoppers(count=2)
    waiting = stub.call(PAY, pay_biz(first.code(0), total_amount="600.00")).fields
    assert (waiting["code"], waiting["msg"].strip()) == ("10003", "order success pay inprocess")
    assert (waiting["receipt_amount"], waiting["total_amount"]) == ("0.00", "600.00")
    failed = stub.call(PAY, pay_biz(second.code(0), out_trade_no="T2", store_id="2")).fields
    assert (failed["code"], failed["msg"], failed["sub_code"]) == ("40004", "Business Failed", "ACQ.ACCESS_FORBIDDEN")
    assert failed["buyer_pay_amount"] == "0.00"
    assert "sub_msg" in failed


def test_query_response_names(stub: Harness) -> None:
    stub.call(PAY, pay_biz(stub.shoppers()[0].code(0)))
    fields = stub.call(QUERY, {"out_trade_no": "T1"}).fields
    assert fields["trade_status"] == "TRADE_SUCCESS"
    assert {"send_pay_date", "fund_bill_list", "buyer_logon_id", "total_amount"} <= set(fields)
    assert json.loads(stub.call("alipay.trade.cancel", {"out_trade_no": "T1"}).body)[
        "alipay_trade_cancel_response"]["action"] == "refund"


def test_common_parameters_may_come_in_the_query_string(stub: Harness) -> None:
    params = request_params(PAY, pay_biz(stub.shoppers()[0].code(0)), app_id="2021000000000000")
    biz = params.pop("biz_content")
    status, body = stub.raw("POST", "/gateway.do?" + urlencode(params), urlencode({"biz_content": biz}).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    assert json.loads(body)["alipay_trade_pay_response"]["code"] == "10000"


def test_the_terminals_codec_speaks_the_stubs_protocol(stub: Harness) -> None:
    shopper = stub.shoppers()[0]
    request = PayRequest("T1", shopper.code(0), 88.0, 1, 2)
    status, body = stub.raw("POST", "/gateway.do", terminal_wire.encode(Op.PAY, request, app_id="2021"),
                            {"Content-Type": terminal_wire.FORM})
    assert status == 200
    reply = terminal_wire.decode(Op.PAY, body.encode())
    assert (reply.code, reply.fund_channel) == ("10000", "PCREDIT")
    bad = PayRequest("T2", shopper.code(1), 88.0, 1, 2, store_id_valid=False)
    _, body = stub.raw("POST", "/gateway.do", terminal_wire.encode(Op.PAY, bad, app_id="2021"),
                       {"Content-Type": terminal_wire.FORM})
    assert terminal_wire.decode(Op.PAY, body.encode()).sub_code == "ACQ.INVALID_STORE_ID"


COMMON = {"app_id": "2021000000000000", "method": PAY, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
          "timestamp": "2026-11-26 10:00:00", "version": "1.0"}


@pytest.mark.parametrize(
    ("changes", "biz", "expected"),
    [
        ({"method": None}, {}, "40001:isv.missing-method"),
        ({"method": "alipay.trade.precreate"}, {}, "40002:isv.invalid-method"),
        ({"app_id": None}, {}, "40001:isv.missing-app-id"),
        ({"format": "XML"}, {}, "40002:isv.invalid-format"),
        ({"charset": "GBK"}, {}, "40002:isv.invalid-charset"),
        ({"timestamp": None}, {}, "40001:isv.missing-timestamp"),
        ({"timestamp": "2026-13-45 99:00:00"}, {}, "40002:isv.invalid-timestamp"),
        ({"version": "2.0"}, {}, "40002:isv.invalid-version"),
        ({}, None, "40001:isv.missing-biz-content"),
        ({}, "{not json", "40002:isv.invalid-biz-content"),
        ({}, "[1, 2]", "40002:isv.invalid-biz-content"),
        ({}, "[" * 15_000, "40002:isv.invalid-biz-content"),
        ({}, {"out_trade_no": None}, "40001:isv.missing-out-trade-no"),
        ({}, {"out_trade_no": "has space"}, "40002:isv.invalid-out-trade-no"),
        ({}, {"out_trade_no": "x" * 65}, "40002:isv.invalid-out-trade-no"),
        ({}, {"auth_code": None}, "40001:isv.missing-auth-code"),
        ({}, {"auth_code": 28123}, "40002:isv.invalid-auth-code"),
        ({}, {"total_amount": None}, "40001:isv.missing-total-amount"),
        ({}, {"total_amount": "8.888"}, "40002:isv.invalid-total-amount"),
        ({}, {"total_amount": "-1"}, "40002:isv.invalid-total-amount"),
        ({}, {"total_amount": True}, "40002:isv.invalid-total-amount"),
        ({}, {"subject": None}, "40001:isv.missing-subject"),
        ({}, {"subject": "bad\x00subject"}, "40002:isv.invalid-subject"),
        ({}, {"scene": None}, "40001:isv.missing-scene"),
        ({}, {"scene": "security_code"}, "40002:isv.invalid-scene"),
        ({}, {"total_amount": "0.00"}, "40004:ACQ.TOTAL_FEE_EXCEED"),
        ({"method": QUERY}, {"out_trade_no": None}, "40001:isv.missing-out-trade-no"),
    ],
)
def test_malformed_requests_get_alipay_errors(stub: Harness, changes: dict[str, Any], biz: Any,
                                              expected: str) -> None:
    params = {**COMMON, **changes}
    if isinstance(biz, dict):
        params["biz_content"] = json.dumps(pay_biz(stub.shoppers()[0].code(0), **biz))
    elif isinstance(biz, str):
        params["biz_content"] = biz
    response = stub.post(params.get("method"), {k: v for k, v in params.items() if v is not None})
    assert response.status == 200
    assert response.reply.key == expected


def test_unknown_method_answers_in_error_response(stub: Harness) -> None:
    body = stub.post(None, {**COMMON, "method": "alipay.nope"}).body
    assert list(json.loads(body)) == ["error_response"]


def test_a_method_the_app_was_not_granted_is_40006(make_stub: Any) -> None:
    from harness import options

    stub = make_stub(options=options(granted=frozenset({PAY, QUERY})))
    response = stub.call("alipay.trade.refund", {"out_trade_no": "T1", "refund_amount": "1.00"})
    assert response.reply.key == "40006:isv.insufficient-isv-permissions"
    assert response.fields["msg"] == "Insufficient Permissions"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/gateway.do", 405), ("PUT", "/gateway.do", 405), ("POST", "/gateway", 404),
     ("GET", "/", 404), ("POST", "/control/health", 405), ("GET", "/control/reset", 405)],
)
def test_wrong_http_method_or_path(stub: Harness, method: str, path: str, status: int) -> None:
    got, body = stub.raw(method, path)
    assert got == status
    assert len(body) < 200


def test_oversized_and_undecodable_bodies(stub: Harness) -> None:
    status, _ = stub.raw("POST", "/gateway.do", b"a=" + b"x" * 100_000)
    assert status == 413
    status, body = stub.raw("POST", "/gateway.do", b"method=\xff\xfe", {"Content-Type": "text/plain"})
    assert (status, json.loads(body)["error_response"]["sub_code"]) == (200, "isv.invalid-charset")
    status, body = stub.raw("POST", "/gateway.do", b"--x\r\n", {"Content-Type": "multipart/form-data; boundary=x"})
    assert (status, json.loads(body)["error_response"]["code"]) == (200, "40002")
    many = "&".join(f"k{i}=v" for i in range(100)).encode()
    status, body = stub.raw("POST", "/gateway.do", many)
    assert json.loads(body)["error_response"]["sub_code"] == "isv.invalid-parameters"


@pytest.mark.parametrize("path", ["/control/health", "/control/metrics", "/control/ledger"])
def test_a_browser_can_read_the_control_endpoints(stub: Harness, path: str) -> None:
    headers = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
               "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    status, body = stub.get(path, headers)
    assert status == 200
    assert isinstance(body, dict)
