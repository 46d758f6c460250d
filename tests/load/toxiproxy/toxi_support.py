"""Helpers for the Toxiproxy tests: echo upstreams, raw HTTP, sockets, polling.

Everything binds 127.0.0.1 port 0. Waits poll a condition with a deadline; the only
fixed waits are windows in which something must *not* happen.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SEED = 20261212


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def request(port: int, method: str, path: str, body: object = None, *,
            headers: dict[str, str] | None = None) -> Reply:
    """One raw HTTP request to the API (bytes are sent as-is, anything else as JSON)."""
    payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=payload, headers={"User-Agent": "pytest", **(headers or {})})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


@dataclass
class EchoServer:
    """A threaded TCP upstream: echoes bytes, or (``reply_on_eof``) answers once the client's FIN arrives."""

    reply_on_eof: bool = False
    listener: socket.socket = field(init=False)
    ended: list[threading.Event] = field(default_factory=list)  # one per accepted connection
    _conns: list[socket.socket] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self._spawn(self._accept_loop)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.listener.getsockname()[1]}"

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            ended = threading.Event()
            self._conns.append(conn)
            self.ended.append(ended)
            self._spawn(self._serve, conn, ended)

    def _serve(self, conn: socket.socket, ended: threading.Event) -> None:
        received = b""
        with contextlib.suppress(OSError):
            while data := conn.recv(65536):
                if self.reply_on_eof:
                    received += data
                else:
                    conn.sendall(data)
            if self.reply_on_eof:
                conn.sendall(b"reply:" + received)
        ended.set()
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        self.listener.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)
        for conn in self._conns:
            conn.close()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0, interval: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise AssertionError(f"EOF after {len(data)} of {size} bytes")
        data += chunk
    return data


def recv_all(sock: socket.socket) -> bytes:
    """Everything until EOF."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def round_trip(sock: socket.socket, payload: bytes = b"ping") -> float:
    """Seconds for ``payload`` to come back through an echo upstream."""
    start = time.perf_counter()
    sock.sendall(payload)
    assert recv_exactly(sock, len(payload)) == payload
    return time.perf_counter() - start


def median_rtt(sock: socket.socket, count: int = 5) -> float:
    return statistics.median(round_trip(sock) for _ in range(count))


def is_refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
