"""``limit_data {bytes}``: let exactly ``bytes`` bytes through per link, then close.

The count is per connection and direction and survives updates (per-link state);
removing the toxic and adding it again starts from zero. A chunk that would cross
the limit is truncated. With ``bytes: 0`` the first chunk closes the link.
"""

from __future__ import annotations

from dataclasses import dataclass

from load.toxiproxy.toxics.base import Chunk, Stub, Toxic, attribute, register


@dataclass(slots=True)
class LimitState:
    transmitted: int = 0


@register
@dataclass(frozen=True, slots=True)
class LimitDataToxic(Toxic):
    type_name = "limit_data"
    go_name = "LimitDataToxic"

    bytes: int = attribute("bytes", "bytes")

    def new_state(self) -> object:
        return LimitState()

    async def pipe(self, stub: Stub) -> None:
        state: LimitState = stub.state
        # Always wait for a chunk first: even a spent limit closes on data, not at connect.
        while (chunk := await stub.recv()) is not None:
            allowed = chunk.data[: max(0, self.bytes - state.transmitted)]
            if allowed:
                stub.send(Chunk(allowed, chunk.stamp))
                state.transmitted += len(allowed)
            if state.transmitted >= self.bytes:
                break
        stub.close()
