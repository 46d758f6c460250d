"""A small typed client for Toxiproxy's HTTP API: what the live harness needs, nothing more.

Works against the embedded server and a real ``toxiproxy-server`` alike: updates use
``PATCH`` (the verb since 2.6.0; POST is deprecated), ``/version`` is parsed whether it
is JSON (``{"version": "2.12.0"}``) or the plain text of 2.1.x. It uses only the
standard library (``http.client``), so it can be imported next to Locust, which
monkey-patches sockets, without pulling in an asyncio HTTP stack.

Every failure is one of::

    ToxiproxyError (scanrush InfrastructureError, exit 3)   .status, .message
    ├── ToxiproxyUnreachableError   no HTTP answer at all (refused, timed out, garbled)
    ├── BadRequestError             400
    ├── NotFoundError               404 proxy or toxic not found
    ├── AlreadyExistsError          409 proxy or toxic already exists
    └── ServerError                 5xx, e.g. "listen tcp ...: bind: address already in use"
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scanrush.errors import InfrastructureError

__all__ = [
    "AlreadyExistsError",
    "BadRequestError",
    "NotFoundError",
    "Proxy",
    "ProxyConfig",
    "ServerError",
    "Toxic",
    "ToxiproxyClient",
    "ToxiproxyError",
    "ToxiproxyUnreachableError",
    "parse_version",
]

_USER_AGENT = "scanrush-toxiproxy-client/1"  # anything but Mozilla/..., which the server refuses


class ToxiproxyError(InfrastructureError):
    """The Toxiproxy API refused a request or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message if status is None else f"{message} (HTTP {status})")
        self.message = message
        self.status = status


class ToxiproxyUnreachableError(ToxiproxyError):
    """No HTTP answer: connection refused, timed out, or not HTTP."""


class BadRequestError(ToxiproxyError):
    """400: bad body, missing field, invalid stream or toxic type."""


class NotFoundError(ToxiproxyError):
    """404: no such proxy or toxic."""


class AlreadyExistsError(ToxiproxyError):
    """409: a proxy or toxic of that name exists."""


class ServerError(ToxiproxyError):
    """5xx: typically a listen address that cannot be bound."""


_BY_STATUS: dict[int, type[ToxiproxyError]] = {400: BadRequestError, 404: NotFoundError, 409: AlreadyExistsError}


@dataclass(frozen=True, slots=True)
class Toxic:
    name: str
    type: str
    stream: str
    toxicity: float
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Toxic:
        return cls(name=str(data["name"]), type=str(data["type"]), stream=str(data.get("stream", "downstream")),
                   toxicity=float(data.get("toxicity", 1.0)), attributes=dict(data.get("attributes") or {}))


@dataclass(frozen=True, slots=True)
class Proxy:
    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[Toxic, ...] = ()

    @property
    def port(self) -> int:
        """The listening port (``listen`` is ``host:port`` or ``[v6]:port``)."""
        return int(self.listen.rsplit(":", 1)[1])

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proxy:
        return cls(name=str(data["name"]), listen=str(data["listen"]), upstream=str(data["upstream"]),
                   enabled=bool(data["enabled"]),
                   toxics=tuple(Toxic.from_json(t) for t in data.get("toxics") or ()))


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """A proxy to create with :meth:`ToxiproxyClient.populate`."""

    name: str
    upstream: str
    listen: str = "127.0.0.1:0"
    enabled: bool = True

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "upstream": self.upstream, "listen": self.listen, "enabled": self.enabled}


def parse_version(body: bytes) -> str:
    """The version in a ``/version`` body, whichever Toxiproxy 2.x wrote it.

    ``{"version": "2.12.0"}\\n`` (2.7+), ``{"version": "2.6.0"}\\\\n`` with a literal
    backslash-n (2.6.0), or plain ``2.1.4`` (2.1.x).
    """
    text = body.decode("utf-8", errors="replace").strip()
    if text.endswith("\\n"):
        text = text[:-2]
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return str(parsed["version"]) if isinstance(parsed, dict) and "version" in parsed else text


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


class ToxiproxyClient:
    """``ToxiproxyClient("http://127.0.0.1:8474")``; every call is one short HTTP request."""

    def __init__(self, url: str = "http://127.0.0.1:8474", *, timeout: float = 5.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ToxiproxyError(f"not an http:// Toxiproxy URL: {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._host = parts.hostname
        self._port = parts.port or 80

    # -- server -----------------------------------------------------------------------------

    def version(self) -> str:
        """The server's version string, e.g. ``2.12.0`` (``git`` for development builds)."""
        return parse_version(self._request("GET", "/version"))

    def wait_until_ready(self, timeout: float = 10.0, interval: float = 0.02) -> str:
        """Poll ``/version`` until the server answers; its version, or ToxiproxyUnreachableError."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.version()
            except ToxiproxyUnreachableError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(interval)

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self._request("POST", "/reset")

    # -- proxies ----------------------------------------------------------------------------

    def proxies(self) -> dict[str, Proxy]:
        data = self._json("GET", "/proxies")
        return {name: Proxy.from_json(value) for name, value in data.items()}

    def get_proxy(self, name: str) -> Proxy:
        return Proxy.from_json(self._json("GET", f"/proxies/{_quote(name)}"))

    def create_proxy(self, name: str, upstream: str, *, listen: str = "127.0.0.1:0",
                     enabled: bool = True) -> Proxy:
        body = {"name": name, "upstream": upstream, "listen": listen, "enabled": enabled}
        return Proxy.from_json(self._json("POST", "/proxies", body))

    def update_proxy(self, name: str, *, listen: str | None = None, upstream: str | None = None,
                     enabled: bool | None = None) -> Proxy:
        changes = {k: v for k, v in (("listen", listen), ("upstream", upstream), ("enabled", enabled))
                   if v is not None}
        return Proxy.from_json(self._json("PATCH", f"/proxies/{_quote(name)}", changes))

    def enable_proxy(self, name: str) -> Proxy:
        return self.update_proxy(name, enabled=True)

    def disable_proxy(self, name: str) -> Proxy:
        """Take the proxy down: live connections close, new ones are refused."""
        return self.update_proxy(name, enabled=False)

    def delete_proxy(self, name: str) -> None:
        self._request("DELETE", f"/proxies/{_quote(name)}")

    def populate(self, configs: Iterable[ProxyConfig]) -> list[Proxy]:
        """Server-side ``/populate``: identical existing proxies are kept (with their toxics)."""
        data = self._json("POST", "/populate", [c.to_json() for c in configs])
        return [Proxy.from_json(p) for p in data.get("proxies") or ()]

    # -- toxics -----------------------------------------------------------------------------

    def toxics(self, proxy: str) -> list[Toxic]:
        return [Toxic.from_json(t) for t in self._json("GET", f"/proxies/{_quote(proxy)}/toxics")]

    def get_toxic(self, proxy: str, name: str) -> Toxic:
        return Toxic.from_json(self._json("GET", f"/proxies/{_quote(proxy)}/toxics/{_quote(name)}"))

    def add_toxic(self, proxy: str, type: str, *, name: str | None = None, stream: str = "downstream",
                  toxicity: float = 1.0, attributes: Mapping[str, int] | None = None) -> Toxic:
        """Add a toxic (``name`` defaults to ``<type>_<stream>``); it applies to live connections too."""
        body = {"type": type, "stream": stream, "toxicity": toxicity, "attributes": dict(attributes or {})}
        if name is not None:
            body["name"] = name
        return Toxic.from_json(self._json("POST", f"/proxies/{_quote(proxy)}/toxics", body))

    def update_toxic(self, proxy: str, name: str, *, attributes: Mapping[str, int] | None = None,
                     toxicity: float | None = None) -> Toxic:
        """Change some attributes (the others keep their values) and/or the toxicity."""
        body: dict[str, object] = {}
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if toxicity is not None:
            body["toxicity"] = toxicity
        return Toxic.from_json(self._json("PATCH", f"/proxies/{_quote(proxy)}/toxics/{_quote(name)}", body))

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._request("DELETE", f"/proxies/{_quote(proxy)}/toxics/{_quote(name)}")

    # -- transport: the one place lower-level errors are translated ----------------------------

    def _json(self, method: str, path: str, body: object = None) -> Any:
        raw = self._request(method, path, body)
        try:
            return json.loads(raw)
        except ValueError:
            raise ToxiproxyError(f"{method} {path}: the answer is not JSON: {raw[:200]!r}") from None

    def _request(self, method: str, path: str, body: object = None) -> bytes:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ToxiproxyUnreachableError(f"cannot reach Toxiproxy at {self.url}: {exc}") from None
        finally:
            connection.close()
        if status >= 400:
            raise _error(method, path, status, raw)
        return raw


def _error(method: str, path: str, status: int, raw: bytes) -> ToxiproxyError:
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        parsed = json.loads(text)
        message = str(parsed["error"]) if isinstance(parsed, dict) and "error" in parsed else text
    except ValueError:
        message = text
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else ToxiproxyError)
    return kind(f"{method} {path}: {message or http.client.responses.get(status, 'error')}", status)
