"""Quantities with explicit units, as written in scenario files.

Every parser takes the raw YAML value and returns a float in base units
(seconds, fraction 0..1, events per second, bits per second, bytes), or raises
``ValueError`` with a message that says what was expected.  Pydantic turns
those into located problems.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|us|µs|h|m|s|d)")
_DURATION_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|min|m|h|hour|d|day)\s*$")
_RATE_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "hour": 3600.0, "d": 86400.0, "day": 86400.0}
_BANDWIDTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(bps|kbps|Kbps|mbps|Mbps|gbps|Gbps|B/s|KB/s|kB/s|MB/s)\s*$")
_BANDWIDTH_UNITS = {
    "bps": 1.0, "kbps": 1e3, "Kbps": 1e3, "mbps": 1e6, "Mbps": 1e6, "gbps": 1e9, "Gbps": 1e9,
    "B/s": 8.0, "KB/s": 8e3, "kB/s": 8e3, "MB/s": 8e6,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|kB|KiB|MB|MiB)\s*$")
_SIZE_UNITS = {"B": 1.0, "KB": 1e3, "kB": 1e3, "KiB": 1024.0, "MB": 1e6, "MiB": 1024.0**2}


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


def parse_duration(value: object) -> float:
    """``"1h30m"`` -> 5400.0; ``"120ms"`` -> 0.12; a bare number is seconds."""
    number = _number(value)
    if number is not None:
        if number < 0:
            raise ValueError("a duration cannot be negative")
        return number
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 120ms, 15s, 5m or 1h30m")
    text = value.strip().replace(" ", "")
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError("expected a duration such as 120ms, 15s, 5m or 1h30m")
    return total


def parse_fraction(value: object) -> float:
    """``"3%"`` -> 0.03; a bare number must already be a fraction in [0, 1]."""
    number = _number(value)
    if number is None and isinstance(value, str) and value.strip().endswith("%"):
        try:
            number = float(value.strip()[:-1]) / 100.0
        except ValueError:
            number = None
    elif number is not None and number > 1:
        raise ValueError(f"a bare number is a fraction between 0 and 1; write {number:g}% for a percentage")
    if number is None:
        raise ValueError("expected a percentage such as 3% or 0.5%, or a fraction such as 0.03")
    if not 0.0 <= number <= 1.0:
        raise ValueError("must lie between 0% and 100%")
    return number


def parse_rate(value: object) -> float:
    """``"600/h"`` -> 1/6 per second; a bare number is per second."""
    number = _number(value)
    if number is None and isinstance(value, str):
        match = _RATE.match(value)
        if match:
            number = float(match.group(1)) / _RATE_UNITS[match.group(2)]
    if number is None:
        raise ValueError("expected a rate such as 600/h, 10/min or 2/s")
    if number < 0:
        raise ValueError("a rate cannot be negative")
    return number


def parse_bandwidth(value: object) -> float:
    """``"2Mbps"`` -> 2e6 bits per second; ``"100KB/s"`` -> 8e5."""
    if isinstance(value, str):
        match = _BANDWIDTH.match(value)
        if match:
            return float(match.group(1)) * _BANDWIDTH_UNITS[match.group(2)]
    raise ValueError("expected a bandwidth such as 2Mbps, 512kbps or 100KB/s")


def parse_size(value: object) -> float:
    """``"1.5KB"`` -> 1500 bytes; a bare number is bytes."""
    number = _number(value)
    if number is None and isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            number = float(match.group(1)) * _SIZE_UNITS[match.group(2)]
    if number is None or number < 0:
        raise ValueError("expected a size such as 1200B or 1.5KB")
    return number


def format_duration(seconds: float) -> str:
    """Inverse of :func:`parse_duration`, for messages and reports."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    parts = []
    rest = seconds
    for unit, size in (("h", 3600.0), ("m", 60.0)):
        if rest >= size:
            whole = int(rest // size)
            parts.append(f"{whole}{unit}")
            rest -= whole * size
    if rest or not parts:
        parts.append(f"{rest:g}s")
    return "".join(parts)


Duration = Annotated[float, BeforeValidator(parse_duration, json_schema_input_type=float | str)]
Fraction = Annotated[float, BeforeValidator(parse_fraction, json_schema_input_type=float | str)]
Rate = Annotated[float, BeforeValidator(parse_rate, json_schema_input_type=float | str)]
Bandwidth = Annotated[float, BeforeValidator(parse_bandwidth, json_schema_input_type=float | str)]
Size = Annotated[float, BeforeValidator(parse_size, json_schema_input_type=float | str)]
Money = Annotated[float, PlainSerializer(float)]
