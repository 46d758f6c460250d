"""How every checkout ends: one outcome per shopper, one cause per failed Huabei checkout.

The simulator and the live path classify with these same enums, and the result
file keys its counts by their values, so the two paths can be compared cause by
cause.
"""

from __future__ import annotations

from enum import StrEnum


class Cause(StrEnum):
    """Why a Huabei scan payment failed (DESIGN.md, 'Where a Huabei scan payment fails')."""

    FIRMWARE = "firmware"
    MERCHANT = "merchant"
    CREDIT = "credit"
    NETWORK = "network"
    RISK = "risk"
    CAPACITY = "capacity"


class Outcome(StrEnum):
    """How a shopper's visit ended."""

    PAID_HUABEI = "paid_huabei"
    """Paid with Huabei (possibly after retrying with a new code)."""
    PAID_OTHER_AFTER_FAILURE = "paid_other_after_failure"
    """Huabei failed; the shopper paid another way."""
    LEFT_UNPAID = "left_unpaid"
    """Huabei failed and the shopper left without paying."""
    UNRESOLVED = "unresolved"
    """The terminal could not learn the trade's state: manual reconciliation needed."""
    ABANDONED_QUEUE = "abandoned_queue"
    """Gave up waiting in the queue before reaching the till."""
    PAID_OTHER = "paid_other"
    """Never meant to pay with Huabei; paid another way."""


HUABEI_FAILURES = (Outcome.PAID_OTHER_AFTER_FAILURE, Outcome.LEFT_UNPAID, Outcome.UNRESOLVED)
"""Outcomes that count as a failed Huabei checkout and carry a cause."""

CAUSES = tuple(Cause)
OUTCOMES = tuple(Outcome)
