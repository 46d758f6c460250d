"""``slicer {average_size, size_variation, delay}`` (bytes, bytes, µs): cut chunks into pieces.

A piece whose size exceeds ``average_size`` by more than ``size_variation`` is cut
near its middle, the cut moved by a random amount in ``[-variation, +variation)``,
and both halves are cut again; each piece is sent followed by a ``delay`` µs pause.
Bytes and order are kept. Unlike Go, ``average_size: 0`` and ``size_variation >=
average_size`` are refused (Go recurses forever on the first and can cut empty
pieces on the second).
"""

from __future__ import annotations

from dataclasses import dataclass

from load.toxiproxy.toxics.base import Chunk, Stub, Toxic, attribute, register


@register
@dataclass(frozen=True, slots=True)
class SlicerToxic(Toxic):
    type_name = "slicer"
    go_name = "SlicerToxic"

    average_size_bytes: int = attribute("average_size", "bytes")
    size_variation_bytes: int = attribute("size_variation", "bytes")
    delay_us: int = attribute("delay", "µs")

    def validate(self) -> None:
        Toxic.validate(self)  # not super(): slots=True dataclasses are rebuilt classes
        if self.average_size_bytes <= 0:
            raise ValueError("slicer.average_size must be positive (0 would cut forever)")
        if self.size_variation_bytes >= self.average_size_bytes:
            raise ValueError("slicer.size_variation must be smaller than average_size")

    def cuts(self, size: int, stub: Stub) -> list[int]:
        """Piece sizes for a chunk of ``size`` bytes, in order (iterative, depth-first)."""
        average, variation = self.average_size_bytes, self.size_variation_bytes
        pieces: list[int] = []
        pending = [size]
        while pending:
            n = pending.pop()
            if n - average <= variation:
                pieces.append(n)
                continue
            mid = n // 2 + (stub.rng.randrange(2 * variation) - variation if variation > 0 else 0)
            pending.extend((n - mid, mid))  # the left half is popped first
        return pieces

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.recv()) is not None:
            offset = 0
            for size in self.cuts(len(chunk.data), stub):
                stub.send(Chunk(chunk.data[offset:offset + size], chunk.stamp))
                offset += size
                if not await stub.sleep_until(stub.now() + self.delay_us / 1e6):
                    if offset < len(chunk.data):
                        stub.send(Chunk(chunk.data[offset:], chunk.stamp))
                    return
        stub.close()
