"""``bandwidth {rate}`` (KB/s, K = 1000): pace each link to ``rate`` bytes per millisecond.

Every chunk adds ``len/rate`` ms to a sleep budget that also absorbs timer overshoot,
so the average rate holds even though each sleep is late by a little. A chunk larger
than 100 ms worth of bytes goes out in 100 ms pieces. ``rate: 0`` holds everything
until the toxic is updated or removed (real Toxiproxy spins emitting empty chunks,
which has the same visible effect).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from load.toxiproxy.toxics.base import Chunk, Stub, Toxic, attribute, register

_PIECE_S = 0.1


@register
@dataclass(frozen=True, slots=True)
class BandwidthToxic(Toxic):
    type_name = "bandwidth"
    go_name = "BandwidthToxic"

    rate_kbps: int = attribute("rate", "KB/s")

    async def pipe(self, stub: Stub) -> None:
        budget_s = 0.0
        while (chunk := await stub.recv()) is not None:
            if self.rate_kbps == 0:
                await stub.sleep_until(math.inf)  # returns only when interrupted
                stub.send(chunk)
                return
            budget_s += len(chunk.data) / (self.rate_kbps * 1000)
            rest, budget_s = await self._pace(stub, chunk, budget_s)
            if rest is not None:
                stub.send(rest)
                return
        stub.close()

    async def _pace(self, stub: Stub, chunk: Chunk, budget_s: float) -> tuple[Chunk | None, float]:
        """Send ``chunk`` on schedule; return (what is left if interrupted, new budget)."""
        piece = self.rate_kbps * 100  # bytes per 100 ms
        data = chunk.data
        while len(data) > piece:
            if not await stub.sleep_until(stub.now() + _PIECE_S):
                return Chunk(data, chunk.stamp), budget_s
            stub.send(Chunk(data[:piece], chunk.stamp))
            data = data[piece:]
            budget_s -= _PIECE_S
        start = stub.now()
        if not await stub.sleep_until(start + budget_s):
            return Chunk(data, chunk.stamp), budget_s
        budget_s -= stub.now() - start  # a late wake-up is paid back by the next chunk
        stub.send(Chunk(data, chunk.stamp))
        return None, budget_s
