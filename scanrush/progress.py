"""Progress of a run's replications, on stderr.

On a terminal: a rich progress bar.  In CI logs or when stderr is not a TTY:
a plain line at most every ``interval`` seconds (a redrawn bar would flood a
log with escape codes), plus one at the start and one at the end::

    replications 4/20 elapsed 3.1s eta 12.4s
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as _RichProgress

from scanrush.summary import is_plain


class Progress:
    """``with Progress(total) as p: ... p.advance()`` — safe to advance from worker callbacks."""

    def __init__(
        self,
        total: int,
        *,
        label: str = "replications",
        stream: TextIO | None = None,
        plain: bool | None = None,
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if total < 0:
            raise ValueError(f"total must be >= 0, got {total}")
        self.total = total
        self.label = label
        self._stream = stream
        self._plain = plain
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._done = 0
        self._start = 0.0
        self._last_line = -1.0
        self._lines_at = -1
        self._bar: _RichProgress | None = None
        self._task = TaskID(0)

    @property
    def done(self) -> int:
        return self._done

    @property
    def elapsed(self) -> float:
        return self._clock() - self._start

    @property
    def eta(self) -> float | None:
        """Seconds left at the pace so far; None before the first replication finishes."""
        if self._done == 0:
            return None
        return self.elapsed / self._done * max(0, self.total - self._done)

    def line(self) -> str:
        eta = self.eta
        shown = "?" if eta is None else f"{eta:.1f}s"
        return f"{self.label} {self._done}/{self.total} elapsed {self.elapsed:.1f}s eta {shown}"

    def __enter__(self) -> Progress:
        self._start = self._clock()
        stream = self._stream if self._stream is not None else sys.stderr
        plain = self._plain if self._plain is not None else is_plain(stream)
        if plain:
            self._emit()
        else:
            self._bar = _RichProgress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                console=Console(file=self._stream, stderr=self._stream is None),
            )
            self._task = self._bar.add_task(self.label, total=self.total)
            self._bar.start()
        return self

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self._done += n
            if self._bar is not None:
                self._bar.advance(self._task, n)
            elif self._done >= self.total or self._clock() - self._last_line >= self._interval:
                self._emit()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self._lines_at != self._done:
            self._emit()  # the final count, even if it came less than `interval` after the last line

    def _emit(self) -> None:
        stream = self._stream if self._stream is not None else sys.stderr
        print(self.line(), file=stream, flush=True)
        self._last_line = self._clock()
        self._lines_at = self._done
