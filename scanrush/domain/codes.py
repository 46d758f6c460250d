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
    return accepts((ALIPAY,), prefix, length)


def make_code(prefix: int, length: int, serial: int) -> str:
    """A deterministic code of the given shape for shopper ``serial``.

    The same (prefix, length, serial) always gives the same digits, so the live
    gateway stub can recognise the simulated world's shoppers by their codes.
    """
    body = str(serial).rjust(length - 2, "0")[-(length - 2):]
    return f"{prefix:02d}{body}"


def shape_of(code: str) -> tuple[int, int] | None:
    """(prefix, length) of a scanned code, or None if it is not all digits."""
    if len(code) < 2 or not code.isdigit():
        return None
    return int(code[:2]), len(code)


def garble(code: str) -> str:
    """What a misreading scanner sends: the code with its last digit lost."""
    return code[:-1]
