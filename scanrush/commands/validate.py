"""``scanrush validate FILE... [--set PATH=VALUE ...]``: check scenarios before anything runs."""

from __future__ import annotations

import argparse

from scanrush.errors import ScenarioError
from scanrush.scenario.loader import load_scenario
from scanrush.units import format_duration


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario files to check")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a value after extends, e.g. --set gateway.workers=96 "
                             "or --set mall.zones.fashion.network=wired (repeatable)")


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every file is valid, 2 otherwise; every problem of every file is listed."""
    invalid = 0
    for file in args.files:
        try:
            scenario = load_scenario(file, args.overrides)
        except ScenarioError as exc:
            invalid += 1
            count = len(exc.problems)
            print(f"FAIL  {file}  ({count} problem{'s' if count != 1 else ''})")
            for problem in exc.problems:
                print(f"  {problem.render()}")
            continue
        print(f"ok  {file}  ({scenario.name}, {scenario.terminal_count} terminals, "
              f"{format_duration(scenario.duration)})")
    if invalid and len(args.files) > 1:
        print(f"{invalid} of {len(args.files)} files have problems")
    return 2 if invalid else 0
