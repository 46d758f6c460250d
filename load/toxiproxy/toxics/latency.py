"""``latency {latency, jitter}`` (ms): hold each chunk until *arrival + delay*.

The delay counts from the chunk's arrival stamp, not from when the previous chunk
left, so back-to-back chunks do not queue behind each other and latency never caps
throughput. With jitter J > 0 the delay is ``latency + U`` with U a uniform integer in
``[-J, J-1]`` ms (Go's ``rand.Int63n(2J) - J``); a negative delay means no wait. The
chunk leaves stamped with its due time, so two latency toxics in a row add up.
"""

from __future__ import annotations

from dataclasses import dataclass

from load.toxiproxy.toxics.base import Stub, Toxic, attribute, register


@register
@dataclass(frozen=True, slots=True)
class LatencyToxic(Toxic):
    type_name = "latency"
    go_name = "LatencyToxic"

    latency_ms: int = attribute("latency", "ms")
    jitter_ms: int = attribute("jitter", "ms")

    def delay_s(self, stub: Stub) -> float:
        jitter = stub.rng.randrange(2 * self.jitter_ms) - self.jitter_ms if self.jitter_ms > 0 else 0
        return (self.latency_ms + jitter) / 1000.0

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.recv()) is not None:
            due = chunk.stamp + self.delay_s(stub)
            if not await stub.sleep_until(due):
                stub.send(chunk)  # interrupted: let it go now rather than drop it
                return
            chunk.stamp = max(chunk.stamp, due)
            stub.send(chunk)
        stub.close()
