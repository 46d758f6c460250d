"""One error tree for scanrush; the CLI maps each branch to an exit code.

    ScanrushError
    ├── InputError (exit 2)            bad scenario file, bad option
    │   └── ScenarioError               carries every Problem found, with file/line/path/value
    ├── InfrastructureError (exit 3)    port in use, server unreachable, ...
    └── InterruptedRun (exit 130)       Ctrl-C; partial results were written
"""

from __future__ import annotations

from dataclasses import dataclass


class ScanrushError(Exception):
    """Root of every error scanrush raises on purpose."""

    exit_code = 1


class InputError(ScanrushError, ValueError):
    """The user gave us something we cannot use (file, option, value)."""

    exit_code = 2


class InfrastructureError(ScanrushError):
    """The environment is not fit to run: a port is taken, a server is unreachable."""

    exit_code = 3


class InterruptedRun(ScanrushError):  # noqa: N818 - it is not an error, the user asked to stop
    """The run was interrupted; whatever was measured has been written."""

    exit_code = 130


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input file, located as precisely as we can."""

    file: str
    line: int | None
    column: int | None
    path: str
    value: object
    message: str
    hint: str = ""

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        shown = "" if self.value is _MISSING else f" = {self.value!r}"
        subject = f"{self.path}{shown}: " if self.path else ""
        text = f"{where}: {subject}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: object = _Missing()
MISSING = _MISSING


class ScenarioError(InputError):
    """Every problem found in a scenario, reported together."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        head = f"{count} problem{'s' if count != 1 else ''} found"
        super().__init__(head + ":\n" + "\n".join("  " + p.render() for p in problems))
