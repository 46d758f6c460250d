"""HTTP replies byte-for-byte like Toxiproxy's, and the middleware around every route.

* success: ``application/json``, compact, no trailing newline;
* errors: Go's ``http.Error``, so ``text/plain; charset=utf-8`` plus ``nosniff``, body
  ``{"error":"...","status":N}`` and a newline;
* unknown path: 404 ``404 page not found``; known path, wrong method: 405, empty body;
* a ``User-Agent`` starting with ``Mozilla/`` gets 403 ``User agent not allowed`` on
  every route (the API must not be drivable from a web page);
* every reply carries ``X-Toxiproxy-Request-Id``, a 20-character xid.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from load.toxiproxy.errors import ApiError
from load.toxiproxy.jsonwire import dumps

__all__ = ["REQUEST_ID_HEADER", "error_response", "json_response", "middleware", "no_content", "request_id"]

REQUEST_ID_HEADER = "X-Toxiproxy-Request-Id"
_JSON = "application/json"
_PLAIN = "text/plain; charset=utf-8"
_XID_ALPHABET = "0123456789abcdefghijklmnopqrstuv"
_MACHINE = secrets.token_bytes(3)
_COUNTER = itertools.count(int.from_bytes(secrets.token_bytes(3), "big"))
_log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_id() -> str:
    """An xid (what zerolog's hlog puts in the header): time, machine, pid, counter; base32hex."""
    raw = (int(time.time()).to_bytes(4, "big") + _MACHINE + (os.getpid() & 0xFFFF).to_bytes(2, "big")
           + (next(_COUNTER) & 0xFFFFFF).to_bytes(3, "big"))
    number = int.from_bytes(raw, "big") << 4  # 96 bits padded to 100 = 20 five-bit digits
    return "".join(_XID_ALPHABET[(number >> shift) & 31] for shift in range(95, -1, -5))


def json_response(value: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=dumps(value).encode(), headers={"Content-Type": _JSON})


def plain_error(status: int, text: str) -> web.Response:
    return web.Response(status=status, body=(text + "\n").encode(),
                        headers={"Content-Type": _PLAIN, "X-Content-Type-Options": "nosniff"})


def error_response(error: ApiError) -> web.Response:
    return plain_error(error.status, dumps(error.to_json()))


def no_content() -> web.Response:
    return web.Response(status=204)


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = request_id()
    response = await _respond(request, handler)
    response.headers[REQUEST_ID_HEADER] = rid
    return response


async def _respond(request: web.Request, handler: Handler) -> web.StreamResponse:
    routed = request.match_info.http_exception is None
    if routed and request.headers.get("User-Agent", "").startswith("Mozilla/"):
        return plain_error(403, "User agent not allowed")
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc)
    except web.HTTPMethodNotAllowed:
        return web.Response(status=405)
    except web.HTTPNotFound:
        return plain_error(404, "404 page not found")
    except web.HTTPException:
        raise  # aiohttp's own (413 body too large, ...): already a proper reply
    except Exception:
        _log.exception("%s %s failed", request.method, request.path)
        return error_response(ApiError("internal error"))
