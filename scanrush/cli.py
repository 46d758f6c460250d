"""The ``scanrush`` front door: parse the command line, dispatch, map errors to exit codes.

Subcommands are data (`COMMANDS`); each lives in its own module under
``scanrush.commands`` and is imported only when it runs, so ``scanrush validate``
never pays for (or is broken by) the simulator's or Locust's imports.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn, Protocol, cast

from scanrush import __version__
from scanrush.errors import InfrastructureError, InputError, ScanrushError

__all__ = ["COMMANDS", "Command", "main", "run"]


@dataclass(frozen=True, slots=True)
class Command:
    """One row of the command table: ``scanrush NAME`` runs ``MODULE.run(args)``."""

    name: str
    module: str
    help: str


COMMANDS: tuple[Command, ...] = (
    Command("validate", "scanrush.commands.validate", "check scenario files; list every problem with file:line"),
    Command("sim", "scanrush.commands.sim", "simulate a scenario: seeded replications in seconds"),
    Command("load", "scanrush.commands.load", "live load test: gateway stub, Toxiproxy faults, Locust terminals"),
    Command("check", "scanrush.commands.check", "go/no-go on the gates (exit 0 GO, 1 NO-GO, 4 INCONCLUSIVE)"),
    Command("report", "scanrush.commands.report", "turn a result file into summary, charts, HTML, JUnit and CSV"),
    Command("compare", "scanrush.commands.compare", "compare result files side by side (sim vs live, before vs after)"),
    Command("sweep", "scanrush.commands.sweep", "run a scenario over a grid of --set values"),
    Command("plan", "scanrush.commands.plan", "capacity planning: what the rush needs for the gates to hold"),
    Command("whatif", "scanrush.commands.whatif", "re-run a scenario with a change and show what moves"),
    Command("gateway", "scanrush.commands.gateway", "serve the Alipay face-to-face payment gateway stub"),
    Command("toxiproxy", "scanrush.commands.toxiproxy", "serve the embedded Toxiproxy-compatible fault proxy"),
    Command("schema", "scanrush.commands.schema", "print the JSON Schema of scenario files, for editors"),
)

_DESCRIPTION = ("Will shoppers be able to pay with Huabei when the promotion rush comes? "
                "Simulate it, load-test it, gate on it.")
_EXIT_CODES = """\
exit codes:
  0    GO: every gate holds (or: the command succeeded)
  1    NO-GO: a gate fails
  2    bad input: scenario file or options
  3    environment: port in use, server unreachable, command not installed
  4    INCONCLUSIVE: not enough evidence either way
  130  interrupted; partial results were written
"""


class _CommandModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


class _Parser(argparse.ArgumentParser):
    """Usage errors go through the one error path (exit 2) instead of ``sys.exit`` mid-parse."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise InputError(message)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    sys.exit(run(argv))


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code. User errors print one ``error:`` line, no traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args  # known before parsing, so even import and usage errors honour it
    try:
        return _dispatch(args)
    except ScanrushError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help and --version end here
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2


def _dispatch(args: list[str]) -> int:
    chosen = _chosen(args)
    parser = _parser(chosen)
    namespace = parser.parse_args(args)
    if chosen is None:
        parser.print_help(sys.stderr)
        return 2
    return _import(chosen).run(namespace)


def _chosen(args: list[str]) -> Command | None:
    """The command named on the line: the first word that is not a global option."""
    for word in args:
        if not word.startswith("-"):
            return next((c for c in COMMANDS if c.name == word), None)
    return None


def _parser(chosen: Command | None) -> argparse.ArgumentParser:
    parser = _Parser(prog="scanrush", description=_DESCRIPTION,
                     epilog=_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--version", action="version", version=f"scanrush {__version__}")
    common = _Parser(add_help=False)
    # SUPPRESS: a subcommand's default must not undo `scanrush --debug validate ...`.
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks for errors")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.help, parents=[common])
        if command is chosen:  # only the command that runs is imported
            _import(command).add_arguments(sub)
    return parser


def _import(command: Command) -> _CommandModule:
    try:
        module = importlib.import_module(command.module)
    except ModuleNotFoundError as exc:
        if exc.name and (command.module == exc.name or command.module.startswith(exc.name + ".")):
            raise InfrastructureError(f"'scanrush {command.name}' is not available in this installation "
                                      f"(no module {command.module})") from exc
        raise InfrastructureError(f"'scanrush {command.name}' needs the Python package '{exc.name}', "
                                  "which is not installed") from exc
    return cast(_CommandModule, module)
