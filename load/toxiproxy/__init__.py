"""Fault layer: an embedded Toxiproxy-compatible server and a small client for it.

The live harness creates one proxy per mall network zone and drives latency, jitter,
bandwidth and outage toxics through Toxiproxy's HTTP API, so the same harness runs
unchanged against a real ``toxiproxy-server`` (give its URL) or against this one
(``scanrush toxiproxy``, or :func:`run_in_thread` / :class:`ToxiproxyServer` in-process).

Layout::

    server.py            ToxiproxyServer, run_in_thread()
    api.py, responses.py the HTTP API (aiohttp): routes, exact replies, middleware
    proxy_collection.py  create / delete / populate / reset
    proxy.py             one proxy: listen, stop, update
    connection.py        one proxied TCP connection: dial, two links, teardown
    link.py, stage.py    one direction: chunks through the toxic chain
    toxic_collection.py  a proxy's toxics and the links they apply to
    toxics/              one module per toxic type
    addr.py, jsonwire.py Go-compatible addresses and JSON
    metrics.py           /metrics (Prometheus text)
    client.py            typed stdlib HTTP client for the harness (no aiohttp import)

Importing this package does not import aiohttp: only the server modules need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["ServerHandle", "ToxiproxyServer", "run_in_thread"]

if TYPE_CHECKING:
    from load.toxiproxy.server import ServerHandle, ToxiproxyServer, run_in_thread


def __getattr__(name: str) -> object:
    # Lazy: ``load.toxiproxy.client`` must stay importable next to Locust without aiohttp.
    if name in __all__:
        from load.toxiproxy import server

        return getattr(server, name)
    raise AttributeError(name)
