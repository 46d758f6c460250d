"""``scanrush gateway FILE``: serve the Alipay gateway stub for the scenario's world until interrupted.

Prints ``gateway listening on http://HOST:PORT/gateway.do`` once it accepts
requests (scripts wait for that line).  Ctrl-C or SIGTERM stop it cleanly (exit 0);
a port that is taken is exit 3.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from scanrush.commands.options import port
from scanrush.errors import InputError
from scanrush.scenario.loader import load_scenario
from scanrush.units import parse_duration

if TYPE_CHECKING:
    from load.gateway.server import GatewayOptions
    from scanrush.scenario.schema import Scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="scenario file (its seed gives the world and the shoppers)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a scenario value, e.g. --set gateway.workers=8 (repeatable)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=port, default=0, help="port to bind (default: 0, any free port)")
    parser.add_argument("--keys", type=Path, metavar="DIR",
                        help="RSA2 keys: DIR/gateway_private_key.pem signs responses, DIR/app_public_key.pem "
                             "verifies requests (default: unsigned requests accepted, responses unsigned)")
    parser.add_argument("--compression", type=_compression, metavar="C",
                        help="scenario seconds per wall second (default: the scenario's live.time_compression)")
    parser.add_argument("--clock-origin", type=_duration, metavar="T",
                        help="scenario time at start, e.g. 1h (default: the live window's start)")


def _compression(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    from load.gateway.server import GatewayOptions  # aiohttp only for the command that serves

    scenario = load_scenario(args.file, args.overrides)
    keys = None
    if args.keys is not None:
        if not args.keys.is_dir():
            raise InputError(f"--keys {args.keys}: not a directory")
        from load.gateway.signing import load_gateway_keys

        keys = load_gateway_keys(args.keys)
    options = GatewayOptions(host=args.host, port=args.port, keys=keys, compression=args.compression,
                             clock_origin=args.clock_origin)
    asyncio.run(_serve(scenario, options))
    return 0


async def _serve(scenario: Scenario, options: GatewayOptions) -> None:
    from load.gateway.server import GatewayStub

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with GatewayStub(scenario, options) as stub:
        print(f"gateway listening on {stub.url}", flush=True)
        await stop.wait()
    print("gateway stopped", flush=True)
