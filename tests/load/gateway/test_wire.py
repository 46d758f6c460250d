"""The wire format without a server: response encoding and decoding, replies, request fields."""

from __future__ import annotations

import json

import pytest

from load.gateway.signing import Signer, generate_private_key
from load.gateway.wire import (
    CANCEL,
    ERROR_RESPONSE,
    PAY,
    ResponseError,
    decode_response,
    encode_response,
    envelope,
    reply_of,
    request_params,
    response_key,
)
from scanrush.domain.replies import Reply


def test_response_keys_follow_the_method() -> None:
    assert response_key(PAY) == "alipay_trade_pay_response"
    assert response_key(CANCEL) == "alipay_trade_cancel_response"
    assert response_key("alipay.nope") == response_key(None) == ERROR_RESPONSE


def test_envelope_round_trips_a_reply() -> None:
    reply = Reply("10000", action="refund", retry_flag="N", trade_no="2026")
    fields = envelope(reply)
    assert fields == {"code": "10000", "msg": "Success", "action": "refund", "retry_flag": "N", "trade_no": "2026"}
    assert reply_of(fields) == reply


def test_signed_response_text_is_what_the_signature_covers() -> None:
    signer = Signer(generate_private_key())
    body = encode_response(PAY, {"code": "10000", "msg": "Success", "out_trade_no": "T1"}, signer)
    inner = json.dumps(json.loads(body)["alipay_trade_pay_response"], separators=(",", ":"))
    assert signer.public_key.verify(inner, json.loads(body)["sign"])
    assert decode_response(PAY, body, signer.public_key)["out_trade_no"] == "T1"


def test_decode_reads_error_response_and_rejects_garbage() -> None:
    body = encode_response(None, {"code": "40001", "msg": "Missing Required Arguments"})
    assert decode_response(PAY, body)["code"] == "40001"
    for garbage in ("not json", "[]", '{"other": 1}', '{"alipay_trade_pay_response": 3}'):
        with pytest.raises(ResponseError):
            decode_response(PAY, garbage)
    unsigned = encode_response(PAY, {"code": "10000"})
    with pytest.raises(ResponseError, match="signature"):
        decode_response(PAY, unsigned, Signer(generate_private_key()).public_key)


def test_huabei_is_the_channel_if_any_bill_used_it() -> None:
    bills = [{"fund_channel": "COUPON", "amount": "5.00"}, {"fund_channel": "PCREDIT", "amount": "83.00"}]
    assert reply_of({"code": "10000", "fund_bill_list": bills}).fund_channel == "PCREDIT"
    assert reply_of({"code": "10000", "fund_bill_list": bills[:1]}).fund_channel == "COUPON"
    assert reply_of({"code": "10000", "fund_bill_list": "junk"}).fund_channel is None


def test_request_params_carry_the_common_parameters() -> None:
    params = request_params(PAY, {"out_trade_no": "T1"}, app_id="2021", extra={"app_auth_token": "tok"})
    assert {k: params[k] for k in ("method", "format", "charset", "sign_type", "version")} == {
        "method": PAY, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2", "version": "1.0"}
    assert json.loads(params["biz_content"]) == {"out_trade_no": "T1"}
    assert params["app_auth_token"] == "tok"
    assert "sign" not in params
