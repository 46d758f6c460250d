"""Payment codes: what Alipay issues, and what a terminal's firmware can parse.

Alipay payment codes are digits with a two-digit prefix 25–30 and a length of
16–24 (the 2017 format upgrade widened them from "28, 16–18").  Old firmware
that still assumes the narrow format rejects newer codes locally, before any
request is sent: that is the ``firmware`` cause at its purest.
"""

from __future__ import annotations

from collections.abc import Sequence

from scanrush.scenario.schema import CodeFormat

ALIPAY = CodeFormat(prefixes=(25, 30), lengths=(16, 24))


def accepts(formats: Sequence[CodeFormat], prefix: int, length: int) -> bool:
    """Whether firmware that parses ``formats`` reads a code of this shape."""
    for fmt in formats:
        low, high = fmt.prefixes
        shortest, longest = fmt.lengths
        if low <= prefix <= high and shortest <= length <= longest:
            return True
    return False


def is_alipay(prefix: int, length: int) -> bool:
    return 25 <= prefix <= 30 and 16 <= length <= 24  # ALIPAY's ranges, inlined: runs per payment


_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")
"""Each digit doubled, digits of the product summed (Luhn's 2*d - 9 for d >= 5)."""
_ISSUED: dict[str, None] = {}
"""Codes :func:`make_code` issued lately: their check digit is right by construction, so
:func:`check_digit_ok` need not recompute it when the gateway sees them moments later."""
_ISSUED_KEPT = 4096


def _luhn_digit(digits: str) -> int:
    """The Luhn check digit for ``digits`` (it catches every single-digit substitution)."""
    # From the right the 1st, 3rd, ... digits are doubled; summing the ASCII bytes and taking
    # off 48 per digit adds the digits up without converting each one (this runs per payment).
    # bytes.translate with a 256-byte table is ~3x cheaper than str.translate.
    ascii_digits = digits.encode("ascii")
    total = (sum(ascii_digits[::-2].translate(_DOUBLED)) + sum(ascii_digits[-2::-2])
             - 48 * len(ascii_digits))
    return -total % 10  # (10 - total % 10) % 10: Python's % is never negative


def make_code(prefix: int, length: int, number: int) -> str:
    """The code issued for ``number`` (a shopper's ``serial * 16 + attempt``): prefix, digits, check digit.

    The same inputs always give the same code, so the live gateway stub can recognise
    the simulated world's shoppers by their codes (:func:`decode`).  The trailing Luhn
    digit lets the gateway reject a garbled scan instead of charging a stranger.
    """
    body = str(number).rjust(length - 3, "0")[-(length - 3):]
    head = f"{prefix:02d}{body}"
    code = head + str(_luhn_digit(head))
    if len(_ISSUED) >= _ISSUED_KEPT:
        _ISSUED.clear()
    _ISSUED[code] = None
    return code


def check_digit_ok(code: str) -> bool:
    """Whether an all-digit ``code`` of at least 4 digits passes its check digit (:func:`decode`'s test)."""
    if code in _ISSUED:
        return True
    # ``_luhn_digit(code[:-1]) == int(code[-1])``, as Luhn's own test: with the check digit added
    # undoubled, the sum ends in 0.  One pass over the whole code, no slice of it, no int().
    ascii_digits = code.encode("ascii")
    return (sum(ascii_digits[-2::-2].translate(_DOUBLED)) + sum(ascii_digits[::-2])
            - 48 * len(ascii_digits)) % 10 == 0


def decode(code: str) -> int | None:
    """The number a well-formed code was issued for, or None if it fails its check digit."""
    if len(code) < 4 or not code.isdigit() or not check_digit_ok(code):
        return None
    return int(code[2:-1])


def is_valid_alipay(code: str) -> bool:
    """``shape_of(code)`` is an Alipay shape and ``decode(code)`` is not None: the gateway's code check, in one call."""
    length = len(code)
    if length < 2 or not code.isdigit():
        return False
    prefix = int(code[:2])
    if not (25 <= prefix <= 30 and 16 <= length <= 24):
        return False
    return check_digit_ok(code)


def shape_of(code: str) -> tuple[int, int] | None:
    """(prefix, length) of a scanned code, or None if it is not all digits."""
    if len(code) < 2 or not code.isdigit():
        return None
    return int(code[:2]), len(code)


def garble(code: str) -> str:
    """What a misreading scanner sends: one digit read wrong (the check digit then fails)."""
    middle = len(code) // 2
    wrong = str((int(code[middle]) + 5) % 10)
    return code[:middle] + wrong + code[middle + 1:]
