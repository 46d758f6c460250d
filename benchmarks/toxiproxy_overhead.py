"""What does the embedded Toxiproxy cost?  Direct TCP vs through a proxy with no toxics.

    .venv/bin/python benchmarks/toxiproxy_overhead.py [--round-trips 5000] [--megabytes 64] [--quick]

Three processes on 127.0.0.1: a backend (echo / sink / source), the proxy
(``scanrush toxiproxy --port 0``, as the harness runs it) and this client. It measures,
on one persistent connection each way:

* request/response round trips of 64 bytes, direct and proxied, interleaved in
  blocks so both see the same machine; the added latency is proxied − direct at
  p50 and p99 (target: p50 added ≤ 0.5 ms);
* bulk throughput client → server and server → client (MB/s), direct and proxied,
  with the ratio proxied/direct.

Bounded: a fixed count of round trips and bytes, and every phase stops at ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from load.toxiproxy.client import ToxiproxyClient

MESSAGE = bytes(64)
BLOCK = 250  # round trips per block before switching path
BULK_CHUNK = 256 * 1024
TARGET_P50_ADDED_MS = 0.5


# -- backend (run as a child process with --backend) ----------------------------------------------


class _Backend(asyncio.Protocol):
    """First byte picks the mode: E echo; U<len> swallow len bytes then ack; D<len> send len bytes."""

    def __init__(self) -> None:
        self.mode = b""
        self.header = b""
        self.remaining = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if self.mode == b"E":
            self.transport.write(data)
            return
        if self.mode == b"U":
            self._swallow(len(data))
            return
        self.header += data
        if len(self.header) >= 9:
            self.mode, size, rest = self.header[:1], struct.unpack("!Q", self.header[1:9])[0], self.header[9:]
            self._start(size, rest)

    def _start(self, size: int, rest: bytes) -> None:
        assert self.transport is not None
        if self.mode == b"E":
            self.transport.write(rest)
        elif self.mode == b"U":
            self.remaining = size
            self._swallow(len(rest))
        else:
            block = bytes(BULK_CHUNK)
            while size > 0:
                self.transport.write(block[: min(size, BULK_CHUNK)])
                size -= BULK_CHUNK

    def _swallow(self, count: int) -> None:
        assert self.transport is not None
        self.remaining -= count
        if self.remaining == 0:
            self.transport.write(b"K")


async def _serve_backend() -> None:
    server = await asyncio.get_running_loop().create_server(_Backend, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin


# -- child processes ---------------------------------------------------------------------------------


@contextmanager
def child(command: list[str], ready: Callable[[str], str | None]) -> Iterator[str]:
    """Run ``command``; yield what ``ready`` extracts from its first output line."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        found = ready(process.stdout.readline())
        if found is None:
            raise SystemExit(f"{command[:3]} did not start")
        yield found
    finally:
        process.terminate()
        process.communicate(timeout=10)


def connect(port: int, mode: bytes, size: int = 0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(mode + struct.pack("!Q", size))
    return sock


def recv_exactly(sock: socket.socket, size: int) -> None:
    view = memoryview(bytearray(min(size, BULK_CHUNK)))
    while size > 0:
        got = sock.recv_into(view, min(size, len(view)))
        if not got:
            raise ConnectionError("EOF during the benchmark")
        size -= got


# -- measurements ------------------------------------------------------------------------------------


def round_trips(sock: socket.socket, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter_ns()
        sock.sendall(MESSAGE)
        recv_exactly(sock, len(MESSAGE))
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def latency(direct_port: int, proxy_port: int, total: int, max_seconds: float) -> tuple[list[float], list[float]]:
    direct, proxied = connect(direct_port, b"E"), connect(proxy_port, b"E")
    results: tuple[list[float], list[float]] = ([], [])
    deadline = time.monotonic() + max_seconds
    try:
        round_trips(direct, 200)  # warm up both paths
        round_trips(proxied, 200)
        while len(results[0]) < total and time.monotonic() < deadline:
            results[0].extend(round_trips(direct, BLOCK))
            results[1].extend(round_trips(proxied, BLOCK))
    finally:
        direct.close()
        proxied.close()
    return results


def upload(port: int, size: int) -> float:
    with connect(port, b"U", size) as sock:
        block = bytes(BULK_CHUNK)
        start = time.perf_counter()
        for offset in range(0, size, BULK_CHUNK):
            sock.sendall(block[: min(BULK_CHUNK, size - offset)])
        recv_exactly(sock, 1)
        return size / (time.perf_counter() - start) / 1e6


def download(port: int, size: int) -> float:
    with connect(port, b"D", size) as sock:
        start = time.perf_counter()
        recv_exactly(sock, size)
        return size / (time.perf_counter() - start) / 1e6


def best_rate(measure: Callable[[int, int], float], port: int, size: int, repeat: int, max_seconds: float) -> float:
    deadline = time.monotonic() + max_seconds
    rates = [measure(port, size)]
    while len(rates) < repeat and time.monotonic() < deadline:
        rates.append(measure(port, size))
    return max(rates)


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=1000, method="inclusive")[int(q * 10) - 1]


def report(direct: list[float], proxied: list[float], rates: dict[str, tuple[float, float]]) -> None:
    d50, d99, p50, p99 = (percentile(direct, 50), percentile(direct, 99), percentile(proxied, 50),
                          percentile(proxied, 99))
    verdict = "OK" if p50 - d50 <= TARGET_P50_ADDED_MS else "ABOVE TARGET"
    print(f"round trips ({len(MESSAGE)} B, {len(direct)} per path, interleaved in blocks of {BLOCK})")
    print(f"  direct     p50 {d50:.3f} ms   p99 {d99:.3f} ms")
    print(f"  proxied    p50 {p50:.3f} ms   p99 {p99:.3f} ms")
    print(f"  added      p50 {p50 - d50:.3f} ms   p99 {p99 - d99:.3f} ms   "
          f"(target p50 added <= {TARGET_P50_ADDED_MS} ms: {verdict})")
    for name, (direct_rate, proxied_rate) in rates.items():
        print(f"throughput {name}: direct {direct_rate:8.1f} MB/s   proxied {proxied_rate:8.1f} MB/s   "
              f"ratio {proxied_rate / direct_rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=5000, help="per path (default 5000)")
    parser.add_argument("--megabytes", type=int, default=64, help="per bulk transfer (default 64)")
    parser.add_argument("--repeat", type=int, default=3, help="bulk transfers per path and direction; best kept")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="cap on each phase")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1000 round trips, 8 MB once")
    parser.add_argument("--backend", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend:
        asyncio.run(_serve_backend())
        return
    if args.quick:
        args.round_trips, args.megabytes, args.repeat = 1000, 8, 1
    size = args.megabytes * 1_000_000
    toxiproxy = [sys.executable, "-c", "from scanrush.cli import main; main()", "toxiproxy", "--port", "0"]
    with child([sys.executable, __file__, "--backend"], lambda line: line.strip() or None) as backend_port, \
            child(toxiproxy, lambda line: (m := re.search(r"http://\S+", line)) and m.group()) as url:
        client = ToxiproxyClient(url)
        proxy = client.create_proxy("bench", f"127.0.0.1:{backend_port}")
        direct_port, proxy_port = int(backend_port), proxy.port
        print(f"backend 127.0.0.1:{direct_port}, proxy {proxy.listen} (embedded Toxiproxy {client.version()}, "
              "no toxics)")
        direct, proxied = latency(direct_port, proxy_port, args.round_trips, args.max_seconds)
        rates: dict[str, tuple[float, float]] = {}
        for name, measure in (("client->server", upload), ("server->client", download)):
            rates[name] = (best_rate(measure, direct_port, size, args.repeat, args.max_seconds),
                           best_rate(measure, proxy_port, size, args.repeat, args.max_seconds))
    report(direct, proxied, rates)


if __name__ == "__main__":
    main()
