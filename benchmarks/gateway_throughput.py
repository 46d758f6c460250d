"""alipay.trade.pay per second against the gateway stub vs a bare aiohttp endpoint, same machine, same load.

Both servers run in a child process pinned to one core (``os.sched_setaffinity``
where available); the load generator runs in another process on the other cores
over keep-alive connections to 127.0.0.1.  It is ``wrk`` (Debian package ``wrk``)
when installed, else an aiohttp client; either way bounded by a request count and
a time limit.  Runs alternate between the two servers and the best of each is
kept, since other work on the machine can only slow a run down.  Every pay
request has its own ``out_trade_no`` and a shopper's own code (no replays,
nothing cached), with ample workers and zero service time, so the stub's figure
is the cost of protocol + decision + ledger + rendering.

    .venv/bin/python benchmarks/gateway_throughput.py [--seconds 5] [--rounds 3] [--requests 80000]

Each run reports requests per wall-clock second and the server's own CPU time per
request (``time.process_time`` in the server process between the start and the
end of the load): the cost ratio is the ratio of CPU per request, which other
load on a shared machine hardly moves, while wall-clock rates swing with it.

Targets: >= 3,000 pay/s on one core, and at most 2x the bare endpoint's cost per request.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCENARIO = ROOT / "scenarios" / "mall_promo.yaml"
OVERRIDES = ("gateway.workers=100000", "gateway.service_time=0s", "gateway.brownouts=[]")
CONNECTIONS = 32
TARGET_RATE = 3000.0
TARGET_RATIO = 2.0
BARE_BODY = (b'{"alipay_trade_pay_response":{"code":"10000","msg":"Success","out_trade_no":"T0",'
             b'"total_amount":"88.00","fund_bill_list":[{"fund_channel":"PCREDIT","amount":"88.00"}]}}')
WRK_SCRIPT = """
local bodies = {}
local sent, done, limit = 0, 0, 0
init = function(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  limit = tonumber(args[2])
end
request = function()
  sent = sent + 1
  local body = bodies[((sent - 1) % #bodies) + 1]
  return wrk.format("POST", "/gateway.do", {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
response = function(status, headers, body)
  done = done + 1
  if limit > 0 and done >= limit then wrk.thread:stop() end
end
"""


# --------------------------------------------------------------------------- servers (child process)


def _pin(cores: set[int]) -> None:
    if hasattr(os, "sched_setaffinity") and cores:
        os.sched_setaffinity(0, cores)


def _serve(kind: str, warm: int, conn: Connection) -> None:
    _pin({0})
    asyncio.run(_serve_async(kind, warm, conn))


async def _serve_async(kind: str, warm: int, conn: Connection) -> None:
    from aiohttp import web

    from load.gateway.server import GatewayOptions, GatewayStub
    from scanrush.scenario.loader import load_scenario

    if kind == "stub":
        stub = GatewayStub(load_scenario(SCENARIO, OVERRIDES), GatewayOptions(compression=0.0, clock_origin=0.0))
        stub.live.warm(warm)
        await stub.start()
        port = stub.port
    else:
        async def bare(_request: web.Request) -> web.Response:
            return web.Response(body=BARE_BODY, content_type="application/json")

        app = web.Application()
        app.router.add_post("/gateway.do", bare)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = int(runner.addresses[0][1])
    conn.send(port)
    # CPU seconds this process spends between "start" and "stop": the cost of the requests in between,
    # whatever else the machine is doing (wall-clock rates are not, on a shared machine).
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)
    started = time.process_time()
    await loop.run_in_executor(None, conn.recv)
    conn.send(time.process_time() - started)


# --------------------------------------------------------------------------- requests


def pay_bodies(count: int) -> tuple[list[str], int]:
    """``count`` form bodies of distinct pay requests (distinct out_trade_no and codes), and shoppers used."""
    from load.gateway.wire import PAY, amount_text, request_params
    from load.world import ATTEMPTS_PER_SHOPPER, LiveWorld
    from scanrush.scenario.loader import load_scenario

    live = LiveWorld(load_scenario(SCENARIO, OVERRIDES))
    shoppers = -(-count // ATTEMPTS_PER_SHOPPER)
    bodies = []
    for index in range(count):
        serial, attempt = divmod(index, ATTEMPTS_PER_SHOPPER)
        shopper = live.shopper(serial)
        assert shopper is not None
        biz = {"out_trade_no": f"B{index}", "scene": "bar_code", "auth_code": shopper.code(attempt),
               "subject": "promotion", "total_amount": amount_text(min(shopper.basket, 400.0)),
               "store_id": str(shopper.store)}
        bodies.append(urlencode(request_params(PAY, biz, app_id="2021000000000000")))
    return bodies, shoppers


# --------------------------------------------------------------------------- load generators


def _wrk(port: int, bodies_file: Path, limit: int, seconds: float, cores: set[int]) -> tuple[int, float]:
    """(requests, seconds) from wrk; ``limit`` 0 lets it cycle through the bodies until time is up."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "-s", script.name,
               f"http://127.0.0.1:{port}", "--", str(bodies_file), str(limit)]
    started = time.perf_counter()
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30,
                            preexec_fn=lambda: _pin(cores)).stdout
    elapsed = time.perf_counter() - started
    os.unlink(script.name)
    match = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    if not match:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    unit = {"ms": 1e-3, "s": 1.0, "m": 60.0}[match.group(3)]
    return int(match.group(1)), float(match.group(2)) * unit or elapsed


def _aiohttp_load(port: int, bodies: list[str], cycle: bool, seconds: float, out: Connection,  # noqa: PLR0917
                  cores: set[int]) -> None:
    """Process target (positional by necessity): the aiohttp load generator, when wrk is missing."""
    _pin(cores)
    out.send(asyncio.run(_aiohttp_async(port, bodies, cycle, seconds)))


async def _aiohttp_async(port: int, bodies: list[str], cycle: bool, seconds: float) -> tuple[int, float]:
    import aiohttp

    url = f"http://127.0.0.1:{port}/gateway.do"
    pending: Iterator[str] = itertools.cycle(bodies) if cycle else iter(bodies)
    deadline = time.perf_counter() + seconds
    done = 0
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal done
        for body in pending:
            if time.perf_counter() > deadline:
                return
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
            done += 1

    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(CONNECTIONS)))
        return done, time.perf_counter() - started


@dataclass(frozen=True)
class Run:
    requests: int
    wall_seconds: float
    server_cpu_seconds: float

    @property
    def rate(self) -> float:
        """Requests per wall-clock second."""
        return self.requests / self.wall_seconds

    @property
    def cpu_us(self) -> float:
        """Server CPU microseconds per request: the cost, robust to other load on the machine."""
        return self.server_cpu_seconds / self.requests * 1e6


def measure(kind: str, bodies: list[str], bodies_file: Path, shoppers: int, seconds: float) -> Run:
    """What the ``kind`` server sustains, and what each request costs it.

    The bare endpoint answers every body alike, so the load cycles through them
    until time is up; the stub gets each body once (a repeat would be a cheaper
    idempotent replay), so its run stops at the last body if that comes first.
    """
    cycle = kind == "bare"
    spawn = multiprocessing.get_context("spawn")
    parent, child = spawn.Pipe()
    server = spawn.Process(target=_serve, args=(kind, shoppers, child), daemon=True)
    server.start()
    try:
        port = parent.recv()
        cores = _load_cores()
        parent.send("start")
        if shutil.which("wrk"):
            count, elapsed = _wrk(port, bodies_file, 0 if cycle else len(bodies), seconds, cores)
        else:
            receive, send = spawn.Pipe(duplex=False)
            loader = spawn.Process(target=_aiohttp_load, args=(port, bodies, cycle, seconds, send, cores))
            loader.start()
            count, elapsed = receive.recv()
            loader.join()
        parent.send("stop")
        cpu = parent.recv()
        if not cycle and count >= len(bodies):
            print(f"warning: the stub answered all {count:,} bodies before the time limit; wrk's rate is a "
                  "lower bound (raise --requests)")
        return Run(count, elapsed, cpu)
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()


def _load_cores() -> set[int]:
    if not hasattr(os, "sched_getaffinity"):
        return set()
    others = os.sched_getaffinity(0) - {0}
    return others or set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="time limit per run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per server, alternating; best kept (default 3)")
    parser.add_argument("--requests", type=int, default=80_000,
                        help="distinct pay requests prepared for the stub (default 80,000)")
    args = parser.parse_args()
    bodies, shoppers = pay_bodies(args.requests)
    with tempfile.TemporaryDirectory() as tmp:
        bodies_file = Path(tmp) / "bodies.txt"
        bodies_file.write_text("\n".join(bodies) + "\n", encoding="ascii")
        generator = "wrk" if shutil.which("wrk") else "aiohttp client"
        print(f"load generator: {generator}, {CONNECTIONS} keep-alive connections; server pinned to core 0"
              if hasattr(os, "sched_setaffinity") else f"load generator: {generator}")
        bare: list[Run] = []
        stub: list[Run] = []
        for _ in range(args.rounds):  # alternate, keep the best: other load on the machine only ever slows a run
            bare.append(measure("bare", bodies, bodies_file, shoppers, args.seconds))
            stub.append(measure("stub", bodies, bodies_file, shoppers, args.seconds))
    bare_rate, stub_rate = max(r.rate for r in bare), max(r.rate for r in stub)
    bare_cpu, stub_cpu = min(r.cpu_us for r in bare), min(r.cpu_us for r in stub)
    ratio = stub_cpu / bare_cpu
    capacity = 1e6 / stub_cpu
    print(f"bare aiohttp endpoint : {bare_rate:8,.0f} requests/s   {bare_cpu:6.1f} us server CPU per request")
    print(f"gateway stub (pay)    : {stub_rate:8,.0f} pay/s        {stub_cpu:6.1f} us server CPU per request")
    print(f"stub capacity, 1 core : {capacity:8,.0f} pay/s        (1 / CPU per request; target >= {TARGET_RATE:,.0f})")
    print(f"cost ratio stub/bare  : {ratio:8.2f}x             (CPU per request; target <= {TARGET_RATIO:.1f}x; "
          f"wall-clock rates give {bare_rate / stub_rate:.2f}x)")
    return 0 if min(stub_rate, capacity) >= TARGET_RATE and ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
