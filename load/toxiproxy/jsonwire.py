"""JSON as Toxiproxy's Go server reads and writes it.

Reading follows ``encoding/json``'s ``Decoder.Decode``: only the first JSON value of the
body counts (trailing bytes are ignored), object keys match struct fields
case-insensitively (the last matching key wins), unknown keys are ignored, ``null``
leaves a field unchanged, and a value of the wrong JSON type is an error naming the
Go struct field. Those error texts are what clients see after ``bad request body: ``,
so they are worded like Go's.

Writing follows ``json.Marshal``: compact, no trailing newline, ``<``, ``>`` and ``&``
escaped as ``\\u003c`` and friends, and ``float32`` numbers in their shortest form
(``1`` not ``1.0``).
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

__all__ = [
    "BodyError",
    "Float32",
    "GoKind",
    "decode_fields",
    "dumps",
    "json_type",
    "parse",
    "to_float32",
]

GoKind = Literal["string", "bool", "int64", "float32", "object", "array"]
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_MAX_DEPTH_MESSAGE: Final = "exceeded max depth"


class BodyError(ValueError):
    """The body is not what the endpoint accepts; ``str(exc)`` is the Go-style detail."""


@dataclass(frozen=True, slots=True)
class _FloatLiteral:
    """A JSON number written with a fraction or exponent, kept as written.

    Go refuses ``1.0`` or ``1e2`` for an integer field (it parses the literal), so the
    literal must survive decoding instead of becoming a Python float.
    """

    text: str


@dataclass(frozen=True, slots=True)
class Float32:
    """A float32 value that serialises the way Go's ``json.Marshal`` writes float32."""

    value: float


def parse(body: bytes) -> object:
    """The first JSON value in ``body``, or :class:`BodyError` with Go's wording."""
    text = body.decode("utf-8", errors="replace")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        raise BodyError("EOF")
    decoder = json.JSONDecoder(parse_float=_FloatLiteral, parse_constant=_reject_constant)
    try:
        value, _end = decoder.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise BodyError(_go_syntax_message(text, exc)) from None
    except _ConstantError as exc:
        raise BodyError(f"invalid character {exc.args[0][0]!r} looking for beginning of value") from None
    except RecursionError:
        raise BodyError(_MAX_DEPTH_MESSAGE) from None
    return value


class _ConstantError(ValueError):
    pass


def _reject_constant(name: str) -> object:
    # Python accepts NaN/Infinity; Go's decoder does not.
    raise _ConstantError(name)


_SYNTAX_CONTEXT: Final = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Expecting ',' delimiter": "after object key:value pair",
    "Invalid control character at": "in string literal",
    "Invalid \\escape": "in string escape code",
    "Invalid \\uXXXX escape": "in \\u hexadecimal character escape",
    "Extra data": "after top-level value",
}


def _go_syntax_message(text: str, exc: json.JSONDecodeError) -> str:
    if exc.pos >= len(text) or exc.msg.startswith("Unterminated string"):
        return "unexpected EOF"
    context = _SYNTAX_CONTEXT.get(exc.msg, exc.msg.lower())
    return f"invalid character {text[exc.pos]!r} {context}"


def json_type(value: object) -> str:
    """The JSON type name Go uses in decoder errors: string, number, bool, array or object."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | _FloatLiteral):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def decode_fields(value: object, kinds: Mapping[str, GoKind], struct_name: str) -> dict[str, object]:
    """Decode a JSON object into the fields named in ``kinds`` (Go struct semantics).

    Returns only the fields present with a non-null value; a field missing from the
    result keeps its default (or current) value, exactly as Go leaves it untouched.
    ``null`` for the whole value means "no fields". Anything but an object is the
    error ``json: cannot unmarshal <type> into Go value of type <struct_name>``.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BodyError(f"json: cannot unmarshal {json_type(value)} into Go value of type {struct_name}")
    folded = {key.lower(): key for key in kinds}
    decoded: dict[str, object] = {}
    for key, raw in value.items():
        field = key if key in kinds else folded.get(key.lower())
        if field is None or raw is None:
            continue
        decoded[field] = _convert(raw, kinds[field], f"{struct_name.rsplit('.', 1)[-1]}.{field}")
    return decoded


def _convert(raw: object, kind: GoKind, where: str) -> object:
    converted = _CONVERTERS[kind](raw)
    if converted is _MISMATCH:
        # Go quotes the literal only when a number failed to fit a numeric field.
        literal = ""
        if kind in ("int64", "float32") and json_type(raw) == "number":
            literal = f" {raw.text}" if isinstance(raw, _FloatLiteral) else f" {raw}"
        go_type = {"object": "map[string]interface {}", "array": "[]interface {}"}.get(kind, kind)
        raise BodyError(f"json: cannot unmarshal {json_type(raw)}{literal} "
                        f"into Go struct field {where} of type {go_type}")
    return converted


_MISMATCH: Final = object()


def _as_string(raw: object) -> object:
    return raw if isinstance(raw, str) else _MISMATCH


def _as_bool(raw: object) -> object:
    return raw if isinstance(raw, bool) else _MISMATCH


def _as_int64(raw: object) -> object:
    if isinstance(raw, bool) or not isinstance(raw, int) or not _INT64_MIN <= raw <= _INT64_MAX:
        return _MISMATCH
    return raw


def _as_float32(raw: object) -> object:
    if isinstance(raw, bool):
        return _MISMATCH
    if isinstance(raw, int):
        number = float(raw)
    elif isinstance(raw, _FloatLiteral):
        number = float(raw.text)
    else:
        return _MISMATCH
    try:
        return to_float32(number)
    except OverflowError:
        return _MISMATCH


def _as_object(raw: object) -> object:
    return raw if isinstance(raw, dict) else _MISMATCH


def _as_array(raw: object) -> object:
    return raw if isinstance(raw, list) else _MISMATCH


_CONVERTERS: Final = {
    "string": _as_string,
    "bool": _as_bool,
    "int64": _as_int64,
    "float32": _as_float32,
    "object": _as_object,
    "array": _as_array,
}


def to_float32(number: float) -> float:
    """Round to the nearest float32 (Go stores ``toxicity`` as float32); OverflowError if out of range."""
    result: float = struct.unpack("f", struct.pack("f", number))[0]
    if math.isinf(result) or math.isnan(result):  # pack rounds 1e40 to inf instead of raising
        raise OverflowError(number)
    return result


def _float32_text(value: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'f' or 'e', -1, 32)``, as ``encoding/json`` uses it."""
    if value == 0:
        return "0"
    for digits in range(1, 10):
        shortest = f"{value:.{digits}g}"
        if to_float32(float(shortest)) == value:
            break
    if 1e-6 <= abs(value) < 1e21:
        plain = format(Decimal(shortest), "f")
        return plain.rstrip("0").rstrip(".") if "." in plain else plain
    mantissa, _, exponent = f"{Decimal(shortest):e}".partition("e")
    sign, magnitude = exponent[0], exponent[1:].lstrip("0") or "0"
    return f"{mantissa}e{sign}{magnitude}"


def _string_text(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def dumps(value: object) -> str:
    """Serialise like Go's ``json.Marshal`` (dicts keep their insertion order)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Float32):
        return _float32_text(value.value)
    if isinstance(value, str):
        return _string_text(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_string_text(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(f"cannot serialise {type(value).__name__}")
