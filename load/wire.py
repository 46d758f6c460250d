"""Alipay's open-platform wire format, sans-I/O: form requests out, JSON replies in.

Used by the Locust terminals (any HTTP client) and by tests; the gateway stub
speaks the same format.  Requests carry the common parameters of the
open platform (``app_id``, ``method``, ``charset``, ``sign_type``, ``timestamp``,
``version``, ``biz_content``) and, when a signer is given, an RSA2 ``sign``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from scanrush.domain.gateway import PayRequest
from scanrush.domain.replies import Reply
from scanrush.domain.terminal import Op

Signer = Callable[[bytes], str]
"""Returns the base64 RSA2 (SHA256withRSA) signature of the signing string."""

FORM = "application/x-www-form-urlencoded;charset=utf-8"
INVALID_STORE = "INVALID"
"""What firmware that builds bad requests sends as ``store_id``."""


def biz_content(op: Op, request: PayRequest) -> dict[str, Any]:
    if op is not Op.PAY:
        return {"out_trade_no": request.out_trade_no}
    return {
        "out_trade_no": request.out_trade_no,
        "scene": "bar_code",
        "auth_code": request.auth_code,
        "product_code": "FACE_TO_FACE_PAYMENT",
        "subject": request.subject,
        "total_amount": f"{request.amount:.2f}",
        "store_id": str(request.merchant) if request.store_id_valid else INVALID_STORE,
        "terminal_id": str(request.terminal),
        "timeout_express": "5m",
    }


def signing_string(params: Mapping[str, str]) -> bytes:
    """Sorted ``k=v`` pairs joined by ``&``, without ``sign`` (and, for requests, ``sign_type``)."""
    pairs = sorted((k, v) for k, v in params.items() if v != "" and k not in ("sign", "sign_type"))
    return "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8")


def encode(op: Op, request: PayRequest, *, app_id: str, signer: Signer | None = None,
           now: datetime | None = None) -> bytes:
    """The form body of one gateway request."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    params = {
        "app_id": app_id,
        "method": op.value,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "version": "1.0",
        "biz_content": json.dumps(biz_content(op, request), separators=(",", ":"), ensure_ascii=False),
    }
    if signer is not None:
        params["sign"] = signer(signing_string(params))
    return urlencode(params).encode("ascii")


def response_key(op: Op) -> str:
    """``alipay.trade.pay`` -> ``alipay_trade_pay_response``."""
    return op.value.replace(".", "_") + "_response"


def decode(op: Op, body: bytes) -> Reply:
    """The terminal's view of a gateway reply; an unreadable body is an unknown outcome (20000)."""
    try:
        document = json.loads(body)
        payload = document[response_key(op)]
        if not isinstance(payload, dict):
            raise TypeError(payload)
    except (ValueError, KeyError, TypeError):
        return Reply("20000", "aop.unknow-error", "unreadable gateway response")
    return Reply(
        code=str(payload.get("code", "20000")),
        sub_code=_text(payload.get("sub_code")),
        sub_msg=_text(payload.get("sub_msg")),
        trade_status=_text(payload.get("trade_status")),
        fund_channel=_channel(payload.get("fund_bill_list")),
        action=_text(payload.get("action")),
        retry_flag=_text(payload.get("retry_flag")),
        trade_no=_text(payload.get("trade_no")),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _channel(bills: object) -> str | None:
    """The channel that paid: Huabei (``PCREDIT``) if any bill used it, else the first bill's."""
    if not isinstance(bills, list) or not bills:
        return None
    channels = [str(b.get("fund_channel")) for b in bills if isinstance(b, dict)]
    if "PCREDIT" in channels:
        return "PCREDIT"
    return channels[0] if channels else None
