"""A proxy: a name, a listen address, an upstream, an enabled flag, toxics and live connections.

Start/stop/update follow Toxiproxy's ``proxy.go``: starting binds ``listen`` and stores
the socket's real address (``127.0.0.1:0`` becomes ``127.0.0.1:<port>``); stopping
closes the listener and every live connection; an update that changes the resolved
listen address or the upstream string stops the proxy, stores the new values and
restarts it if it is enabled. Re-sending the same host:port spelt differently
(``localhost:P``) is not a change; a ``:0`` listen always is.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass

from load.toxiproxy.addr import AddressError, bind_listener, resolve
from load.toxiproxy.connection import Connection
from load.toxiproxy.errors import ApiError
from load.toxiproxy.link import Link
from load.toxiproxy.metrics import Metrics
from load.toxiproxy.toxic_collection import ToxicCollection

__all__ = ["Proxy", "ProxyContext", "ProxySpec"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProxyContext:
    """What every proxy of one server shares: the seed of its random streams, its metrics."""

    seed: int
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class ProxySpec:
    """A proxy as a client describes it (create, populate, or an update's merged values)."""

    name: str
    listen: str
    upstream: str
    enabled: bool = True


class Proxy:
    """One proxy and its runtime state."""

    def __init__(self, context: ProxyContext, name: str, listen: str, upstream: str) -> None:
        self.context = context
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.toxics = ToxicCollection()
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._serials = itertools.count()

    @property
    def seed(self) -> int:
        return self.context.seed

    def to_json(self) -> dict[str, object]:
        # "Logger": {} reproduces a leak of the real server (an exported Go field without a
        # JSON tag, in every response since 2.5.0): strict clients built against it expect it.
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream, "enabled": self.enabled,
                "Logger": {}, "toxics": [entry.to_json() for entry in self.toxics.listing()]}

    async def start(self) -> None:
        """Listen on ``self.listen``; ApiError 500 with Go's text if that fails."""
        if self.enabled:
            return
        try:
            target = await resolve(self.listen)
        except AddressError as exc:
            raise ApiError(f"listen tcp: {exc}") from None
        try:
            sock, bound = bind_listener(target)
        except AddressError as exc:
            raise ApiError(str(exc)) from None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._accept, sock=sock)
        self.listen = bound
        self.enabled = True
        _log.info("proxy %s listening on %s -> %s", self.name, self.listen, self.upstream)

    def stop(self) -> None:
        """Stop listening and close every live connection (no-op when already stopped)."""
        if not self.enabled:
            return
        self.enabled = False
        if self._server is not None:
            self._server.close()
            self._server = None
        for connection in list(self.connections):
            connection.kill()
        _log.info("proxy %s stopped", self.name)

    async def differs(self, listen: str, upstream: str) -> bool:
        """True when ``listen`` resolves elsewhere or ``upstream`` is another string (Go's ``Differs``)."""
        try:
            target = await resolve(listen)
        except AddressError as exc:
            raise ApiError(str(exc)) from None
        return str(target) != self.listen or upstream != self.upstream

    async def update(self, spec: ProxySpec) -> None:
        if await self.differs(spec.listen, spec.upstream):
            self.stop()
            self.listen, self.upstream = spec.listen, spec.upstream
        if spec.enabled and not self.enabled:
            await self.start()
        elif not spec.enabled:
            self.stop()

    def record_traffic(self, links: tuple[Link, Link]) -> None:
        for link in links:
            self.context.metrics.link_ended(direction=link.direction.value, proxy=self.name, listener=self.listen,
                                            upstream=self.upstream, received=link.received, sent=link.sent)

    def _accept(self) -> asyncio.Protocol:
        return Connection(self, next(self._serials)).client
