"""Alipay's open-platform wire format, both directions, with no HTTP library in sight.

The stub renders replies with it and clients (the tests, the Locust terminals,
which bring their own HTTP client) build requests and read replies with it::

    POST /gateway.do   app_id, method, format=JSON, charset=utf-8, sign_type=RSA2,
                       timestamp, version=1.0, biz_content={...}, sign
    200 {"alipay_trade_pay_response": {"code": "10000", "msg": "Success", ...}, "sign": "..."}

The response object is named after the method (dots become underscores, plus
``_response``); a request whose method is missing or unknown gets ``error_response``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any, Protocol

from load.gateway.clock import CHINA, alipay_time
from scanrush.domain.replies import INVALID_PARAM, MISSING_PARAM, Reply

PAY = "alipay.trade.pay"
QUERY = "alipay.trade.query"
CANCEL = "alipay.trade.cancel"
REFUND = "alipay.trade.refund"
CLOSE = "alipay.trade.close"
METHODS = (PAY, QUERY, CANCEL, REFUND, CLOSE)
PERMISSION = "40006"
ERROR_RESPONSE = "error_response"

MESSAGES = {
    "10000": "Success",
    # The real gateway's text, leading space included, as captured 10003 bodies show it.
    "10003": " order success pay inprocess",
    "20000": "Service Currently Unavailable",
    MISSING_PARAM: "Missing Required Arguments",
    INVALID_PARAM: "Invalid Arguments",
    "40004": "Business Failed",
    PERMISSION: "Insufficient Permissions",
}

Fields = dict[str, Any]
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""Made once: ``json.dumps`` with options builds a new encoder on every call."""


class TextSigner(Protocol):
    def sign(self, text: str) -> str: ...


class TextVerifier(Protocol):
    def verify(self, text: str, signature: str) -> bool: ...


RESPONSE_KEYS = {method: method.replace(".", "_") + "_response" for method in METHODS}
"""``alipay.trade.pay`` -> ``alipay_trade_pay_response``, made once."""


def response_key(method: str | None) -> str:
    return RESPONSE_KEYS.get(method, ERROR_RESPONSE) if method is not None else ERROR_RESPONSE


def envelope(reply: Reply) -> Fields:
    """``code``/``msg``/``sub_code``/``sub_msg`` and the reply's trade fields, in Alipay's names."""
    fields: Fields = {"code": reply.code, "msg": MESSAGES.get(reply.code, "")}
    if reply.sub_code:
        fields["sub_code"] = reply.sub_code
        fields["sub_msg"] = reply.sub_msg or ""
    # the reply's trade fields, one by one (this runs for every answer)
    if reply.trade_status is not None:
        fields["trade_status"] = reply.trade_status
    if reply.action is not None:
        fields["action"] = reply.action
    if reply.retry_flag is not None:
        fields["retry_flag"] = reply.retry_flag
    if reply.trade_no is not None:
        fields["trade_no"] = reply.trade_no
    return fields


def encode_fields(fields: Fields) -> str:
    """The JSON text of a response object, as the gateway writes (and signs) it."""
    return _ENCODER.encode(fields)


json_text: Callable[[str], str] = encode_basestring
"""The JSON text of a string, as :data:`_ENCODER` writes strings (``ensure_ascii=False``)."""


@lru_cache(maxsize=256)
def envelope_text(code: str, sub_code: str | None, sub_msg: str | None) -> str:
    """``{"code":…,"msg":…[,"sub_code":…,"sub_msg":…]``: the opening of :func:`envelope`'s object, unclosed.

    Cached: the domain's replies are a small fixed set, and a reply's opening is
    most of what a failed answer says.
    """
    text = f'{{"code":{json_text(code)},"msg":{json_text(MESSAGES.get(code, ""))}'
    if sub_code:
        text += f',"sub_code":{json_text(sub_code)},"sub_msg":{json_text(sub_msg or "")}'
    return text


def reply_text(reply: Reply) -> str:
    """:func:`envelope` as unclosed JSON text: what :func:`encode_fields` writes for it, less the ``}``."""
    text = envelope_text(reply.code, reply.sub_code, reply.sub_msg)
    if reply.trade_status is not None:
        text += f',"trade_status":{json_text(reply.trade_status)}'
    if reply.action is not None:
        text += f',"action":{json_text(reply.action)}'
    if reply.retry_flag is not None:
        text += f',"retry_flag":{json_text(reply.retry_flag)}'
    if reply.trade_no is not None:
        text += f',"trade_no":{json_text(reply.trade_no)}'
    return text


def encode_response(method: str | None, fields: Fields, signer: TextSigner | None = None) -> str:
    """The response body; the signature covers the ``*_response`` object's exact text."""
    return wrap_response(response_key(method), _ENCODER.encode(fields), signer)


def wrap_response(key: str, inner: str, signer: TextSigner | None = None) -> str:
    """The response body: the JSON text ``inner`` as the ``key`` object (:func:`response_key`), signed if ``signer``."""
    if signer is None:
        return f'{{"{key}":{inner}}}'
    return f'{{"{key}":{inner},"sign":"{signer.sign(inner)}"}}'


class ResponseError(ValueError):
    """The body is not an Alipay response (or its signature does not verify)."""


def decode_response(method: str | None, body: str, verifier: TextVerifier | None = None) -> Fields:
    """The ``*_response`` object of a body; with a verifier, its ``sign`` must check out."""
    try:
        outer = json.loads(body)
    except ValueError as exc:
        raise ResponseError(f"not JSON: {body[:80]!r}") from exc
    key = response_key(method)
    if isinstance(outer, dict) and key not in outer:
        key = ERROR_RESPONSE  # what the gateway answers a request it could not attribute to a method
    if not isinstance(outer, dict) or not isinstance(outer.get(key), dict):
        raise ResponseError(f"no {response_key(method)} object in {body[:80]!r}")
    if verifier is not None:
        signature = outer.get("sign")
        if not isinstance(signature, str) or not verifier.verify(_inner_text(body, key), signature):
            raise ResponseError("the response signature does not verify")
    fields: Fields = outer[key]
    return fields


def _inner_text(body: str, key: str) -> str:
    """The exact text of the named object, as the gateway signed it (SDKs cut it out the same way)."""
    start = body.index(f'"{key}":') + len(key) + 3
    _value, end = json.JSONDecoder().raw_decode(body, start)
    return body[start:end]


def reply_of(fields: Mapping[str, Any]) -> Reply:
    """The :class:`Reply` a terminal acts on, from a response object.

    ``fund_channel`` is ``PCREDIT`` (Huabei) if any ``fund_bill_list`` entry used it, else
    the first entry's (the rule of the terminals' codec, ``load/wire.py``).
    ``Reply.paid`` means something for pay, query and cancel; refund and close
    answers carry neither ``trade_status`` nor ``action``.
    """
    bills = fields.get("fund_bill_list")
    channels = [str(b.get("fund_channel")) for b in bills if isinstance(b, dict)] if isinstance(bills, list) else []
    channel = "PCREDIT" if "PCREDIT" in channels else (channels[0] if channels else None)
    return Reply(
        code=str(fields.get("code", "")), sub_code=_text(fields.get("sub_code")), sub_msg=_text(fields.get("sub_msg")),
        trade_status=_text(fields.get("trade_status")), fund_channel=channel, action=_text(fields.get("action")),
        retry_flag=_text(fields.get("retry_flag")), trade_no=_text(fields.get("trade_no")),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def request_params(method: str, biz: Mapping[str, Any], *, app_id: str, signer: TextSigner | None = None,
                   timestamp: datetime | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The form fields of one gateway call (``extra``: more common parameters), signed as Alipay's SDKs sign."""
    params = {
        "app_id": app_id, "method": method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
        "timestamp": alipay_time(timestamp or datetime.now(CHINA)), "version": "1.0",
        "biz_content": json.dumps(dict(biz), ensure_ascii=False, separators=(",", ":")), **(extra or {}),
    }
    if signer is not None:
        params["sign"] = signer.sign(sign_content(params))
    return params


def sign_content(params: Mapping[str, str], *, exclude: tuple[str, ...] = ("sign",)) -> str:
    """The text an RSA2 request signature covers: sorted non-empty ``k=v`` joined by ``&``.

    Alipay's SDKs leave out only ``sign`` (``sign_type`` is signed); the rule for
    notifications also leaves out ``sign_type``.
    """
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in exclude and params[k])


def amount_text(amount: float) -> str:
    """Yuan with two decimals, as Alipay writes amounts."""
    return f"{amount:.2f}"
