"""Seeded exact-value regression (Ciw style, simulation.md §1.2, §5.5).

A fixed seed and replication index must give exactly these counts.  Any change
in how the model consumes random numbers, orders events or classifies an
outcome moves them, so a refactor that was meant to change nothing fails here
loudly; one that was meant to change behaviour updates the pins on purpose.

To regenerate after an intended change, run this file as a script and paste
its output over ``PINNED``::

    .venv/bin/python tests/sim/test_regression.py

and say in the commit why the numbers moved (the statistical checks in
test_validation.py are what show the new numbers are still right).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from pprint import pformat
from typing import Any

import pytest

from scanrush.results import ReplicationStats
from scanrush.run import replicate
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import Scenario

MINIMAL = Path(__file__).resolve().parents[1] / "scenario" / "data" / "minimal.yaml"

Fingerprint = dict[str, Any]


def fingerprint(stats: ReplicationStats) -> Fingerprint:
    """The counts a refactor must not move (zero counts left out, so new outcome kinds don't break it)."""
    return {
        "shoppers": stats.shoppers,
        "outcomes": {k: v for k, v in sorted(stats.outcomes.items()) if v},
        "failures_by_cause": {k: v for k, v in sorted(stats.failures_by_cause.items()) if v},
        "waited": stats.waited,
        "retries": stats.retries,
        "ledger": {k: v for k, v in sorted(stats.ledger.items()) if v},
        "revenue": stats.revenue,
    }


# Regenerate with `.venv/bin/python tests/sim/test_regression.py` (see the module docstring).
PINNED: dict[str, Fingerprint] = {'minimal#0': {'shoppers': 576,
               'outcomes': {'paid_huabei': 264, 'paid_other': 312},
               'failures_by_cause': {},
               'waited': 554,
               'retries': 0,
               'ledger': {'paid': 264, 'trades': 264},
               'revenue': 57600.0},
 'minimal#1': {'shoppers': 607,
               'outcomes': {'paid_huabei': 288, 'paid_other': 319},
               'failures_by_cause': {},
               'waited': 593,
               'retries': 0,
               'ledger': {'paid': 288, 'trades': 288},
               'revenue': 60700.0},
 'all_causes#0': {'shoppers': 889,
                  'outcomes': {'abandoned_queue': 152,
                               'left_unpaid': 60,
                               'paid_huabei': 186,
                               'paid_other': 258,
                               'paid_other_after_failure': 203,
                               'unresolved': 30},
                  'failures_by_cause': {'capacity': 157,
                                        'credit': 15,
                                        'firmware': 57,
                                        'merchant': 35,
                                        'network': 16,
                                        'risk': 13},
                  'waited': 502,
                  'retries': 201,
                  'ledger': {'closed': 13,
                             'double_charges': 1,
                             'one_sided': 2,
                             'paid': 189,
                             'refunded': 3,
                             'trades': 205},
                  'revenue': 275150.7},
 'all_causes#7': {'shoppers': 932,
                  'outcomes': {'abandoned_queue': 162,
                               'left_unpaid': 49,
                               'paid_huabei': 213,
                               'paid_other': 301,
                               'paid_other_after_failure': 186,
                               'unresolved': 21},
                  'failures_by_cause': {'capacity': 121,
                                        'credit': 21,
                                        'firmware': 48,
                                        'merchant': 44,
                                        'network': 16,
                                        'risk': 6},
                  'waited': 550,
                  'retries': 181,
                  'ledger': {'closed': 5,
                             'double_charges': 2,
                             'one_sided': 2,
                             'paid': 225,
                             'refunded': 5,
                             'trades': 235},
                  'revenue': 308394.12}}


def scenarios(build: Callable[..., Scenario], all_causes: Mapping[str, Any]) -> dict[str, tuple[Scenario, int]]:
    """Name -> (scenario, replication index) of every pinned run."""
    minimal = load_scenario(MINIMAL)
    return {
        "minimal#0": (minimal, 0),
        "minimal#1": (minimal, 1),
        "all_causes#0": (build(all_causes), 0),
        "all_causes#7": (build(all_causes), 7),
    }


@pytest.mark.parametrize("name", ["minimal#0", "minimal#1", "all_causes#0", "all_causes#7"])
def test_pinned_counts(build_scenario: Callable[..., Scenario], all_causes: Mapping[str, Any], name: str) -> None:
    scenario, index = scenarios(build_scenario, all_causes)[name]
    assert fingerprint(replicate(scenario, index)) == PINNED[name]


def _regenerate() -> None:
    # As a script there is no pytest: reach the same base scenario and overrides directly.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conftest import ALL_CAUSES, CLEAN, merge

    def build(overrides: Mapping[str, Any] | None = None, **top: Any) -> Scenario:
        return Scenario.model_validate(merge(merge(CLEAN, overrides or {}), top))

    runs = {name: fingerprint(replicate(s, i)) for name, (s, i) in scenarios(build, ALL_CAUSES).items()}
    print("PINNED: dict[str, Fingerprint] = " + pformat(runs, width=110, sort_dicts=False))


if __name__ == "__main__":
    _regenerate()
