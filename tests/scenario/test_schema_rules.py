"""Schema rules beyond field types: bounds, windows, implicit profiles, twins changing a distribution."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scanrush.errors import ScenarioError
from scanrush.scenario.loader import load_scenario

MINIMAL = Path(__file__).parent / "data" / "minimal.yaml"


def problems(overrides: list[str]) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(MINIMAL, overrides)
    return [p.render() for p in caught.value.problems]


def test_uniform_bounds_must_be_ordered() -> None:
    assert any("0 <= low <= high" in p for p in problems(["shoppers.checkout_time={uniform: [30s, 10s]}"]))


def test_a_window_after_closing_is_reported() -> None:
    found = problems(["gateway.brownouts=[{at: 2h, for: 5m}]"])
    assert any("gateway.brownouts[0].at" in p and "after the promotion ends" in p for p in found)


def test_live_terminals_must_be_positive() -> None:
    assert any("live.terminals" in p for p in problems(["live.terminals=0"]))


def test_the_default_merchant_profile_needs_no_declaration() -> None:
    scenario = load_scenario(MINIMAL, ["merchants={other: {qualified: 50%}}"])
    assert scenario.merchant_profile("default").qualified == 1.0


def test_a_twin_may_change_a_distribution_form(tmp_scenario: Callable[[str, str], Path]) -> None:
    twin = tmp_scenario("twin.yaml", f"extends: {MINIMAL}\nname: twin\n"
                                     "shoppers: {checkout_time: {exponential: {mean: 40s}}}\n")
    base = tmp_scenario("base.yaml", MINIMAL.read_text().replace(
        "shoppers:\n", "shoppers:\n  checkout_time: {lognormal: {median: 30s, sigma: 0.5}}\n"))
    twin.write_text(twin.read_text().replace(str(MINIMAL), str(base)))
    scenario = load_scenario(twin)
    assert scenario.shoppers.checkout_time.exponential is not None
    assert scenario.shoppers.checkout_time.lognormal is None
