"""What the gateway checks before any business runs: common parameters, signature, biz_content.

Every problem becomes a :class:`Rejected` carrying Alipay's envelope code
(40001 missing, 40002 invalid, 40006 not permitted) and an ``isv.*`` sub code
named after the parameter, e.g. ``isv.missing-method``, ``isv.invalid-total-amount``.
Business checks (code shape, amount range, store) are the shared domain's, not here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from load.gateway.wire import METHODS, PERMISSION
from scanrush.domain.replies import INVALID_PARAM, MISSING_PARAM

_OUT_TRADE_NO = re.compile(r"[A-Za-z0-9_]{1,64}")
_AMOUNT = re.compile(r"\d{1,12}(\.\d{1,2})?")
_SCENES = ("bar_code", "wave_code")
"""Payment-code scenes; face pay (``security_code``) tokens belong to no shopper of the world."""
_MAX_TEXT = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_SERVED = frozenset(METHODS)


class Rejected(Exception):  # noqa: N818 - a verdict, not a failure of ours
    """The gateway turns the request away before the business runs."""

    def __init__(self, code: str, sub_code: str, sub_msg: str) -> None:
        super().__init__(f"{code} {sub_code}: {sub_msg}")
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg


def missing(name: str) -> Rejected:
    return Rejected(MISSING_PARAM, f"isv.missing-{name.replace('_', '-')}", f"missing required parameter {name}")


def invalid(name: str, why: str) -> Rejected:
    return Rejected(INVALID_PARAM, f"isv.invalid-{name.replace('_', '-')}", f"invalid {name}: {why}")


class Envelope(NamedTuple):
    method: str
    app_id: str
    biz: dict[str, Any]


RequestCheck = Callable[[Mapping[str, str]], bool]


def method_of(params: Mapping[str, str]) -> str | None:
    """The method, if it is one the stub serves (so the response can be named after it)."""
    method = params.get("method")
    return method if method in METHODS else None


def parse_envelope(params: Mapping[str, str], *, verify: RequestCheck | None,
                   granted: frozenset[str]) -> Envelope:
    """Check the common parameters in Alipay's order: method, app, format, time, signature, permission."""
    get = params.get
    method = get("method")
    if not method:
        raise missing("method")
    if method not in _SERVED:
        raise invalid("method", f"{method[:64]!r} is not served (serves {', '.join(METHODS)})")
    app_id = get("app_id")
    if not app_id:
        raise missing("app_id")
    # format and charset: the values every SDK sends are taken as they are, anything else normalised first
    fmt = get("format")
    if fmt is not None and fmt != "JSON" and fmt.upper() != "JSON":
        raise invalid("format", "only JSON is served")
    charset = get("charset")
    if charset is not None and charset != "utf-8" and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise invalid("charset", "only utf-8 is served")
    timestamp = get("timestamp")
    if not timestamp:
        raise missing("timestamp")
    if not _valid_timestamp(timestamp):
        raise invalid("timestamp", "expected yyyy-MM-dd HH:mm:ss")
    version = get("version")
    if not version:
        raise missing("version")
    if version != "1.0":
        raise invalid("version", "only 1.0 exists")
    if verify is not None:
        _check_signature(params, verify)
    if method not in granted:
        raise Rejected(PERMISSION, "isv.insufficient-isv-permissions", f"the app has not been granted {method}")
    return _new(Envelope, (method, app_id, _biz(get("biz_content"))))


@lru_cache(maxsize=1024)
def _valid_timestamp(text: str) -> bool:
    """Cached: the requests of one second carry the same timestamp."""
    # The pattern pins the format; fromisoformat (C, unlike strptime) checks the ranges.
    if not _TIMESTAMP.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_signature(params: Mapping[str, str], verify: RequestCheck) -> None:
    sign_type = params.get("sign_type")
    if not sign_type:
        raise Rejected(MISSING_PARAM, "isv.missing-signature-type", "missing required parameter sign_type")
    if sign_type != "RSA2":
        raise Rejected(INVALID_PARAM, "isv.invalid-signature-type", "only RSA2 is accepted")
    if not params.get("sign"):
        raise Rejected(MISSING_PARAM, "isv.missing-signature", "missing required parameter sign")
    if not verify(params):
        raise Rejected(INVALID_PARAM, "isv.invalid-signature", "the signature does not verify with the app's key")


def _biz(text: str | None) -> dict[str, Any]:
    if not text:
        raise missing("biz_content")
    try:
        # json.loads(text), as one scan when the text is exactly one JSON value (the usual case);
        # otherwise json.loads itself (leading or trailing space, BOM, errors: its own answers).
        try:
            biz, end = _scan(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):
            biz = json.loads(text)
    except (ValueError, RecursionError):
        raise invalid("biz_content", "not JSON") from None
    if not isinstance(biz, dict):
        raise invalid("biz_content", "not a JSON object")
    return biz


_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The C scanner ``json.loads`` runs (same options), without ``loads``' Python-level wrapping."""
_new = tuple.__new__
"""A NamedTuple without its Python-level ``__new__`` (per request)."""


# --------------------------------------------------------------------------- biz_content fields


class PayArgs(NamedTuple):
    out_trade_no: str
    auth_code: str
    amount: float
    subject: str
    store_id: str | None
    terminal_id: str | None


class TradeRef(NamedTuple):
    """``out_trade_no`` or ``trade_no`` (query, cancel, close, refund)."""

    out_trade_no: str | None
    trade_no: str | None


class RefundArgs(NamedTuple):
    ref: TradeRef
    amount: float


def parse_pay(biz: Mapping[str, Any]) -> PayArgs:
    """The pay fields, checked in this order: out_trade_no, scene, auth_code, total_amount, subject, ids."""
    # A well-formed request, the usual case, passes every check below at a glance; anything
    # else takes the field-by-field way, which finds the first problem and names it.
    get = biz.get
    out_trade_no = get("out_trade_no")
    auth_code = get("auth_code")
    amount = get("total_amount")
    subject = get("subject")
    store_id = get("store_id")
    terminal_id = get("terminal_id")
    # (ASCII text is free of _CONTROL exactly when isprintable says so)
    ids_ok = ((store_id is None or (type(store_id) is str and 0 < len(store_id) <= 64 and _printable(store_id)))
              and (terminal_id is None
                   or (type(terminal_id) is str and 0 < len(terminal_id) <= 64 and _printable(terminal_id))))
    if (ids_ok and type(out_trade_no) is str and _is_out_trade_no(out_trade_no) and get("scene") in _SCENES
            and type(auth_code) is str and 0 < len(auth_code) <= 64 and auth_code.isascii() and auth_code.isprintable()
            and type(amount) is str and _is_amount(amount)
            and type(subject) is str and 0 < len(subject) <= _MAX_TEXT and _printable(subject)):
        return _new(PayArgs, (out_trade_no, auth_code, float(amount), subject, store_id, terminal_id))
    return _parse_pay_fields(biz)


def _is_out_trade_no(text: str) -> bool:
    """``_OUT_TRADE_NO.fullmatch(text)`` without the regex engine (~3x cheaper): ASCII ``isalnum`` is [A-Za-z0-9]."""
    return 0 < len(text) <= 64 and text.isascii() and (text.isalnum() or text.replace("_", "0").isalnum())


def _is_amount(text: str) -> bool:
    """``_AMOUNT.fullmatch(text)`` without the regex engine: ``\\d`` is Unicode category Nd, as ``isdecimal`` is."""
    whole, dot, cents = text.partition(".")
    return (0 < len(whole) <= 12 and whole.isdecimal()
            and (not dot or (0 < len(cents) <= 2 and cents.isdecimal())))


def _parse_pay_fields(biz: Mapping[str, Any]) -> PayArgs:
    out_trade_no = _out_trade_no(biz, "out_trade_no", required=True) or ""
    scene = _string(biz, "scene", required=True)
    if scene not in _SCENES:
        raise invalid("scene", f"{scene[:32]!r}: the stub serves payment codes ({', '.join(_SCENES)})")
    return PayArgs(
        out_trade_no=out_trade_no,
        auth_code=_string(biz, "auth_code", required=True, limit=64),
        amount=_amount(biz, "total_amount"),
        subject=_string(biz, "subject", required=True),
        store_id=_optional_id(biz, "store_id"),
        terminal_id=_optional_id(biz, "terminal_id"),
    )


def parse_ref(biz: Mapping[str, Any]) -> TradeRef:
    out_trade_no = _out_trade_no(biz, "out_trade_no", required=False)
    trade_no = _optional_id(biz, "trade_no")
    if out_trade_no is None and trade_no is None:
        raise Rejected(MISSING_PARAM, "isv.missing-out-trade-no", "out_trade_no or trade_no is required")
    return TradeRef(out_trade_no, trade_no)


def parse_refund(biz: Mapping[str, Any]) -> RefundArgs:
    return RefundArgs(parse_ref(biz), _amount(biz, "refund_amount"))


def _string(biz: Mapping[str, Any], name: str, *, required: bool, limit: int = _MAX_TEXT) -> str:
    value = biz.get(name)
    if value is None or value == "":
        if required:
            raise missing(name)
        return ""
    if not isinstance(value, str):
        raise invalid(name, "must be a string")
    if len(value) > limit or not _printable(value):
        raise invalid(name, f"at most {limit} printable characters")
    return value


def _printable(text: str) -> bool:
    """No control characters (``_CONTROL``); for ASCII text, which is nearly all, ``isprintable`` says so."""
    return text.isprintable() if text.isascii() else _CONTROL.search(text) is None


def _out_trade_no(biz: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = _string(biz, name, required=required)
    if not value:
        return None
    if not _OUT_TRADE_NO.fullmatch(value):
        raise invalid(name, "1-64 letters, digits or underscores")
    return value


def _optional_id(biz: Mapping[str, Any], name: str) -> str | None:
    """A string id, or a JSON integer taken as its decimal text (some integrations send numbers)."""
    value = biz.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _string(biz, name, required=False, limit=64) or None


def _amount(biz: Mapping[str, Any], name: str) -> float:
    value = biz.get(name)
    if value is None or value == "":
        raise missing(name)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = repr(value)
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise invalid(name, "yuan with at most two decimals, e.g. 88.80")
    return float(value)
