"""One direction of one proxied connection: source socket → toxic stages → destination socket.

*Upstream* links carry client → server bytes and *downstream* links server → client.
With no toxics, bytes read from the source are written to the destination in the same
callback (the overhead budget is well under a millisecond per round trip). With toxics,
each read becomes a :class:`Chunk` stamped with its arrival time and goes through the
stages in creation order; the link itself is the last receiver (the sink).

End of stream: when the source ends (EOF or error) the link pushes ``None`` down the
chain; when it reaches the sink the destination is closed *fully*, not half-closed, as
Toxiproxy does, which in turn ends the opposite link.

Flow control: reading from the source pauses while the destination's write buffer is
full or more than ``HIGH_WATER`` bytes wait in stage queues, so a stalled link (say
``bandwidth rate=0``) holds bytes in the kernel, not in memory.
"""

from __future__ import annotations

import asyncio
import enum
import random
from typing import TYPE_CHECKING

from load.toxiproxy.stage import Receiver, Stage
from load.toxiproxy.toxics import Chunk

if TYPE_CHECKING:
    from load.toxiproxy.toxic_collection import ToxicEntry

__all__ = ["HIGH_WATER", "LOW_WATER", "MAX_CHUNK", "Direction", "Link"]

MAX_CHUNK = 32 * 1024  # Toxiproxy's read size: toxics see at most this much per chunk
HIGH_WATER = 4 * 1024 * 1024
LOW_WATER = 1024 * 1024


class Direction(enum.Enum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


class Link:
    """Source → stages → destination for one direction of one connection."""

    __slots__ = ("_buffer_full", "_dest_full", "_reading_paused", "dest", "dest_open", "direction", "ended",
                 "first", "loop", "queued_bytes", "received", "rng_key", "sent", "source", "stages")

    def __init__(self, direction: Direction, source: asyncio.Transport, dest: asyncio.Transport,
                 rng_key: str) -> None:
        self.direction = direction
        self.source = source
        self.dest = dest
        self.rng_key = rng_key  # seeds each stage's random stream: reproducible per connection
        self.loop = asyncio.get_running_loop()
        self.first: Receiver = self
        self.stages: list[Stage] = []
        self.received = 0
        self.sent = 0
        self.queued_bytes = 0
        self.ended = False
        self.dest_open = True
        self._buffer_full = False
        self._dest_full = False
        self._reading_paused = False

    # -- from the source socket ---------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        self.received += len(data)
        first = self.first
        if first is self:  # no toxics: straight through, no chunk objects
            self._write(data)
            return
        stamp = self.loop.time()
        if len(data) <= MAX_CHUNK:
            first.push(Chunk(data, stamp))
            return
        for start in range(0, len(data), MAX_CHUNK):
            first.push(Chunk(data[start:start + MAX_CHUNK], stamp))

    def end(self) -> None:
        """The source reached EOF or failed: flush the chain, then close the destination."""
        if not self.ended:
            self.ended = True
            self.first.push(None)

    # -- the sink ----------------------------------------------------------------------------------

    def push(self, item: Chunk | None) -> None:
        if item is not None:
            self._write(item.data)
        elif self.dest_open:
            self.dest_open = False
            self.dest.close()  # after its buffer drains; an RST if linger 0 was set

    def _write(self, data: bytes) -> None:
        if self.dest_open:
            self.dest.write(data)
            self.sent += len(data)

    def dest_lost(self) -> None:
        self.dest_open = False

    # -- flow control ------------------------------------------------------------------------------

    def queued(self, nbytes: int) -> None:
        self.queued_bytes += nbytes
        if self.queued_bytes > HIGH_WATER and not self._buffer_full:
            self._buffer_full = True
            self._update_reading()

    def dequeued(self, nbytes: int) -> None:
        self.queued_bytes -= nbytes
        if self._buffer_full and self.queued_bytes <= LOW_WATER:
            self._buffer_full = False
            self._update_reading()

    def dest_writable(self, writable: bool) -> None:
        self._dest_full = not writable
        self._update_reading()

    def _update_reading(self) -> None:
        pause = self._buffer_full or self._dest_full
        if pause != self._reading_paused:
            self._reading_paused = pause
            if pause:
                self.source.pause_reading()
            else:
                self.source.resume_reading()

    # -- the chain -----------------------------------------------------------------------------

    def append(self, entry: ToxicEntry) -> None:
        """Add a toxic at the end of the chain; it applies to the very next chunk."""
        stage = Stage(entry, self, self, random.Random(f"{self.rng_key}/{entry.name}"), self.loop)
        if self.stages:
            self.stages[-1].next = stage
        else:
            self.first = stage
        self.stages.append(stage)
        stage.start()

    def restart(self, entry: ToxicEntry) -> None:
        """Apply updated settings: the toxic hands over what it holds and starts again."""
        stage = self._stage_of(entry)
        stage.interrupt()
        stage.start()

    def remove(self, entry: ToxicEntry) -> None:
        """Splice a toxic out, forwarding everything it held, in order; ``timeout`` closes instead."""
        stage = self._stage_of(entry)
        index = self.stages.index(stage)
        stage.interrupt()
        if entry.toxic.closes_on_remove:
            stage.close()
        else:
            stage.drain_to_next()
        if index == 0:
            self.first = stage.next
        else:
            self.stages[index - 1].next = stage.next
        del self.stages[index]
        stage.stop()

    def teardown(self) -> None:
        for stage in self.stages:
            stage.stop()

    def _stage_of(self, entry: ToxicEntry) -> Stage:
        return next(stage for stage in self.stages if stage.entry is entry)
