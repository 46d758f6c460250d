"""A gateway stub on a real socket, driven from plain (synchronous) tests and Hypothesis machines.

The stub and its client live on an event loop in a background thread; every
call hops onto that loop and waits for the answer.  Readiness is polled on
``/control/health`` (never a fixed sleep).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from load.gateway.client import GatewayClient, Response
from load.gateway.server import GatewayOptions, GatewayStub
from load.gateway.wire import TextSigner, TextVerifier
from load.world import LiveWorld
from scanrush.domain.replies import Reply
from scanrush.domain.shoppers import Shopper
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import Scenario

T = TypeVar("T")
DATA = Path(__file__).parent / "data"
WORLD = DATA / "gateway.yaml"
GOOD_STORES = ("0", "1")
UNQUALIFIED_STORE = "2"
NO_HUABEI_STORE = "3"
FROZEN = GatewayOptions(compression=0.0)
"""Scenario time stands still at the live window's start (10m) unless a test moves it."""


StubFactory = Callable[..., "Harness"]
"""``make_stub(*overrides, options=..., signer=..., verifier=...)``"""


def scenario(*overrides: str) -> Scenario:
    return load_scenario(WORLD, list(overrides))


class Harness:
    def __init__(self, world: Scenario, options: GatewayOptions = FROZEN, *, signer: TextSigner | None = None,
                 verifier: TextVerifier | None = None, live: LiveWorld | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.stub = GatewayStub(world, options, live=live)
        self.run(self.stub.start())
        self.client: GatewayClient = self.run(_client(self.stub.url, signer, verifier))
        self._wait_ready()

    # ------------------------------------------------------------------ plumbing

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self.client.close())
        self.run(self.stub.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.get("/control/health")[0] == 200:
                    return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("gateway stub not ready")
            time.sleep(0.02)

    @property
    def live(self) -> LiveWorld:
        return self.stub.live

    # ------------------------------------------------------------------ gateway calls

    def pay(self, out_trade_no: str, code: str, amount: float, store_id: str | None = "0") -> Reply:
        return self.run(self.client.pay(out_trade_no, code, amount, store_id=store_id))

    def query(self, out_trade_no: str) -> Reply:
        return self.run(self.client.query(out_trade_no))

    def cancel(self, out_trade_no: str) -> Reply:
        return self.run(self.client.cancel(out_trade_no))

    def call(self, method: str, biz: dict[str, Any], **extra: str) -> Response:
        return self.run(self.client.call(method, biz, **extra))

    def post(self, method: str | None, params: dict[str, str]) -> Response:
        return self.run(self.client.post(method, params))

    # ------------------------------------------------------------------ control and raw HTTP

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return self.run(_request("GET", self.stub.base_url + path, None, headers))

    def post_json(self, path: str, payload: object) -> tuple[int, Any]:
        return self.run(_request("POST", self.stub.base_url + path, payload, None))

    def raw(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, str]:
        return self.run(_raw(method, self.stub.base_url + path, body, headers))

    def at(self, scenario_time: float) -> None:
        """Move the (frozen) scenario clock to ``scenario_time``."""
        status, _ = self.post_json("/control/clock", {"scenario_time": scenario_time})
        assert status == 200

    def now(self) -> float:
        return float(self.get("/control/health")[1]["scenario_time"])

    def ledger(self, *, settle: bool = False) -> dict[str, Any]:
        status, body = self.get("/control/ledger" + ("?settle=1" if settle else ""))
        assert status == 200
        result: dict[str, Any] = body
        return result

    # ------------------------------------------------------------------ shoppers

    def shoppers(self, *, where: Any = None, count: int = 1, skip: Iterable[int] = ()) -> Sequence[Shopper]:
        """The first ``count`` shoppers of the live replication for whom ``where(shopper)`` holds."""
        skipped = set(skip)
        found: list[Shopper] = []
        serial = 0
        while len(found) < count:
            shopper = self.live.shopper(serial)
            assert shopper is not None, "ran out of shoppers"
            if serial not in skipped and (where is None or where(shopper)):
                found.append(shopper)
            serial += 1
        return found


def options(**changes: Any) -> GatewayOptions:
    return replace(FROZEN, **changes)


async def _client(url: str, signer: TextSigner | None, verifier: TextVerifier | None) -> GatewayClient:
    return GatewayClient(url, signer=signer, verifier=verifier)


async def _request(method: str, url: str, payload: object, headers: dict[str, str] | None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.request(
            method, url, json=payload, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def _raw(method: str, url: str, body: bytes, headers: dict[str, str] | None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.request(
            method, url, data=body, headers=headers) as response:
        return response.status, await response.text()
