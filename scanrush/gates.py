"""Gates: ``metric op threshold`` lines of a scenario, parsed and checked against the metric catalogue.

INTERFACE SKELETON — the logic is being written; the names below are the contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Operator = Literal[">=", "<=", "==", "<", ">"]


@dataclass(frozen=True, slots=True)
class Gate:
    text: str
    """As written in the scenario, e.g. 'huabei_success_rate >= 97%'."""
    metric: str
    """A key of ``ReplicationStats.metrics()``, e.g. 'huabei_success_rate' or
    'huabei_success_rate[zone=fashion]'."""
    op: Operator
    threshold: float
    """In the metric's unit: fractions for rates (97% -> 0.97), seconds for durations (3m -> 180)."""

    @property
    def name(self) -> str:
        """Stable identifier (JUnit testcase name): the normalised text, e.g. 'huabei_success_rate >= 97%'."""
        raise NotImplementedError

    def holds(self, value: float) -> bool:
        raise NotImplementedError


def parse_gate(text: str) -> Gate:
    """A gate from its text; ``ValueError`` with a hint for anything else."""
    raise NotImplementedError


ZONE_METRICS = ("shoppers", "huabei_checkouts", "huabei_success_rate", "abandonment_rate")
"""Metrics that ``ReplicationStats.metrics()`` also reports per mall zone, as ``zone_metric(base, zone)``."""


def zone_metric(base: str, zone: str) -> str:
    """The metric key of ``base`` restricted to one mall zone: 'huabei_success_rate[zone=fashion]'."""
    return f"{base}[zone={zone}]"
