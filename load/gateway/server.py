"""``GatewayStub``: the live Alipay gateway stub as an in-process server on a real socket.

    async with GatewayStub(scenario) as stub:      # binds 127.0.0.1, a free port
        client = GatewayClient(stub.url)            # http://127.0.0.1:PORT/gateway.do
        ...

The scenario clock starts at the live window's start (the scenario's
``live.window``, or the Locust terminals' default: three minutes at the peak) and
runs at the scenario's ``live.time_compression`` unless the options say otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from aiohttp import web

from load.gateway.app import MAX_BODY, GatewayApp, StubConfig
from load.gateway.wire import METHODS
from load.world import LiveWorld
from scanrush.domain.profile import RushProfile
from scanrush.errors import InfrastructureError
from scanrush.scenario.schema import Scenario
from scanrush.window import default_window

if TYPE_CHECKING:  # cryptography is imported only when keys are loaded
    from load.gateway.signing import GatewayKeys

_WARM_HEADROOM = 1.1


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayOptions:
    host: str = "127.0.0.1"
    port: int = 0
    """0: any free port (read it back from ``GatewayStub.port``)."""
    clock_origin: float | None = None
    """Scenario time at start; None: the live window's start (the terminals' default window without one)."""
    compression: float | None = None
    """Scenario seconds per wall second; None: the scenario's ``live.time_compression``; 0 freezes time."""
    keys: GatewayKeys | None = None
    granted: frozenset[str] = frozenset(METHODS)
    max_body: int = MAX_BODY
    warm: bool = True
    """Generate, before serving, the shoppers expected by the live window's end (~18 ms per 4,096)."""


class GatewayStub:
    def __init__(self, scenario: Scenario, options: GatewayOptions | None = None, *,
                 live: LiveWorld | None = None) -> None:
        self.scenario = scenario
        self.options = options or GatewayOptions()
        self.live = live or LiveWorld(scenario)
        self.state: GatewayApp | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        host = self.options.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def url(self) -> str:
        """The gateway endpoint, like ``https://openapi.alipay.com/gateway.do``."""
        return f"{self.base_url}/gateway.do"

    async def start(self) -> str:
        """Bind and serve; returns :attr:`url`. A taken port raises ``InfrastructureError``."""
        if self.options.warm:
            self._warm()
        self.state = GatewayApp(self.live, self._config())
        runner = web.AppRunner(self.state.make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.options.host, self.options.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise InfrastructureError(f"gateway stub cannot listen on {self.options.host}:{self.options.port}: "
                                      f"{exc.strerror or exc} (pick another --port, or 0 for any free one)") from exc
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> GatewayStub:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    def _config(self) -> StubConfig:
        origin = self.options.clock_origin
        if origin is None:
            origin = default_window(self.scenario)[0]
        compression = self.options.compression
        if compression is None:
            compression = self.scenario.live.time_compression
        return StubConfig(clock_origin=origin, compression=compression,
                          keys=self.options.keys, granted=self.options.granted, max_body=self.options.max_body)

    def _warm(self) -> None:
        end = default_window(self.scenario)[1]
        expected = RushProfile(self.scenario.shoppers.arrivals).expected_arrivals(0.0, end)
        self.live.warm(int(expected * _WARM_HEADROOM))
