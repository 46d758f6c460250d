"""Shared pieces of the simulator tests.

``oracles.py`` sits next to the tests that use it.  Under ``--import-mode=importlib``
test directories are not put on ``sys.path`` (and there is no ``__init__.py``
to make ``tests.sim`` a package), so this conftest, which pytest imports before
any test module of this directory, puts the directory there once: the tests
then ``import oracles`` like any module, and mypy resolves it the same way.

``build_scenario`` makes small scenarios from a *clean* base, one where nothing
can fail (no loss, qualified merchants, current firmware, no risk, an ample
gateway), plus nested overrides, so a test states only what it changes.
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


@pytest.fixture(scope="session")
def build_scenario() -> ScenarioBuilder:
    """``build_scenario({"gateway": {"workers": 1}}, name="x")``: the clean base with overrides.

    Session-scoped so hypothesis tests can use it (it holds no state).
    """
    def build(overrides: Mapping[str, Any] | None = None, **top: Any) -> Scenario:
        return Scenario.model_validate(merge(merge(CLEAN, overrides or {}), top))

    return build
