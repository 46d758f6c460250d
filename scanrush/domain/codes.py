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


_DOUBLED = str.maketrans("0123456789", "0246813579")
"""Each digit doubled, digits of the product summed (Luhn's 2*d - 9 for d >= 5)."""


def _luhn_digit(digits: str) -> int:
    """The Luhn check digit for ``digits`` (it catches every single-digit substitution)."""
    # From the right the 1st, 3rd, ... digits are doubled; summing the ASCII bytes and taking
    # off 48 per digit adds the digits up without converting each one (this runs per payment).
    both = (digits[::-2].translate(_DOUBLED) + digits[-2::-2]).encode("ascii")
    total = sum(both) - 48 * len(both)
    return (10 - total % 10) % 10


def make_code(prefix: int, length: int, number: int) -> str:
    """The code issued for ``number`` (a shopper's ``serial * 16 + attempt``): prefix, digits, check digit.

    The same inputs always give the same code, so the live gateway stub can recognise
    the simulated world's shoppers by their codes (:func:`decode`).  The trailing Luhn
    digit lets the gateway reject a garbled scan instead of charging a stranger.
    """
    body = str(number).rjust(length - 3, "0")[-(length - 3):]
    head = f"{prefix:02d}{body}"
    return head + str(_luhn_digit(head))


def decode(code: str) -> int | None:
    """The number a well-formed code was issued for, or None if it fails its check digit."""
    if len(code) < 4 or not code.isdigit() or _luhn_digit(code[:-1]) != int(code[-1]):
        return None
    return int(code[2:-1])


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
