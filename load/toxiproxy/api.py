"""Toxiproxy 2.12's HTTP API (toxiproxy.md §2) on aiohttp.

Routes are exactly gorilla/mux's in ``api.go``: single-segment ``{proxy}`` and
``{toxic}``, no trailing slashes, ``POST`` and ``PATCH`` both update, ``/metrics``
exists only when a metrics flag is on (and then answers any method).

Where the real server is fragile this one answers 400 instead:

==================================================  ==========================================  ========================
input                                               Toxiproxy 2.12                              here
==================================================  ==========================================  ========================
``slicer`` with ``average_size: 0`` (or missing)    server dies (stack overflow)                400 ``bad request body``
``slicer`` with ``size_variation >= average_size``  cuts outside the chunk: panic or no end     400 ``bad request body``
``slicer`` with negative sizes                      recursion without end                       400 ``bad request body``
negative ``rate``                                   panics (negative slice bound), server dies  400 ``bad request body``
negative ``latency``/``jitter``                     no delay / no jitter                        400 ``bad request body``
negative ``timeout``/``delay``/``bytes``            same as 0, or fires at once                 400 ``bad request body``
an unexpected failure inside a handler              500 with Go's error text                    500 ``internal error``
==================================================  ==========================================  ========================

Bind and resolve failures stay 500 with Go's message, as clients expect.
"""

from __future__ import annotations

from aiohttp import web

from load.toxiproxy import errors
from load.toxiproxy.jsonwire import BodyError, parse
from load.toxiproxy.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from load.toxiproxy.metrics import Metrics
from load.toxiproxy.proxy_collection import ProxyCollection, decode_proxy_spec
from load.toxiproxy.responses import json_response, middleware, no_content

__all__ = ["VERSION", "build_app"]

VERSION = "2.12.0"
_PROXIES: web.AppKey[ProxyCollection] = web.AppKey("proxies", ProxyCollection)
_METRICS: web.AppKey[Metrics] = web.AppKey("metrics", Metrics)
_VERSION: web.AppKey[str] = web.AppKey("version", str)


def build_app(proxies: ProxyCollection, metrics: Metrics, version: str = VERSION) -> web.Application:
    app = web.Application(middlewares=[middleware], client_max_size=16 * 1024 * 1024)
    app[_PROXIES], app[_METRICS], app[_VERSION] = proxies, metrics, version
    routes = [
        ("POST", "/reset", reset),
        ("GET", "/proxies", proxy_index),
        ("POST", "/proxies", proxy_create),
        ("POST", "/populate", populate),
        ("GET", "/proxies/{proxy}", proxy_show),
        ("POST", "/proxies/{proxy}", proxy_update),
        ("PATCH", "/proxies/{proxy}", proxy_update),
        ("DELETE", "/proxies/{proxy}", proxy_delete),
        ("GET", "/proxies/{proxy}/toxics", toxic_index),
        ("POST", "/proxies/{proxy}/toxics", toxic_create),
        ("GET", "/proxies/{proxy}/toxics/{toxic}", toxic_show),
        ("POST", "/proxies/{proxy}/toxics/{toxic}", toxic_update),
        ("PATCH", "/proxies/{proxy}/toxics/{toxic}", toxic_update),
        ("DELETE", "/proxies/{proxy}/toxics/{toxic}", toxic_delete),
        ("GET", "/version", version_handler),
    ]
    for method, path, handler in routes:
        if method == "GET":  # gorilla's Methods("GET") does not answer HEAD: neither do we
            app.router.add_get(path, handler, allow_head=False)
        else:
            app.router.add_route(method, path, handler)
    if metrics.enabled:
        app.router.add_route("*", "/metrics", metrics_handler)
    return app


def _proxies(request: web.Request) -> ProxyCollection:
    return request.app[_PROXIES]


def _parse(body: bytes) -> object:
    try:
        return parse(body)
    except BodyError as exc:
        raise errors.bad_request_body(str(exc)) from None


async def proxy_index(request: web.Request) -> web.Response:
    proxies = _proxies(request).proxies
    # Go marshals a map: keys come out sorted.
    return json_response({name: proxies[name].to_json() for name in sorted(proxies)})


async def proxy_create(request: web.Request) -> web.Response:
    spec = decode_proxy_spec(_parse(await request.read()))
    proxy = await _proxies(request).create(spec)
    return json_response(proxy.to_json(), 201)


async def populate(request: web.Request) -> web.Response:
    done, error = await _proxies(request).populate_json(await request.read())
    listed = [proxy.to_json() for proxy in done] or None  # Go's nil slice: "proxies": null
    if error is None:
        return json_response({"proxies": listed}, 201)
    # Unlike every other error, populate's is JSON and keeps the proxies it managed.
    return json_response({**error.to_json(), "proxies": listed}, error.status)


async def proxy_show(request: web.Request) -> web.Response:
    return json_response(_proxies(request).get(request.match_info["proxy"]).to_json())


async def proxy_update(request: web.Request) -> web.Response:
    proxies = _proxies(request)
    proxies.get(request.match_info["proxy"])  # 404 before the body is looked at
    proxy = await proxies.update(request.match_info["proxy"], await request.read())
    return json_response(proxy.to_json())


async def proxy_delete(request: web.Request) -> web.Response:
    await _proxies(request).delete(request.match_info["proxy"])
    return no_content()


async def toxic_index(request: web.Request) -> web.Response:
    toxics = _proxies(request).get(request.match_info["proxy"]).toxics
    return json_response([entry.to_json() for entry in toxics.listing()])


async def toxic_create(request: web.Request) -> web.Response:
    toxics = _proxies(request).get(request.match_info["proxy"]).toxics
    entry = toxics.add_json(await request.read())
    return json_response(entry.to_json())  # 200, not 201, as the real server answers


async def toxic_show(request: web.Request) -> web.Response:
    toxics = _proxies(request).get(request.match_info["proxy"]).toxics
    return json_response(toxics.get(request.match_info["toxic"]).to_json())


async def toxic_update(request: web.Request) -> web.Response:
    toxics = _proxies(request).get(request.match_info["proxy"]).toxics
    entry = toxics.update_json(request.match_info["toxic"], await request.read())
    return json_response(entry.to_json())


async def toxic_delete(request: web.Request) -> web.Response:
    toxics = _proxies(request).get(request.match_info["proxy"]).toxics
    toxics.remove(request.match_info["toxic"])
    return no_content()


async def reset(request: web.Request) -> web.Response:
    await _proxies(request).reset()
    return no_content()


async def version_handler(request: web.Request) -> web.Response:
    body = f'{{"version": "{request.app[_VERSION]}"}}\n'
    return web.Response(body=body.encode(), headers={"Content-Type": "application/json;charset=utf-8"})


async def metrics_handler(request: web.Request) -> web.Response:
    text = request.app[_METRICS].render()
    return web.Response(body=text.encode(), headers={"Content-Type": METRICS_CONTENT_TYPE})

