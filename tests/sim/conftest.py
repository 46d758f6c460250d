"""Shared pieces of the simulator tests.

``oracles.py`` sits next to the tests that use it.  Under ``--import-mode=importlib``
test directories are not put on ``sys.path`` (and there is no ``__init__.py``
to make ``tests.sim`` a package), so this conftest, which pytest imports before
any test module of this directory, puts the directory there once: the tests
then ``import oracles`` like any module, and mypy resolves it the same way.

``build_scenario`` makes small scenarios from a *clean* base, one where nothing
can fail (no loss, qualified merchants, current firmware, no risk, an ample
gateway), plus nested overrides, so a test states only what it changes;
``all_causes`` is the overrides under which every cause of failure shows up.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from scanrush.scenario.schema import Scenario

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

ScenarioBuilder = Callable[..., Scenario]

CLEAN: dict[str, Any] = {
    "name": "clean",
    "seed": 424242,
    "duration": "20m",
    "mall": {"zones": [
        {"name": "hall", "stores": 3, "terminals_per_store": 2, "network": "lan"},
    ]},
    "networks": {"lan": {"rtt": "5ms"}},
    "terminals": {"firmware": [{"version": "3.2", "share": "100%"}]},
    "shoppers": {
        "arrivals": [{"at": 0, "rate": "600/h"}],
        "huabei_share": "100%",
        "basket": 100,
        "checkout_time": {"exponential": {"mean": "20s"}},
        "other_method_time": "10s",
        "scan_time": "2s",
    },
    "gateway": {"workers": 64, "service_time": "50ms"},
}
"""Nothing can fail here: every Huabei checkout is paid (basket < password-free limit, ample credit)."""


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` merged in: mappings key by key, anything else replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


ALL_CAUSES: dict[str, Any] = {
    "duration": "30m",
    "mall": {"zones": [
        {"name": "hall", "stores": 4, "terminals_per_store": 3, "network": "wifi", "queue": "shared"},
        {"name": "kiosks", "stores": 6, "terminals_per_store": 1, "network": "cell", "merchants": "kiosk"},
    ]},
    "merchants": {"default": {"qualified": "95%", "huabei_enabled": "90%"},
                  "kiosk": {"qualified": "70%", "huabei_enabled": "60%"}},
    "networks": {"wifi": {"rtt": "120ms", "jitter": "60ms", "loss": "4%", "outages": [{"at": "12m", "for": "2m"}]},
                 "cell": {"rtt": "60ms", "loss": "1%"}},
    "terminals": {"firmware": [
        {"version": "2.8", "share": "40%", "accepts": [{"prefixes": 28, "lengths": "16-18"}],
         "misread": "2%", "query_on_timeout": False},
        {"version": "3.2", "share": "60%"},
    ]},
    "shoppers": {
        "arrivals": [{"at": 0, "rate": "1200/h"}, {"at": "15m", "rate": "2400/h"}, {"at": "30m", "rate": "1200/h"}],
        "huabei_share": "60%",
        "basket": {"lognormal": {"median": 300, "sigma": 0.8}},
        "patience": {"exponential": {"mean": "3m"}},
        "codes": [{"format": {"prefixes": 28, "lengths": 18}, "share": "60%"},
                  {"format": {"prefixes": "25-30", "lengths": "16-24"}, "share": "40%"}],
        "credit": {"not_opened": "3%", "frozen": "1%", "used": "40%", "password_free_limit": 500,
                   "confirm_fail": "10%", "balance_fallback": "30%"},
    },
    "gateway": {"workers": 1, "service_time": {"lognormal": {"median": "1500ms", "sigma": 0.5}},
                "queue_timeout": "1s", "risk": {"reject": "5%"}},
}
"""Every cause active in 30 minutes: old firmware, unqualified merchants, short credit, lossy
Wi-Fi with an outage, risk rejections and an undersized gateway (test_model, test_regression)."""


@pytest.fixture(scope="session")
def build_scenario() -> ScenarioBuilder:
    """``build_scenario({"gateway": {"workers": 1}}, name="x")``: the clean base with overrides.

    Session-scoped so hypothesis tests can use it (it holds no state).
    """
    def build(overrides: Mapping[str, Any] | None = None, **top: Any) -> Scenario:
        return Scenario.model_validate(merge(merge(CLEAN, overrides or {}), top))

    return build


@pytest.fixture
def all_causes() -> dict[str, Any]:
    """Overrides of the clean base that make every cause of failure happen (a fresh copy)."""
    return copy.deepcopy(ALL_CAUSES)
