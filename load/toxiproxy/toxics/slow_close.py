"""``slow_close {delay}`` (ms): data passes unchanged; end-of-stream is held ``delay`` ms."""

from __future__ import annotations

from dataclasses import dataclass

from load.toxiproxy.toxics.base import Stub, Toxic, attribute, register


@register
@dataclass(frozen=True, slots=True)
class SlowCloseToxic(Toxic):
    type_name = "slow_close"
    go_name = "SlowCloseToxic"

    delay_ms: int = attribute("delay", "ms")

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.recv()) is not None:
            stub.send(chunk)
        # Interrupted or not, the end of stream is passed on (Go loses it when interrupted).
        await stub.sleep_until(stub.now() + self.delay_ms / 1000.0)
        stub.close()
