"""Puts this directory on ``sys.path`` so tests ``import capacity_fakes`` (as tests/sim does with oracles)."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
