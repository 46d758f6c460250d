"""TCP addresses the way Go's ``net`` package parses, resolves, prints and binds them.

The proxy's ``listen`` field is observable API: ``localhost:3310`` is reported as
``127.0.0.1:3310`` once bound, an empty listen binds every interface and reads
``[::]:<port>``, and failures carry Go's error text (``address bad: missing port in
address``, ``listen tcp 127.0.0.1:3310: bind: address already in use``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from dataclasses import dataclass

__all__ = ["AddressError", "ResolvedAddr", "bind_listener", "resolve", "split_host_port"]


class AddressError(ValueError):
    """An address that cannot be parsed, resolved or bound; ``str`` is Go's message."""


@dataclass(frozen=True, slots=True)
class ResolvedAddr:
    """An IP literal (``None`` = every interface) and a port; ``str`` is Go's ``TCPAddr.String``."""

    ip: str | None
    port: int

    def __str__(self) -> str:
        if self.ip is None:
            return f":{self.port}"
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"


def split_host_port(address: str) -> tuple[str, str]:
    """Go's ``net.SplitHostPort``: ``host:port`` or ``[v6]:port``; AddressError otherwise."""
    def fail(why: str) -> AddressError:
        return AddressError(f"address {address}: {why}")

    if address.startswith("["):
        end = address.find("]")
        if end < 0:
            raise fail("missing ']' in address")
        rest = address[end + 1:]
        if not rest:
            raise fail("missing port in address")
        if not rest.startswith(":"):
            raise fail("too many colons in address" if ":" in rest else "missing port in address")
        host, port = address[1:end], rest[1:]
        if ":" in port:
            raise fail("too many colons in address")
    else:
        colon = address.rfind(":")
        if colon < 0:
            raise fail("missing port in address")
        host, port = address[:colon], address[colon + 1:]
        if ":" in host:
            raise fail("too many colons in address")
    if any(c in host + port for c in "[]"):
        raise fail("unexpected '[' in address")
    return host, port


def _port_number(port: str) -> int:
    if port == "":
        return 0
    if port.isdigit():
        number = int(port)
        if number > 65535:
            raise AddressError(f"address {port}: invalid port")
        return number
    try:
        return socket.getservbyname(port, "tcp")
    except OSError:
        raise AddressError(f"address {port}: unknown port") from None


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        return None


async def resolve(address: str) -> ResolvedAddr:
    """Go's ``net.ResolveTCPAddr("tcp", address)``: hostnames resolve, IPv4 preferred."""
    if address == "":
        return ResolvedAddr(None, 0)
    host, port_text = split_host_port(address)
    port = _port_number(port_text)
    if host == "":
        return ResolvedAddr(None, port)
    literal = _ip_literal(host)
    if literal is not None:
        return ResolvedAddr(literal, port)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        raise AddressError(f"lookup {host}: no such host") from None
    ips = [str(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not ips:
        raise AddressError(f"lookup {host}: no such host")
    ipv4 = [ip for ip in ips if ":" not in ip]
    return ResolvedAddr((ipv4 or ips)[0], port)


def _has_dual_stack() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            probe.bind(("::", 0))
    except OSError:
        return False
    return True


def bind_listener(target: ResolvedAddr, backlog: int = 128) -> tuple[socket.socket, str]:
    """A listening socket for ``target`` and Go's string for where it listens.

    SO_REUSEADDR is set (as Go does) so a proxy re-enabled on its old port binds despite
    connections in TIME_WAIT; SO_REUSEPORT is not, so a port owned by another listener
    still fails with "address already in use".
    """
    if target.ip is None:
        family, host = (socket.AF_INET6, "::") if _has_dual_stack() else (socket.AF_INET, "0.0.0.0")
    else:
        family, host = (socket.AF_INET6 if ":" in target.ip else socket.AF_INET), target.ip
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and target.ip is None:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((host, target.port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        shown = ResolvedAddr(host if target.ip is None else target.ip, target.port)
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        raise AddressError(f"listen tcp {shown}: bind: {reason}") from None
    bound = sock.getsockname()
    return sock, str(ResolvedAddr(str(bound[0]), int(bound[1])))
