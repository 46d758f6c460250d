"""RSA2: requests verified with the app's key, responses signed with the gateway's, both ways round."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import Harness, StubFactory, options

from load.gateway.signing import (
    APP_PRIVATE,
    GATEWAY_PUBLIC,
    Signer,
    Verifier,
    generate_private_key,
    load_gateway_keys,
    load_signer,
    load_verifier,
    write_keys,
)
from load.gateway.wire import PAY, ResponseError, decode_response, request_params, sign_content
from scanrush.errors import InputError


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("keys")
    write_keys(directory)
    return directory


def test_sign_content_is_sorted_non_empty_pairs_without_sign() -> None:
    params = {"b": "2", "a": "1", "sign": "x", "sign_type": "RSA2", "empty": ""}
    assert sign_content(params) == "a=1&b=2&sign_type=RSA2"
    assert sign_content(params, exclude=("sign", "sign_type")) == "a=1&b=2"


def test_sign_and_verify_round_trip() -> None:
    signer = Signer(generate_private_key())
    signature = signer.sign("a=1&b=2")
    assert signer.public_key.verify("a=1&b=2", signature)
    assert not signer.public_key.verify("a=1&b=3", signature)
    assert not signer.public_key.verify("a=1&b=2", "not base64!")
    assert not Verifier(generate_private_key().public_key()).verify("a=1&b=2", signature)


def test_requests_signed_by_either_rule_verify() -> None:
    signer = Signer(generate_private_key())
    params = request_params(PAY, {"out_trade_no": "T1"}, app_id="2021", signer=signer)
    assert signer.public_key.verify_request(params)  # the SDKs' rule: sign_type is signed
    params["sign"] = signer.sign(sign_content(params, exclude=("sign", "sign_type")))
    assert signer.public_key.verify_request(params)  # the notification rule
    params["biz_content"] = params["biz_content"].replace("T1", "T2")
    assert not signer.public_key.verify_request(params)


@pytest.mark.live
def test_signed_round_trip_over_http(make_stub: StubFactory, keys: Path) -> None:
    stub: Harness = make_stub(options=options(keys=load_gateway_keys(keys)), signer=load_signer(keys / APP_PRIVATE),
                              verifier=load_verifier(keys / GATEWAY_PUBLIC))
    response = stub.call(PAY, {"out_trade_no": "T1", "scene": "bar_code", "auth_code": stub.shoppers()[0].code(0),
                               "subject": "promotion", "total_amount": "88.00", "store_id": "0"})
    assert response.reply.code == "10000"
    assert '"sign":"' in response.body  # and the client verified it, or it would have raised
    tampered = response.body.replace('"88.00"', '"8.80"', 1)
    with pytest.raises(ResponseError):
        decode_response(PAY, tampered, load_verifier(keys / GATEWAY_PUBLIC))


@pytest.mark.live
def test_bad_or_missing_signatures_are_rejected(make_stub: StubFactory, keys: Path) -> None:
    stub: Harness = make_stub(options=options(keys=load_gateway_keys(keys)),
                              verifier=load_verifier(keys / GATEWAY_PUBLIC))
    params = request_params(PAY, {"out_trade_no": "T1"}, app_id="2021")
    assert stub.post(PAY, params).reply.key == "40001:isv.missing-signature"
    stranger = Signer(generate_private_key())
    forged = request_params(PAY, {"out_trade_no": "T1"}, app_id="2021", signer=stranger)
    assert stub.post(PAY, forged).reply.key == "40002:isv.invalid-signature"
    assert stub.post(PAY, {**forged, "sign_type": "RSA"}).reply.key == "40002:isv.invalid-signature-type"
    without_type = {k: v for k, v in forged.items() if k != "sign_type"}
    assert stub.post(PAY, without_type).reply.key == "40001:isv.missing-signature-type"


@pytest.mark.live
def test_unsigned_requests_are_accepted_without_keys(stub: Harness) -> None:
    params = request_params(PAY, {"out_trade_no": "T1", "scene": "bar_code", "auth_code": stub.shoppers()[0].code(0),
                                  "subject": "s", "total_amount": "1.00", "store_id": "0"}, app_id="2021")
    response = stub.post(PAY, params)
    assert response.reply.code == "10000"
    assert '"sign"' not in response.body


def test_unreadable_key_files_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(InputError, match="not a PEM key"):
        load_signer(tmp_path / "junk.pem")
    with pytest.raises(InputError, match="cannot read"):
        load_gateway_keys(tmp_path)
    (tmp_path / "broken.pem").write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    with pytest.raises(InputError, match="cannot load"):
        load_verifier(tmp_path / "broken.pem")
