"""``reset_peer {timeout}`` (ms): on the first chunk (or EOF), wait ``timeout`` ms, then reset.

The first chunk is swallowed and later data ignored. Connections opened while a
``reset_peer`` toxic exists on the proxy get SO_LINGER 0 on both sockets at setup
(``forces_reset``, whatever the toxicity), so this close and the cascade to the other
side are RSTs; a connection that predates the toxic gets a plain FIN.
"""

from __future__ import annotations

from dataclasses import dataclass

from load.toxiproxy.toxics.base import Stub, Toxic, attribute, register


@register
@dataclass(frozen=True, slots=True)
class ResetPeerToxic(Toxic):
    type_name = "reset_peer"
    go_name = "ResetToxic"
    forces_reset = True

    timeout_ms: int = attribute("timeout", "ms")

    async def pipe(self, stub: Stub) -> None:
        await stub.recv()  # swallowed; Interrupted before it means nothing happened yet
        # Interrupted while waiting: close now. Go cannot be interrupted here and closes
        # when the wait ends; the stream has lost a chunk either way.
        await stub.sleep_until(stub.now() + self.timeout_ms / 1000.0)
        stub.close()
