"""Fixtures shared across the test tree; kept tiny on purpose."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

SCENARIO_DATA = Path(__file__).parent / "scenario" / "data"
"""Valid scenario files for tests: ``minimal.yaml`` (2 zones), ``promo.yaml`` and ``twin.yaml`` (extends)."""


@pytest.fixture
def minimal_scenario() -> Path:
    """A small valid scenario: two zones, one firmware, one flat hour of shoppers."""
    return SCENARIO_DATA / "minimal.yaml"


@pytest.fixture
def tmp_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Path]:
    """``tmp_scenario("a.yaml", text)`` writes a file in a fresh directory (also the cwd) and returns its name."""
    monkeypatch.chdir(tmp_path)

    def write(name: str, text: str) -> Path:
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
        return Path(name)

    return write
