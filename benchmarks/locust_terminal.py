"""Load-generator CPU per request: our POS terminal path against a bare Locust ``FastHttpUser``.

    .venv/bin/python benchmarks/locust_terminal.py [--requests 4000] [--users 10] [--rounds 2] [--quick]

One bare aiohttp endpoint on 127.0.0.1 answers every POST with the same Alipay-shaped
``alipay_trade_pay_response`` (code 10000, paid with Huabei); it runs in its own process,
pinned to the last core where there are two or more.  Against it, each variant runs in a
fresh child process whose very first import is ``locust`` (it monkey-patches the process;
load-testing.md §1.1), with the same number of Locust users, no wait time, and a fixed
number of requests:

(a)  ``bare``: a ``FastHttpUser`` task posting a pre-encoded form (geventhttpclient,
     keep-alive: its default);
(a') ``bare-close``: the same with ``Connection: close``, a new connection per request;
(b)  ``pos``: our terminal's path, ``LiveTills._exchange`` with ``load/wire.py`` encoding
     the request and decoding the reply, over ``http.client`` with **one connection per
     request** (``Connection: close``), as the POS does with ``pos.keepalive: false`` (the
     default), reporting each request through the engine's own Locust request hook.

CPU is ``time.process_time()`` of the generator process between the end of a warm-up and
the last measured request, divided by the requests in between: the figure that decides how
many terminals one load-generator core can drive, and which other load on the machine
hardly moves (wall-clock rates are printed too, but swing with it).  With ``--rounds`` the
variants alternate and the lowest CPU per request of each is kept.

Bounded: a fixed request count per child, each measurement stops at ``--max-seconds``, and
every child has a hard timeout.  Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve()
SCENARIO = ROOT / "scenarios" / "smoke.yaml"
"""Only the POS settings (timeouts) and a world for ``LiveTills`` come from it; nothing is simulated."""
PATH = "/gateway.do"
FORM = "application/x-www-form-urlencoded;charset=utf-8"
BODY = (b'{"alipay_trade_pay_response":{"code":"10000","msg":"Success","out_trade_no":"T0","trade_no":"2026T0",'
        b'"total_amount":"88.00","fund_bill_list":[{"fund_channel":"PCREDIT","amount":"88.00"}]}}')
VARIANTS = {
    "bare": "(a)  bare FastHttpUser, keep-alive",
    "bare-close": "(a') bare FastHttpUser, Connection: close",
    "pos": "(b)  POS terminal: LiveTills._exchange + load/wire.py, new connection per request",
}
READY_TIMEOUT = 20.0
# Runs the script again with `import locust` truly first: nothing this module imports at its top
# can then come before Locust's monkey-patching in the child.
CHILD_BOOT = "import locust, runpy, sys; sys.argv[0] = {script!r}; runpy.run_path({script!r}, run_name='__main__')"


# --------------------------------------------------------------------------- the endpoint (child process)


def serve() -> int:
    """A bare aiohttp endpoint: read the form, answer the constant JSON; SIGTERM stops it."""
    import asyncio

    from aiohttp import web

    async def pay(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=BODY, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post(PATH, pay)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(runner, sock, backlog=1024)
        await site.start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print(f"listening {sock.getsockname()[1]}", flush=True)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())
    return 0


# --------------------------------------------------------------------------- a load generator (child process)


@dataclass
class Meter:
    """Counts Locust request events; marks the end of the warm-up and of the measured requests."""

    warmup: int
    measured: int
    count: int = 0
    failures: int = 0
    cpu_start: float = 0.0
    cpu_end: float = 0.0
    wall_start: float = 0.0
    wall_end: float = 0.0

    def on_request(self, exception: BaseException | None = None, **_: Any) -> None:
        self.count += 1
        self.failures += exception is not None
        # Read the clocks inside the event, at the exact request: no polling loop adds CPU of its own.
        if self.count == self.warmup:
            self.cpu_start, self.wall_start = time.process_time(), time.perf_counter()
        elif self.count == self.warmup + self.measured:
            self.cpu_end, self.wall_end = time.process_time(), time.perf_counter()

    def done(self) -> bool:
        return self.count >= self.warmup + self.measured


def generate(variant: str, port: int, requests: int, users: int, max_seconds: float) -> int:
    """Run ``users`` Locust users of ``variant`` until ``requests`` measured requests; print one JSON line."""
    import locust  # already imported by CHILD_BOOT, first; named here for what follows
    from locust.env import Environment

    meter = Meter(warmup=max(users * 20, requests // 10), measured=requests)
    user_class = _user_class(variant, port)
    environment = Environment(user_classes=[user_class], host=f"http://127.0.0.1:{port}", events=locust.events)
    environment.events.request.add_listener(meter.on_request)  # type: ignore[no-untyped-call]
    if variant == "pos":
        user_class.tills = _tills(port, environment)  # type: ignore[attr-defined]
    runner = environment.create_local_runner()
    runner.start(user_count=users, spawn_rate=users)
    _wait(meter.done, max_seconds)
    runner.quit()
    cpu, wall = meter.cpu_end - meter.cpu_start, meter.wall_end - meter.wall_start
    print(json.dumps({"variant": variant, "requests": requests, "failures": meter.failures, "complete": meter.done(),
                      "cpu_seconds": cpu, "wall_seconds": wall}), flush=True)
    return 0 if meter.done() else 1


def _wait(done: Callable[[], bool], max_seconds: float) -> None:
    import gevent

    deadline = time.monotonic() + max_seconds
    while not done() and time.monotonic() < deadline:
        gevent.sleep(0.05)


def _user_class(variant: str, port: int) -> type:
    from locust import FastHttpUser, User, constant, task

    from load import wire
    from scanrush.domain.gateway import PayRequest
    from scanrush.domain.terminal import Op

    form = wire.encode(Op.PAY, PayRequest("T0", "280000000000000001", 88.0, 0, 0), app_id="2021000000000000").decode()
    headers = {"Content-Type": FORM, **({"Connection": "close"} if variant == "bare-close" else {})}

    class BareTerminal(FastHttpUser):
        wait_time = constant(0)

        @task
        def pay(self) -> None:
            self.client.post(PATH, data=form, headers=headers)

    class PosTerminal(User):
        wait_time = constant(0)
        tills: Any = None

        @task
        def pay(self) -> None:
            self.tills.exchange_next()

    return PosTerminal if variant == "pos" else BareTerminal


def _tills(port: int, environment: Any) -> Any:
    """A ``LiveTills`` whose ``exchange_next()`` sends one fresh pay request, as a till's checkout does."""
    import itertools

    from load.engine.__main__ import _hook
    from load.engine.plan import LivePlan
    from load.engine.tills import Endpoint, LiveTills
    from scanrush.domain.gateway import PayRequest
    from scanrush.domain.terminal import Op
    from scanrush.domain.visit import Exchange
    from scanrush.domain.world import build_world
    from scanrush.scenario.loader import load_scenario

    scenario = load_scenario(str(SCENARIO))
    plan = LivePlan(scenario, build_world(scenario), (0.0, 60.0))
    endpoint = Endpoint("127.0.0.1", port, PATH)
    tills = LiveTills(plan, {0: endpoint}, on_request=_hook(environment))
    serials = itertools.count()
    read_timeout = scenario.pos.read_timeout

    def exchange_next() -> None:
        serial = next(serials)
        request = PayRequest(f"T0S{serial}A0B", f"28{serial:016d}", 88.0, 0, 0)
        tills._exchange(Exchange(Op.PAY, request, 0.5, read_timeout), endpoint)

    tills.exchange_next = exchange_next  # type: ignore[attr-defined]
    return tills


# --------------------------------------------------------------------------- the parent


def _cores() -> tuple[set[int] | None, set[int] | None]:
    """(server cores, generator cores): the server alone on the last core when there are two or more."""
    try:
        cores = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return None, None
    if len(cores) < 2:
        return None, None
    return {cores[-1]}, set(cores[:-1])


def _spawn(command: list[str], cores: set[int] | None, **kwargs: Any) -> subprocess.Popen[str]:
    """Start a child and pin it (pinned from here rather than in a preexec_fn, which is unsafe with threads)."""
    child = subprocess.Popen(command, text=True, cwd=ROOT, **kwargs)
    if cores is not None:
        os.sched_setaffinity(child.pid, cores)
    return child


@contextmanager
def endpoint(cores: set[int] | None) -> Iterator[int]:
    """The endpoint server, started and stopped; yields its port once it accepts connections."""
    server = _spawn([sys.executable, str(SCRIPT), "--serve"], cores, stdout=subprocess.PIPE)
    try:
        port = _read_port(server)
        _poll_connect(port)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _read_port(server: subprocess.Popen[str]) -> int:
    assert server.stdout is not None
    ready, _, _ = select.select([server.stdout], [], [], READY_TIMEOUT)
    line = server.stdout.readline() if ready else ""
    if not line.startswith("listening "):
        raise SystemExit(f"the endpoint did not start (said {line!r})")
    return int(line.split()[1])


def _poll_connect(port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def run_child(variant: str, port: int, args: argparse.Namespace, cores: set[int] | None) -> dict[str, Any]:
    command = [sys.executable, "-c", CHILD_BOOT.format(script=str(SCRIPT)), "--child", variant, "--port", str(port),
               "--requests", str(args.requests), "--users", str(args.users), "--max-seconds", str(args.max_seconds)]
    child = _spawn(command, cores, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, stderr = child.communicate(timeout=args.max_seconds + 60)  # Locust's import and start-up included
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise SystemExit(f"{variant}: the load generator overran its time limit") from None
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"{variant}: no result (exit {child.returncode}):\n{stderr[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    if not result["complete"] or result["failures"]:
        raise SystemExit(f"{variant}: {result} (within --max-seconds {args.max_seconds}):\n{stderr[-2000:]}")
    return result


def cpu_us(result: dict[str, Any]) -> float:
    return float(result["cpu_seconds"]) / int(result["requests"]) * 1e6


def report(best: dict[str, dict[str, Any]], args: argparse.Namespace, cores: tuple[set[int] | None, ...]) -> None:
    server_cores, generator_cores = cores
    where = (f"endpoint pinned to core {sorted(server_cores or ())}, generators to {sorted(generator_cores or ())}"
             if server_cores else "no pinning (one core)")
    print(f"locust terminal benchmark: {args.requests:,} measured requests per variant, {args.users} users, "
          f"best of {args.rounds} round(s); {where}")
    for variant, label in VARIANTS.items():
        result = best[variant]
        rate = result["requests"] / result["wall_seconds"] if result["wall_seconds"] else float("nan")
        print(f"{label}: {cpu_us(result):,.0f} µs CPU/request ({result['cpu_seconds']:.2f} s CPU, "
              f"{rate:,.0f} requests/s wall)")
    pos = cpu_us(best["pos"])
    print(f"ratio: POS terminal costs {pos / cpu_us(best['bare']):.2f}x a bare FastHttpUser per request "
          f"(keep-alive), {pos / cpu_us(best['bare-close']):.2f}x one that also opens a connection per request")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.serve:
        return serve()
    if args.child:
        return generate(args.child, args.port, args.requests, args.users, args.max_seconds)
    if args.quick:
        args.requests, args.rounds = min(args.requests, 800), 1
    cores = _cores()
    best: dict[str, dict[str, Any]] = {}
    with endpoint(cores[0]) as port:
        for _ in range(args.rounds):
            for variant in VARIANTS:  # alternate, so every variant sees the machine in the same state
                result = run_child(variant, port, args, cores[1])
                if variant not in best or cpu_us(result) < cpu_us(best[variant]):
                    best[variant] = result
    report(best, args, cores)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=4000, help="measured requests per variant (default 4000)")
    parser.add_argument("--users", type=int, default=10, help="Locust users (terminals) per variant (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best of each is kept")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time limit of each measurement")
    parser.add_argument("--quick", action="store_true", help="800 requests, one round: a smoke run")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=tuple(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
