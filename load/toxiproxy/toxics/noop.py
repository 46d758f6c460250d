"""``noop``: the identity. Links bypass it entirely, so it costs nothing per chunk."""

from __future__ import annotations

from dataclasses import dataclass

from load.toxiproxy.toxics.base import Stub, Toxic, register


@register
@dataclass(frozen=True, slots=True)
class NoopToxic(Toxic):
    type_name = "noop"
    go_name = "NoopToxic"
    passthrough = True

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.recv()) is not None:
            stub.send(chunk)
        stub.close()
