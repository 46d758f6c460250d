"""Fixtures for the gateway stub's tests: servers on 127.0.0.1, port 0, torn down after use.

``harness.py`` sits next to the tests; as in ``tests/sim``, this conftest puts the
directory on ``sys.path`` (``--import-mode=importlib`` does not) so tests
``import harness``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from harness import FROZEN, Harness, StubFactory, scenario  # noqa: E402


@pytest.fixture
def stub() -> Iterator[Harness]:
    """The test world's stub, scenario clock frozen at 10m."""
    harness = Harness(scenario())
    yield harness
    harness.close()


@pytest.fixture
def make_stub() -> Iterator[StubFactory]:
    """``make_stub(*overrides, options=..., signer=..., verifier=...)``: a stub for a variant of the test world."""
    made: list[Harness] = []

    def make(*overrides: str, options: Any = FROZEN, **kwargs: Any) -> Harness:
        harness = Harness(scenario(*overrides), options, **kwargs)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()
