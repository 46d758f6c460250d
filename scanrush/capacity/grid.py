"""``--vary PATH=V1,V2,...`` axes, their grid of ``--set`` overrides, and up-front validation."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from scanrush.errors import InputError, ScenarioError
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import Scenario

_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*(?::\s*(\d+)\s*)?$")
MAX_POINTS = 10_000  # a typo such as 1..100000 should fail fast, not fill the disk


@dataclass(frozen=True, slots=True)
class Axis:
    """One varied scenario path and its values, as written (YAML text, like ``--set``)."""

    path: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Point:
    """One grid point: ``settings`` pairs each axis path with this point's value."""

    index: int
    settings: tuple[tuple[str, str], ...]

    @property
    def overrides(self) -> list[str]:
        return [f"{path}={value}" for path, value in self.settings]

    @property
    def label(self) -> str:
        return " ".join(self.overrides)


def parse_axis(text: str) -> Axis:
    """``gateway.workers=6..25`` (inclusive, ``:step`` optional) or ``path=a,b,c`` (YAML values)."""
    path, sep, spec = text.partition("=")
    path = path.strip()
    if not sep or not path or not spec.strip():
        raise InputError(f"--vary {text!r}: expected PATH=V1,V2,... or PATH=LO..HI[:STEP], "
                         "for example --vary gateway.workers=8,12,16")
    match = _RANGE.match(spec)
    if match:
        low, high, step = int(match[1]), int(match[2]), int(match[3] or 1)
        if high < low or step < 1:
            raise InputError(f"--vary {text!r}: the range {low}..{high} is empty; write the smaller bound first")
        values = tuple(str(v) for v in range(low, high + 1, step))
    else:
        values = tuple(v.strip() for v in split_top_level(spec))
    if any(not v for v in values):
        raise InputError(f"--vary {text!r}: an empty value between commas")
    if len(set(values)) != len(values):
        raise InputError(f"--vary {text!r}: a value is listed twice")
    return Axis(path, values)


def split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and braces, so YAML flow values (``[1, 2]``) stay whole."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def grid(axes: Sequence[Axis]) -> list[Point]:
    """Every combination, the first axis varying slowest (row-major, as the heatmap reads)."""
    paths = [axis.path for axis in axes]
    if len(set(paths)) != len(paths):
        raise InputError(f"--vary: the same path is varied twice ({', '.join(paths)})")
    size = 1
    for axis in axes:
        size *= len(axis.values)
    if size > MAX_POINTS:
        raise InputError(f"--vary: {size} grid points is more than {MAX_POINTS}; narrow the ranges")
    combos = itertools.product(*(axis.values for axis in axes))
    return [Point(i, tuple(zip(paths, combo, strict=True))) for i, combo in enumerate(combos)]


def load_points(file: str, base: Sequence[str], points: Sequence[Point]) -> list[Scenario]:
    """Each point's validated scenario; every bad point is named in one ``InputError`` (exit 2)."""
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for point in points:
        try:
            scenarios.append(load_scenario(file, [*base, *point.overrides]))
        except ScenarioError as exc:
            details = "\n".join("    " + p.render() for p in exc.problems)
            problems.append(f"  grid point {point.index} ({point.label}):\n{details}")
    if problems:
        raise InputError(f"{len(problems)} of {len(points)} grid points are not valid scenarios:\n"
                         + "\n".join(problems))
    return scenarios
