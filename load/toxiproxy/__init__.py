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

Behaviour is Toxiproxy 2.12's (``shared/reference/toxiproxy.md``), quirks included:
``"Logger": {}`` in proxy objects, 200 (not 201) for a new toxic, text/plain error
bodies except ``/populate``'s, a ``:0`` listen always counting as a change. Known
differences, all deliberate:

=========================================  ==========================================  ===========================
what                                       toxiproxy-server 2.12                       here
=========================================  ==========================================  ===========================
fragile toxic settings                     accepted (see ``api.py``'s table)           400 ``bad request body``
``-seed``                                  accepted, ignored                           seeds every random draw
default ``-host``                          ``localhost``                               ``127.0.0.1``
``-config`` that cannot be applied         logged, server starts anyway                exit 2 (input) / 3 (bind)
runtime metrics                            ``go_*``, build info                        ``python_info``, ``process_*``
toxicity draw when a neighbour toxic is    redrawn (the stub restarts)                 kept: a connection stays
added behind it or removed                                                             affected or not
``reset_peer`` updated/removed mid-wait    the API call blocks until it fires          closes at once
``slow_close`` updated/removed mid-delay   end of stream lost, link hangs              end of stream passed on
upstream dial                              in the accept loop (one at a time)          concurrent
handler timeout                            25 s, then 503                              none (handlers never block)
request id on 404/405                      absent (mux middleware skipped)             present
``Server`` response header                 absent                                      aiohttp's
decoder error texts                        Go's                                        Go's wording, not verbatim
``/reset`` order                           map order (random)                          creation order
logs                                       zerolog JSON on stdout, ``LOG_LEVEL``       ``logging`` on stderr,
                                                                                       ``LOG_LEVEL``
=========================================  ==========================================  ===========================
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
