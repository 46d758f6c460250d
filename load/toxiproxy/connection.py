"""A proxied TCP connection: the accepted client socket, the dialled upstream, two links.

Lifecycle (Toxiproxy's, observable by clients):

1. accept the client, stop reading from it, dial the upstream (no timeout beyond the
   OS's). If the dial fails the client is closed: its connect succeeded, it reads EOF.
2. build the two links with the proxy's current toxics and start reading both sides.
3. either side ending ends its link; the link closes the other socket *fully* when the
   end reaches it, so a client's half-close tears down the whole connection.
4. when both sockets are gone, stop every stage and report byte counts to metrics.

Disabling, deleting or changing the proxy kills the connection: both sockets close at
once (FIN, or RST when linger 0 was set because a ``reset_peer`` toxic existed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from typing import TYPE_CHECKING

from load.toxiproxy.addr import AddressError, split_host_port
from load.toxiproxy.link import Direction, Link

if TYPE_CHECKING:
    from load.toxiproxy.proxy import Proxy

__all__ = ["Connection", "Side"]

_log = logging.getLogger(__name__)
_LINGER_ZERO = struct.pack("ii", 1, 0)


class Side(asyncio.Protocol):
    """One socket of a connection; bytes it reads go to its *outgoing* link."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.transport: asyncio.Transport | None = None
        self.outgoing: Link | None = None  # the link this socket is the source of
        self.incoming: Link | None = None  # the link writing to this socket
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.connection.side_made(self)

    def data_received(self, data: bytes) -> None:
        link = self.outgoing
        if link is not None:
            link.feed(data)

    def eof_received(self) -> bool:
        if self.outgoing is not None:
            self.outgoing.end()
        return True  # keep the socket: the other link may still write to it

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.connection.side_lost(self)

    def pause_writing(self) -> None:
        if self.incoming is not None:
            self.incoming.dest_writable(False)

    def resume_writing(self) -> None:
        if self.incoming is not None:
            self.incoming.dest_writable(True)


class Connection:
    """Client socket, upstream socket and the two links between them."""

    def __init__(self, proxy: Proxy, serial: int) -> None:
        self.proxy = proxy
        self.serial = serial
        self.client = Side(self)
        self.server = Side(self)
        self.links: tuple[Link, Link] | None = None
        self.killed = False
        self._finished = False
        self._dial: asyncio.Task[None] | None = None

    def side_made(self, side: Side) -> None:
        if side is self.client:
            assert side.transport is not None
            side.transport.pause_reading()  # until the upstream answers, as Go does
            self.proxy.connections.add(self)
            self._dial = asyncio.get_running_loop().create_task(self._dial_upstream())
        elif self.killed or self.client.lost:
            assert side.transport is not None
            side.transport.abort()
        else:
            self._start_links()

    async def _dial_upstream(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            host, port = split_host_port(self.proxy.upstream)
            # host None dials the local system, as Go does for ":port"; a service name
            # port is resolved by getaddrinfo.
            await loop.create_connection(lambda: self.server, host or None,  # type: ignore[arg-type]
                                         int(port) if port.isdigit() else port)  # type: ignore[arg-type]
        except (OSError, AddressError, ValueError) as exc:
            _log.info("proxy %s: cannot reach upstream %s: %s", self.proxy.name, self.proxy.upstream, exc)
            if self.client.transport is not None:
                self.client.transport.close()  # the client's connect worked; now it reads EOF

    def _start_links(self) -> None:
        client, server = self.client.transport, self.server.transport
        assert client is not None
        assert server is not None
        if self.proxy.toxics.forces_reset():
            for transport in (client, server):
                with contextlib.suppress(OSError):
                    transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
        key = f"{self.proxy.seed}/{self.proxy.name}/{self.serial}"
        upstream = Link(Direction.UPSTREAM, client, server, f"{key}/upstream")
        downstream = Link(Direction.DOWNSTREAM, server, client, f"{key}/downstream")
        self.client.outgoing, self.client.incoming = upstream, downstream
        self.server.outgoing, self.server.incoming = downstream, upstream
        self.links = (upstream, downstream)
        self.proxy.toxics.attach(upstream)
        self.proxy.toxics.attach(downstream)
        client.resume_reading()

    def side_lost(self, side: Side) -> None:
        if side.outgoing is not None:
            side.outgoing.end()
        if side.incoming is not None:
            side.incoming.dest_lost()
        if side is self.client and self._dial is not None and self.links is None:
            self._dial.cancel()
        if self.client.lost and (self.server.lost or self.links is None):
            self._finish()

    def kill(self) -> None:
        """Close both sockets now (proxy disabled, deleted or changed)."""
        self.killed = True
        if self._dial is not None and self.links is None:
            self._dial.cancel()
        for side in (self.client, self.server):
            if side.transport is not None and not side.lost:
                side.transport.abort()
        self._finish()

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self.proxy.connections.discard(self)
        if self.links is not None:
            for link in self.links:
                link.teardown()
                self.proxy.toxics.detach(link)
            self.proxy.record_traffic(self.links)
