"""The harness's Toxiproxy client: against the embedded server, and against a recorded real one."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from toxi_support import EchoServer, connect, free_port, is_refused, round_trip

from load.toxiproxy.client import (
    AlreadyExistsError,
    BadRequestError,
    NotFoundError,
    ProxyConfig,
    ServerError,
    ToxiproxyClient,
    ToxiproxyError,
    ToxiproxyUnreachableError,
    parse_version,
)
from load.toxiproxy.server import ServerHandle
from scanrush.errors import InfrastructureError

pytestmark = pytest.mark.live


@pytest.fixture
def client(toxi: ServerHandle) -> ToxiproxyClient:
    return ToxiproxyClient(toxi.url)


def test_version_and_readiness(client: ToxiproxyClient) -> None:
    assert client.version() == "2.12.0"
    assert client.wait_until_ready(timeout=1) == "2.12.0"


@pytest.mark.parametrize(("body", "version"), [
    (b'{"version": "2.12.0"}\n', "2.12.0"),  # 2.7 and later
    (b'{"version": "2.6.0"}\\n', "2.6.0"),  # 2.6.0's literal backslash-n
    (b"2.1.4", "2.1.4"),  # 2.1.x plain text
    (b'{"version": "git"}\n', "git"),  # development builds
])
def test_parse_version_of_every_2x_server(body: bytes, version: str) -> None:
    assert parse_version(body) == version


def test_unreachable_server_is_an_infrastructure_error() -> None:
    client = ToxiproxyClient(f"http://127.0.0.1:{free_port()}", timeout=1)
    with pytest.raises(ToxiproxyUnreachableError) as caught:
        client.wait_until_ready(timeout=0.1)
    assert isinstance(caught.value, InfrastructureError)
    assert caught.value.exit_code == 3
    assert caught.value.status is None


def test_proxy_lifecycle(client: ToxiproxyClient, echo: EchoServer) -> None:
    proxy = client.create_proxy("mall-wifi", echo.address)
    assert (proxy.name, proxy.upstream, proxy.enabled, proxy.toxics) == ("mall-wifi", echo.address, True, ())
    assert proxy.port > 0
    assert client.get_proxy("mall-wifi") == proxy
    assert client.proxies() == {"mall-wifi": proxy}
    with connect(proxy.port) as sock:
        round_trip(sock)
    assert client.disable_proxy("mall-wifi").enabled is False
    assert is_refused(proxy.port)
    assert client.enable_proxy("mall-wifi").listen == proxy.listen
    moved = client.update_proxy("mall-wifi", listen="127.0.0.1:0")
    assert moved.port != proxy.port
    client.delete_proxy("mall-wifi")
    assert client.proxies() == {}


def test_toxics(client: ToxiproxyClient, echo: EchoServer) -> None:
    client.create_proxy("wired", echo.address)
    latency = client.add_toxic("wired", "latency", attributes={"latency": 20, "jitter": 5})
    assert (latency.name, latency.stream, latency.toxicity) == ("latency_downstream", "downstream", 1.0)
    assert latency.attributes == {"latency": 20, "jitter": 5}
    outage = client.add_toxic("wired", "timeout", name="outage", stream="upstream", toxicity=0.5,
                              attributes={"timeout": 0})
    assert [t.name for t in client.toxics("wired")] == ["outage", "latency_downstream"]
    assert client.get_toxic("wired", "outage") == outage
    updated = client.update_toxic("wired", "latency_downstream", attributes={"latency": 40})
    assert updated.attributes == {"latency": 40, "jitter": 5}
    assert client.update_toxic("wired", "outage", toxicity=1).toxicity == 1.0
    assert client.get_proxy("wired").toxics[0].name == "outage"
    client.remove_toxic("wired", "outage")
    assert [t.name for t in client.toxics("wired")] == ["latency_downstream"]
    client.reset()
    assert client.toxics("wired") == []


def test_populate(client: ToxiproxyClient, echo: EchoServer) -> None:
    created = client.populate([ProxyConfig("a", echo.address), ProxyConfig("b", echo.address, enabled=False)])
    assert [(p.name, p.enabled) for p in created] == [("a", True), ("b", False)]
    assert client.populate([]) == []


def test_errors_carry_status_and_message(client: ToxiproxyClient, echo: EchoServer) -> None:
    with pytest.raises(NotFoundError) as not_found:
        client.get_proxy("nope")
    assert (not_found.value.status, not_found.value.message) == (404, "GET /proxies/nope: proxy not found")
    client.create_proxy("a", echo.address)
    with pytest.raises(AlreadyExistsError) as exists:
        client.create_proxy("a", echo.address)
    assert exists.value.status == 409
    with pytest.raises(BadRequestError, match="invalid toxic type"):
        client.add_toxic("a", "bogus")
    with pytest.raises(NotFoundError, match="toxic not found"):
        client.remove_toxic("a", "nope")
    taken = client.get_proxy("a").listen
    with pytest.raises(ServerError, match="address already in use") as bind:
        client.create_proxy("b", echo.address, listen=taken)
    assert bind.value.status == 500
    assert isinstance(bind.value, ToxiproxyError)


class _Recorder(BaseHTTPRequestHandler):
    """Answers like toxiproxy-server 2.12 would, and records what it was asked."""

    calls: list[tuple[str, str, object]]
    proxy: ClassVar = {"name": "a", "listen": "127.0.0.1:20000", "upstream": "127.0.0.1:9", "enabled": True,
                       "Logger": {}, "toxics": []}
    toxic: ClassVar = {"attributes": {"latency": 5, "jitter": 0}, "name": "t", "type": "latency",
                       "stream": "downstream", "toxicity": 1}

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.calls.append((self.command, self.path, body))
        if self.path == "/version":
            self._send(200, b'{"version": "2.12.0"}\n', "application/json;charset=utf-8")
        elif self.command == "DELETE" or self.path == "/reset":
            self._send(204, b"", None)
        elif "/toxics" in self.path:
            self._send(200, json.dumps(self.toxic).encode(), "application/json")
        else:
            self._send(200, json.dumps(self.proxy).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str | None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer  # noqa: N815 - http.server's naming

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[ToxiproxyClient, list[tuple[str, str, object]]]]:
    calls: list[tuple[str, str, object]] = []
    handler = type("Handler", (_Recorder,), {"calls": calls})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ToxiproxyClient(f"http://127.0.0.1:{server.server_address[1]}"), calls
    server.shutdown()
    server.server_close()
    thread.join()


def test_speaks_the_real_servers_dialect(recorder: tuple[ToxiproxyClient, list[tuple[str, str, object]]]) -> None:
    client, calls = recorder
    assert client.version() == "2.12.0"
    client.update_proxy("a", enabled=False)
    client.update_toxic("a", "t", attributes={"latency": 5})
    client.add_toxic("a", "latency", name="t")
    client.remove_toxic("a", "t")
    client.reset()
    assert [(method, path) for method, path, _ in calls] == [
        ("GET", "/version"), ("PATCH", "/proxies/a"), ("PATCH", "/proxies/a/toxics/t"),
        ("POST", "/proxies/a/toxics"), ("DELETE", "/proxies/a/toxics/t"), ("POST", "/reset")]
    assert calls[1][2] == {"enabled": False}
    assert calls[2][2] == {"attributes": {"latency": 5}}


def test_client_does_not_import_aiohttp() -> None:
    code = "import sys, load.toxiproxy.client, load.toxiproxy; print('aiohttp' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30)
    assert result.stdout.strip() == "False"


def test_in_process_server_start_and_stop(echo: EchoServer) -> None:
    from load.toxiproxy.server import ToxiproxyServer

    async def scenario() -> None:
        server = ToxiproxyServer(port=0, seed=1)
        await server.start()
        assert server.port != 0
        client = ToxiproxyClient(server.api_url)
        proxy = await asyncio.to_thread(client.create_proxy, "zone", echo.address)
        await asyncio.to_thread(_echo_once, proxy.port)
        await server.stop()
        with pytest.raises(ToxiproxyUnreachableError):
            await asyncio.to_thread(client.version)

    asyncio.run(scenario())


def _echo_once(port: int) -> None:
    with connect(port) as sock:
        round_trip(sock)
