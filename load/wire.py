"""The terminal's side of Alipay's wire format: a ``PayRequest`` out as a form, a ``Reply`` back.

A thin layer over the stub's codec (``load/gateway/wire.py``: common parameters,
RSA2 signing, response envelopes), so terminals and gateway cannot drift apart.
It adds only what a terminal knows: which ``biz_content`` a POS sends for each
method, and that a reply it cannot read is an unknown outcome (20000).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from load.gateway.wire import ResponseError, TextSigner, amount_text, decode_response, reply_of, request_params
from scanrush.domain.gateway import PayRequest
from scanrush.domain.replies import Reply
from scanrush.domain.terminal import Op

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
        "total_amount": amount_text(request.amount),
        "store_id": str(request.merchant) if request.store_id_valid else INVALID_STORE,
        "terminal_id": str(request.terminal),
        "timeout_express": "5m",
    }


def encode(op: Op, request: PayRequest, *, app_id: str, signer: TextSigner | None = None,
           now: datetime | None = None) -> bytes:
    """The form body of one gateway request."""
    params = request_params(op.value, biz_content(op, request), app_id=app_id, signer=signer, timestamp=now)
    return urlencode(params).encode("ascii")


def decode(op: Op, body: bytes) -> Reply:
    """The terminal's view of a gateway reply; an unreadable body is an unknown outcome (20000)."""
    try:
        return reply_of(decode_response(op.value, body.decode("utf-8", "replace")))
    except ResponseError:
        return Reply("20000", "aop.unknow-error", "unreadable gateway response")
