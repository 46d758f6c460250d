"""``scanrush toxiproxy``: serve the embedded Toxiproxy-compatible fault proxy.

    scanrush toxiproxy [--host 127.0.0.1] [--port 8474] [--config FILE.json]
                       [--proxy-metrics] [--runtime-metrics] [--seed N]

Speaks Toxiproxy 2.12's HTTP API, so the live harness (or any Toxiproxy client) drives
it exactly like ``toxiproxy-server``. Prints the API URL once it answers; SIGINT or
SIGTERM stop it cleanly (exit 0); a port in use is exit 3.

Differences from ``toxiproxy-server`` flags: ``--host`` defaults to 127.0.0.1 (not
localhost, which may resolve to ::1 too); ``--seed`` really seeds toxicity, jitter and
slicer draws (the real server ignores it), and when omitted a seed is drawn and
printed so a run can be repeated; a ``--config`` that cannot be applied is an error
(exit 2, or 3 if a port cannot be bound) instead of a log line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal

from load.toxiproxy.server import ToxiproxyServer
from scanrush.commands.options import port

_LOG_LEVELS = {"trace": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
               "warning": logging.WARNING, "error": logging.ERROR, "fatal": logging.CRITICAL,
               "panic": logging.CRITICAL}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address the API listens on (default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=8474, help="API port; 0 picks a free one (default 8474)")
    parser.add_argument("--config", metavar="FILE.json",
                        help="create proxies from a JSON array at start-up (same format as POST /populate)")
    parser.add_argument("--proxy-metrics", action="store_true",
                        help="serve /metrics with per-proxy byte counters")
    parser.add_argument("--runtime-metrics", action="store_true", help="serve /metrics with process metrics")
    parser.add_argument("--seed", type=int, help="seed toxicity, jitter and slicer draws (printed when omitted)")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; exit 0. Port in use: InfrastructureError (exit 3)."""
    level = _LOG_LEVELS.get(os.environ.get("LOG_LEVEL", "warning").lower(), logging.WARNING)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    server = ToxiproxyServer(args.host, args.port, seed=args.seed, proxy_metrics=args.proxy_metrics,
                             runtime_metrics=args.runtime_metrics)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        populated = await server.populate_file(args.config) if args.config else 0
        await server.start()
        extra = f", {populated} prox{'y' if populated == 1 else 'ies'} from {args.config}" if args.config else ""
        print(f"toxiproxy API ready at {server.api_url} (Toxiproxy {server.version} compatible, "
              f"seed {server.seed}{extra})", flush=True)
        await stopping.wait()
    finally:
        await server.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    print("toxiproxy stopped", flush=True)
    return 0
