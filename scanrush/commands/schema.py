"""``scanrush schema [--output FILE]``: the JSON Schema of scenario files, for editors.

Point the YAML language server at it (``# yaml-language-server: $schema=scenario.schema.json``)
to get completion and unknown-key warnings while writing a scenario.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scanrush.errors import InputError
from scanrush.scenario.schema import Scenario

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", metavar="FILE", help="write the schema to FILE instead of stdout")


def scenario_schema() -> dict[str, object]:
    """The schema, keyed as scenario files are written (``for``, not ``for_``)."""
    return {"$schema": DIALECT, **Scenario.model_json_schema(by_alias=True)}


def run(args: argparse.Namespace) -> int:
    text = json.dumps(scenario_schema(), indent=2) + "\n"
    if args.output is None:
        print(text, end="")
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {args.output}: {exc.strerror}") from exc
    print(f"wrote {args.output}")
    return 0
