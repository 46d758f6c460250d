"""Whatever arrives, the stub answers without a 5xx, and every 200 is an Alipay response."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from harness import Harness, scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from load.gateway.wire import METHODS

pytestmark = pytest.mark.live

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = ["app_id", "method", "format", "charset", "sign_type", "sign", "timestamp", "version", "biz_content",
         "app_auth_token", "notify_url"]
BIZ_NAMES = ["out_trade_no", "trade_no", "scene", "auth_code", "subject", "total_amount", "refund_amount",
             "store_id", "terminal_id", "product_code"]


@pytest.fixture(scope="module")
def server() -> Iterator[Harness]:
    harness = Harness(scenario())
    yield harness
    harness.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
biz_objects = st.dictionaries(st.sampled_from(BIZ_NAMES) | st.text(max_size=12), json_values, max_size=8)
field_values = (st.text(max_size=40) | st.sampled_from([*METHODS, "JSON", "utf-8", "RSA2", "1.0",
                                                        "2026-11-26 10:00:00", "2021000000000000"]))
forms = st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=12), field_values, max_size=10)


def assert_alipay_or_client_error(status: int, body: str) -> None:
    assert status < 500, body
    if status == 200:
        outer = json.loads(body)
        (inner,) = [value for key, value in outer.items() if key.endswith("_response")]
        assert inner["code"] in {"10000", "10003", "20000", "40001", "40002", "40004", "40006"}


@FUZZ
@given(body=st.binary(max_size=2048), content_type=st.sampled_from(
    ["application/x-www-form-urlencoded", "text/plain", "application/json", "multipart/form-data; boundary=z",
     "application/x-www-form-urlencoded; charset=gbk", "", "\x7f/\x00"]))
def test_random_bytes(server: Harness, body: bytes, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type.isprintable() else {}
    assert_alipay_or_client_error(*server.raw("POST", "/gateway.do", body, headers))


@FUZZ
@given(form=forms, biz=biz_objects | st.text(max_size=60), in_query=st.booleans())
def test_random_forms(server: Harness, form: dict[str, str], biz: Any, in_query: bool) -> None:
    form = dict(form)
    form.setdefault("biz_content", biz if isinstance(biz, str) else json.dumps(biz))
    query = "?" + urlencode(form) if in_query else ""
    body = b"" if in_query else urlencode(form).encode()
    assert_alipay_or_client_error(*server.raw("POST", "/gateway.do" + query, body,
                                              {"Content-Type": "application/x-www-form-urlencoded"}))


@FUZZ
@given(method=st.sampled_from(METHODS), biz=biz_objects)
def test_random_biz_content_for_each_method(server: Harness, method: str, biz: dict[str, Any]) -> None:
    response = server.call(method, biz)
    assert response.status == 200
    assert response.reply.code in {"10000", "10003", "20000", "40001", "40002", "40004"}


@FUZZ
@given(payload=json_values, path=st.sampled_from(["/control/clock", "/control/ledger", "/control/reset"]))
def test_random_control_payloads(server: Harness, payload: Any, path: str) -> None:
    status, _ = server.raw("POST", path, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    assert status in (200, 400)
    server.at(600.0)  # undo whatever the clock was set to
