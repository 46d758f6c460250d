"""Options and helpers the capacity commands (sweep, plan, whatif) share."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

from scanrush.commands.options import non_negative, positive
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import Scenario


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="scenario file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a scenario value for every run, e.g. --set duration=1h (repeatable)")
    parser.add_argument("-n", "--replications", type=positive, help="replications per configuration "
                        "(default: the scenario's)")
    parser.add_argument("--seed", type=non_negative, help="seed (default: the scenario's)")
    parser.add_argument("-j", "--processes", type=positive, help="local worker processes (default: one per core)")
    parser.add_argument("--executor", metavar="local|dask://HOST:PORT", default="local",
                        help="where replications run: a local process pool (default) or an existing Dask "
                             "scheduler (needs scanrush[dask])")


def base_overrides(args: argparse.Namespace) -> list[str]:
    """``--set`` plus ``--seed``/``--replications`` as overrides, exactly as ``scanrush sim`` does."""
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.replications is not None:
        overrides.append(f"replications={args.replications}")
    return overrides


def load_base(args: argparse.Namespace) -> tuple[Scenario, list[str]]:
    overrides = base_overrides(args)
    return load_scenario(args.file, overrides), overrides


def default_out(scenario: Scenario, suffix: str, given: Path | None) -> Path:
    if given is not None:
        return given
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", scenario.name).strip("-") or "scenario"
    return Path("results") / f"{slug}-{suffix}.json"


def chart_dir(out: Path, given: Path | None) -> Path:
    """Charts go next to the JSON, in a folder of the same stem, unless told otherwise."""
    return given if given is not None else out.with_suffix("")


def describe(values: Sequence[str]) -> str:
    return ", ".join(values) if len(values) <= 6 else f"{values[0]}, {values[1]}, …, {values[-1]} ({len(values)})"
