"""One toxic running on one link: the stub its ``pipe`` coroutine talks to, and its driver.

The coroutine is stepped by hand (``send``/``throw``) instead of running as an asyncio
task. Its awaitables either complete at once (data already queued, deadline already
passed) or yield themselves as a request: "wake me with the next chunk" or "wake me at
time T", which the stage serves from ``push`` or a loop timer. Because nothing else
schedules the coroutine, interrupting it is synchronous: the toxic hands back what it
holds before ``interrupt()`` returns, so the link can splice the chain with no data in
flight anywhere but the stage queues.

States: *running* (a coroutine exists), *bypass* (not affected by this draw of
``toxicity``, or ``noop``: chunks go straight through), *stopped* (interrupted,
chunks queue until the link restarts or removes the stage) and *closed*.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections import deque
from collections.abc import Coroutine, Generator
from typing import TYPE_CHECKING, Any, Protocol

from load.toxiproxy.toxics import Chunk, Interrupted, TimedOut

if TYPE_CHECKING:
    from load.toxiproxy.toxic_collection import ToxicEntry

__all__ = ["Receiver", "Stage"]

_log = logging.getLogger(__name__)


class Receiver(Protocol):
    """Where a stage sends: the next stage, or the link's sink. ``None`` is end of stream."""

    def push(self, item: Chunk | None) -> None: ...


class Accounting(Protocol):
    """The link's count of bytes waiting in stage queues (it pauses reading when high)."""

    def queued(self, nbytes: int) -> None: ...

    def dequeued(self, nbytes: int) -> None: ...


class _Recv:
    __slots__ = ("stage",)

    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    def __await__(self) -> Generator[object, object, Chunk | None]:
        stage = self.stage
        if stage.interrupted:
            raise Interrupted
        if stage.inbox:
            return stage.pop()
        item: Any = yield self
        return item  # type: ignore[no-any-return]


class _RecvUntil:
    __slots__ = ("deadline", "stage")

    def __init__(self, stage: Stage, deadline: float) -> None:
        self.stage, self.deadline = stage, deadline

    def __await__(self) -> Generator[object, object, Chunk | TimedOut | None]:
        stage = self.stage
        if stage.interrupted:
            raise Interrupted
        if stage.inbox:
            return stage.pop()
        if self.deadline <= stage.now():
            return TimedOut.TIMED_OUT
        item: Any = yield self
        return item  # type: ignore[no-any-return]


class _Sleep:
    __slots__ = ("stage", "when")

    def __init__(self, stage: Stage, when: float) -> None:
        self.stage, self.when = stage, when

    def __await__(self) -> Generator[object, object, bool]:
        if self.stage.interrupted:
            return False
        if self.when <= self.stage.now():
            return True
        woken: Any = yield self
        return bool(woken)


class Stage:
    """A toxic on one link: implements the toxic's ``Stub`` and drives its coroutine."""

    __slots__ = ("_bypass", "_coro", "_stepping", "_timer", "_wait", "account", "closed", "entry",
                 "inbox", "interrupted", "loop", "next", "rng", "state")

    def __init__(self, entry: ToxicEntry, next_: Receiver, account: Accounting, rng: random.Random,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.entry = entry
        self.next = next_
        self.account = account
        self.rng = rng
        self.loop = loop
        self.state: Any = entry.toxic.new_state()
        self.inbox: deque[Chunk | None] = deque()
        self.closed = False
        self.interrupted = False
        self._bypass = False
        self._coro: Coroutine[object, object, None] | None = None
        self._wait: object = None
        self._timer: asyncio.TimerHandle | None = None
        self._stepping = False

    # -- the Stub a toxic sees ------------------------------------------------------------

    def now(self) -> float:
        return self.loop.time()

    def recv(self) -> _Recv:
        return _Recv(self)

    def recv_until(self, deadline: float) -> _RecvUntil:
        return _RecvUntil(self, deadline)

    def sleep_until(self, when: float) -> _Sleep:
        return _Sleep(self, when)

    def send(self, chunk: Chunk) -> None:
        if not self.closed:
            self.next.push(chunk)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._discard_inbox()
        self.next.push(None)

    # -- driven by the link -----------------------------------------------------------------

    def start(self) -> None:
        """(Re)start the toxic with a fresh toxicity draw; queued chunks are processed first."""
        if self.closed:
            return
        self.interrupted = False
        affected = self.rng.random() < self.entry.toxicity
        if self.entry.toxic.passthrough or not affected:
            self._bypass = True
            while self.inbox and not self.closed:
                self.next.push(self.pop())
            return
        self._bypass = False
        self._coro = self.entry.toxic.pipe(self)
        self._step(None)

    def push(self, item: Chunk | None) -> None:
        if self.closed:
            return
        if self._bypass and not self.inbox:
            self.next.push(item)
        elif isinstance(self._wait, _Recv | _RecvUntil) and not self._stepping and not self.inbox:
            self._unpark()
            self._step(item)
        else:
            self.inbox.append(item)
            if item is not None:
                self.account.queued(len(item.data))

    def pop(self) -> Chunk | None:
        item = self.inbox.popleft()
        if item is not None:
            self.account.dequeued(len(item.data))
        return item

    def interrupt(self) -> None:
        """Stop the toxic now; it sends what it holds. Later chunks queue until ``start``."""
        self.interrupted = True
        self._bypass = False
        wait = self._unpark()
        if self._coro is None:
            return
        if isinstance(wait, _Sleep):
            self._step(False)
        elif wait is not None:
            self._step(None, Interrupted())
        if self._coro is not None:  # a toxic that ignored the interrupt
            _log.warning("toxic %s ignored an interrupt; stopped", self.entry.name)
            self._coro.close()
            self._coro = None

    def drain_to_next(self) -> None:
        """Hand every queued item to the next receiver (the stage is being removed)."""
        while self.inbox and not self.closed:
            self.next.push(self.pop())

    def stop(self) -> None:
        """Tear down without forwarding anything: the connection is gone."""
        self.closed = True
        self._unpark()
        if self._coro is not None:
            self._coro.close()
            self._coro = None
        self._discard_inbox()

    # -- the driver ---------------------------------------------------------------------------

    def _step(self, value: object, error: BaseException | None = None) -> None:
        """Resume the coroutine until it must wait for something that is not there yet."""
        self._stepping = True
        try:
            while self._coro is not None:
                request = self._resume(value, error)
                value, error = None, None
                if request is None:
                    return
                if isinstance(request, _Recv | _RecvUntil) and self.inbox:
                    value = self.pop()  # queued by a re-entrant push while we were running
                    continue
                self._park(request)
                return
        finally:
            self._stepping = False

    def _resume(self, value: object, error: BaseException | None) -> object:
        coro = self._coro
        assert coro is not None
        try:
            return coro.throw(error) if error is not None else coro.send(value)
        except (StopIteration, Interrupted):
            self._coro = None
        except Exception:
            _log.exception("toxic %s failed; closing its link", self.entry.name)
            self._coro = None
            self.close()
        return None

    def _park(self, request: object) -> None:
        self._wait = request
        when = math.inf
        if isinstance(request, _RecvUntil):
            when = request.deadline
        elif isinstance(request, _Sleep):
            when = request.when
        if when != math.inf:
            self._timer = self.loop.call_at(when, self._on_timer)

    def _unpark(self) -> object:
        wait, self._wait = self._wait, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return wait

    def _on_timer(self) -> None:
        self._timer = None
        wait = self._unpark()
        self._step(TimedOut.TIMED_OUT if isinstance(wait, _RecvUntil) else True)

    def _discard_inbox(self) -> None:
        while self.inbox:
            self.pop()
