"""The §4.3 experiment: real TCP request/response times on loopback under real packet loss.

Inside a private namespace (``reexec_in_netns``), a tiny echo server on 127.0.0.1 and a client
making ``requests`` fresh-connection exchanges, ``concurrency`` at a time, with
:class:`~load.packetloss.rules.LossRules` dropping packets to and from the server port with
probability ``loss``.  Each time runs from just before ``connect`` to the last response byte,
the quantity ``scanrush.network.tcp.cdf`` models.  Bounded in count (``requests``), per request
(``timeout``: a request still open then counts as "not done", which is exact for any check point
below it) and in total (``deadline``: requests not started by then are not made).

Run as ``python -m load.packetloss.echo OUT.json [--loss P] [--requests N] ...`` through
``reexec_in_netns``; it writes the times, the rule counters, and whether the table was gone
after the rules' context exited.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from load.packetloss.netns import find_tool, in_private_netns
from load.packetloss.rules import TABLE, LossRules

__all__ = ["Measurement", "empirical_cdf", "main", "measure"]

_PAYLOAD = b"x" * 64  # one segment each way, as the model assumes


@dataclass(slots=True)
class Measurement:
    loss: float
    requests: int
    times: list[float | None] = field(default_factory=list)
    """Seconds per request; None if not done within the timeout (or the deadline)."""
    counters: dict[str, int] = field(default_factory=dict)
    table_left_after_exit: bool = True
    in_private_netns: bool = False
    wall: float = 0.0


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        writer.write(await reader.readexactly(len(_PAYLOAD)))
        await writer.drain()
        # Wait for the client to close first.  Closing right after the reply would send our FIN
        # behind it; a lost reply is then repaired within milliseconds (the FIN's SACK exposes
        # the hole), not by the tail-loss probe the model (and a keep-alive gateway) has.
        await reader.read()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    except asyncio.CancelledError:
        pass  # shutting down while a client's FIN is still being retransmitted: nothing to report
    finally:
        writer.close()


async def _exchange(port: int) -> float:
    start = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_PAYLOAD)
        await reader.readexactly(len(_PAYLOAD))
    finally:
        writer.close()
    return time.monotonic() - start


async def _client(port: int, requests: int, concurrency: int, timeout: float, deadline: float) -> list[float | None]:
    times: list[float | None] = [None] * requests
    gate = asyncio.Semaphore(concurrency)
    stop_at = time.monotonic() + deadline

    async def one(i: int) -> None:
        async with gate:
            if time.monotonic() > stop_at:
                return
            # Not done in time (or refused): it stays None, slower than any check point below the timeout.
            with contextlib.suppress(TimeoutError, OSError):
                times[i] = await asyncio.wait_for(_exchange(port), timeout)

    await asyncio.gather(*(one(i) for i in range(requests)))
    return times


async def _run(m: Measurement, rules: LossRules, concurrency: int, timeout: float, deadline: float) -> None:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0, backlog=1024)
    port = int(server.sockets[0].getsockname()[1])
    rules.set_loss(port, m.loss)
    async with server:
        m.times = await _client(port, m.requests, concurrency, timeout, deadline)
    c = rules.counters()[port]
    m.counters = {
        "to_seen": c.to_seen, "to_dropped": c.to_dropped, "from_seen": c.from_seen, "from_dropped": c.from_dropped
    }


def _table_exists() -> bool:
    nft = find_tool("nft") or "nft"
    listing = subprocess.run([nft, "-j", "list", "tables"], capture_output=True, text=True, check=True, timeout=10)
    tables = json.loads(listing.stdout).get("nftables", [])
    return any(item.get("table", {}).get("name") == TABLE for item in tables)


def measure(
    loss: float, requests: int, *, concurrency: int = 24, timeout: float = 10.0, deadline: float = 45.0
) -> Measurement:
    """Run the experiment in the current (private) namespace; LossRules refuses anywhere else."""
    m = Measurement(loss, requests, in_private_netns=in_private_netns())
    began = time.monotonic()
    with LossRules() as rules:
        asyncio.run(_run(m, rules, concurrency, timeout, deadline))
    m.table_left_after_exit = _table_exists()
    m.wall = time.monotonic() - began
    return m


def empirical_cdf(times: list[float | None], t: float) -> float:
    """Share of all requests done within ``t`` (not-done ones count as slower than any t)."""
    return sum(1 for x in times if x is not None and x <= t) / len(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m load.packetloss.echo", description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="JSON file to write")
    parser.add_argument("--loss", type=float, default=0.1)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--deadline", type=float, default=45.0)
    args = parser.parse_args(argv)
    m = measure(args.loss, args.requests, concurrency=args.concurrency, timeout=args.timeout, deadline=args.deadline)
    args.out.write_text(json.dumps(asdict(m)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
