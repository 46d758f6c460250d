"""The embedded Toxiproxy-compatible server: in-process (asyncio) or in a background thread.

    server = ToxiproxyServer(port=0, seed=7)
    await server.start()          # API bound and listening when this returns
    print(server.api_url)         # http://127.0.0.1:<port>
    await server.stop()           # closes proxies, live connections and the API

    with run_in_thread(port=0) as handle:   # tests, benchmarks, synchronous callers
        Toxiproxy().update_api_consumer(handle.host, handle.port)

Readiness is deterministic: ``start()`` returns after the API socket listens, and
``run_in_thread`` returns after ``start()`` did (no sleeping and hoping).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from aiohttp import web

from load.toxiproxy.addr import AddressError, ResolvedAddr, bind_listener
from load.toxiproxy.api import VERSION, build_app
from load.toxiproxy.errors import ApiError
from load.toxiproxy.metrics import Metrics
from load.toxiproxy.proxy import ProxyContext
from load.toxiproxy.proxy_collection import ProxyCollection
from scanrush.errors import InfrastructureError, InputError

__all__ = ["ServerHandle", "ToxiproxyServer", "run_in_thread"]

_log = logging.getLogger(__name__)


class ToxiproxyServer:
    """A Toxiproxy 2.12-compatible API and data plane on the running asyncio loop.

    ``seed`` seeds every random draw (toxicity, jitter, slicer cuts), per proxy,
    connection and toxic, so a sequential run repeats exactly; real Toxiproxy accepts
    ``-seed`` and ignores it. Without a seed one is drawn and kept in ``seed``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8474, *, seed: int | None = None,
                 proxy_metrics: bool = False, runtime_metrics: bool = False, version: str = VERSION) -> None:
        self.host = host
        self.port = port
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self.version = version
        self.metrics = Metrics(proxy_metrics=proxy_metrics, runtime_metrics=runtime_metrics)
        self._proxies: ProxyCollection | None = None
        self._runner: web.AppRunner | None = None

    @property
    def proxies(self) -> ProxyCollection:
        if self._proxies is None:
            self._proxies = ProxyCollection(ProxyContext(self.seed, self.metrics))
        return self._proxies

    @property
    def api_url(self) -> str:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind and serve the API; InfrastructureError (exit 3) if the address is unusable."""
        sock = self._bind_api()
        self._runner = web.AppRunner(build_app(self.proxies, self.metrics, self.version),
                                     access_log=None, handle_signals=False, shutdown_timeout=1.0)
        try:
            await self._runner.setup()
            await web.SockSite(self._runner, sock).start()
        except BaseException:
            sock.close()
            raise
        _log.info("Toxiproxy-compatible API on %s (seed %d)", self.api_url, self.seed)

    def _bind_api(self) -> socket.socket:
        ip = {"localhost": "127.0.0.1", "": None}.get(self.host, self.host)
        try:
            sock, _shown = bind_listener(ResolvedAddr(ip, self.port))
        except AddressError as exc:
            hint = " (another toxiproxy running? pick another --port)" if "already in use" in str(exc) else ""
            raise InfrastructureError(f"cannot serve the Toxiproxy API on {self.host}:{self.port}: "
                                      f"{str(exc).split(': ')[-1]}{hint}") from None
        self.port = int(sock.getsockname()[1])
        return sock

    async def stop(self) -> None:
        """Close every proxy and live connection, then the API."""
        self.proxies.stop_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def populate_file(self, path: str | Path) -> int:
        """Create the proxies of a ``-config`` JSON array (``/populate`` semantics); how many.

        Unlike toxiproxy-server, which only logs a bad config, a file that cannot be
        used is an error: a fault-injection run without its proxies is not a run.
        """
        try:
            body = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the proxy config {path}: {exc.strerror}") from None
        done, error = await self.proxies.populate_json(body)
        if error is not None:
            raise _config_error(path, error)
        return len(done)


def _config_error(path: str | Path, error: ApiError) -> InputError | InfrastructureError:
    if error.status == 400:
        return InputError(f"{path}: {error.message}")
    return InfrastructureError(f"{path}: {error.message}")


@dataclass
class ServerHandle:
    """A server running on its own loop in a daemon thread; ``stop()`` (or ``with``) ends it."""

    server: ToxiproxyServer
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    _stopping: asyncio.Event = field(repr=False)

    @property
    def url(self) -> str:
        return self.server.api_url

    @property
    def host(self) -> str:
        return self.url.rsplit(":", 1)[0].removeprefix("http://").strip("[]")

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self, timeout: float = 10.0) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self._stopping.set)
            self.thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def run_in_thread(host: str = "127.0.0.1", port: int = 0, *, seed: int | None = None,
                  proxy_metrics: bool = False, runtime_metrics: bool = False,
                  ready_timeout: float = 10.0) -> ServerHandle:
    """Start a server in a background thread; returns once its API is listening."""
    server = ToxiproxyServer(host, port, seed=seed, proxy_metrics=proxy_metrics, runtime_metrics=runtime_metrics)
    ready = threading.Event()
    started: dict[str, object] = {}

    async def serve() -> None:
        stopping = asyncio.Event()
        try:
            await server.start()
        except BaseException as exc:
            started["error"] = exc
            ready.set()
            raise
        started["loop"], started["stopping"] = asyncio.get_running_loop(), stopping
        ready.set()
        await stopping.wait()
        await server.stop()

    thread = threading.Thread(target=_run_quietly, args=(serve,), name="toxiproxy", daemon=True)
    thread.start()
    if not ready.wait(ready_timeout):
        raise InfrastructureError(f"the embedded Toxiproxy did not start within {ready_timeout} s")
    error = started.get("error")
    if isinstance(error, BaseException):
        thread.join(ready_timeout)
        raise error
    loop, stopping = started["loop"], started["stopping"]
    assert isinstance(loop, asyncio.AbstractEventLoop)
    assert isinstance(stopping, asyncio.Event)
    return ServerHandle(server, loop, thread, stopping)


def _run_quietly(serve: object) -> None:
    """Thread body: run the server; a start-up error was already handed to the caller."""
    assert callable(serve)
    try:
        asyncio.run(serve())
    except Exception:  # reported to the caller through run_in_thread
        _log.debug("embedded Toxiproxy thread ended with an error", exc_info=True)
