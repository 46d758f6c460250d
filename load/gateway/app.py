"""The stub's HTTP face (aiohttp.web): ``POST /gateway.do`` plus JSON control endpoints.

Nothing a client sends can make it answer 5xx on purpose: malformed protocol input
is an Alipay 40001/40002 answer, an oversized body is 413, a wrong path 404 and a
wrong HTTP method 405 (aiohttp's small text bodies).  The control endpoints are
plain JSON GETs/POSTs, so a browser can read them too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from operator import methodcaller
from time import perf_counter
from typing import TYPE_CHECKING, Any

from aiohttp import hdrs, web
from multidict import CIMultiDict
from yarl._quoters import UNQUOTER_PLUS  # what yarl's URL.query decodes with (C)

from load.gateway.business import Answer, Business, Job
from load.gateway.capacity import Workers
from load.gateway.clock import ScenarioClock
from load.gateway.metrics import Metrics
from load.gateway.parse import Envelope, Rejected, invalid, method_of, parse_envelope
from load.gateway.settlement import Settlement, checkouts_of
from load.gateway.wire import METHODS, RESPONSE_KEYS, encode_fields, envelope, response_key, wrap_response
from load.world import LiveWorld
from scanrush.domain.replies import Reply
from scanrush.units import parse_duration

if TYPE_CHECKING:  # cryptography is imported only when keys are loaded
    from load.gateway.signing import GatewayKeys

MAX_BODY = 64 * 1024
"""Bytes; a pay request is ~1 kB, so anything near this is not a POS talking."""
MAX_FIELDS = 64
_JSON_UTF8 = CIMultiDict({hdrs.CONTENT_TYPE: "application/json; charset=utf-8"})
"""Every Alipay answer's header (a Response copies it): what ``content_type=..., charset=...`` would set."""
_NO_METHOD = "(invalid)"
"""Metrics label for requests whose method is missing or unknown (keeps fuzzing from growing the table)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StubConfig:
    """How the stub behaves beyond what the scenario says."""

    clock_origin: float = 0.0
    compression: float = 1.0
    keys: GatewayKeys | None = None
    """With keys, requests must carry a valid RSA2 signature and responses are signed; without, neither."""
    granted: frozenset[str] = frozenset(METHODS)
    """Methods the app may call; others are answered 40006."""
    max_body: int = MAX_BODY


class GatewayApp:
    """State of one stub: the live world, the shared gateway core, capacity, clock and counters."""

    def __init__(self, live: LiveWorld, config: StubConfig) -> None:
        self.live = live
        self.config = config
        self.clock = ScenarioClock(config.clock_origin, config.compression)
        self.business = Business(live, self.clock)
        self.metrics = Metrics()
        self.workers = Workers(live.scenario.gateway.workers, self.metrics)
        self._counting_since = self.clock.elapsed()
        """Where the metrics' time starts (:meth:`ScenarioClock.elapsed`): the stub's start, or the last reset."""
        self.settlement = Settlement(self.business.core.ledger, live)
        self._verify = config.keys.app.verify_request if config.keys else None
        self._signer = config.keys.gateway if config.keys else None

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=self.config.max_body)
        app.router.add_post("/gateway.do", self.gateway)
        app.router.add_get("/control/health", self.health)
        app.router.add_get("/control/metrics", self.show_metrics)
        app.router.add_get("/control/ledger", self.show_ledger)
        app.router.add_post("/control/ledger", self.settle_checkouts)
        app.router.add_post("/control/reset", self.reset)
        app.router.add_post("/control/clock", self.set_clock)
        return app

    # ------------------------------------------------------------------ gateway.do

    async def gateway(self, request: web.Request) -> web.Response:
        started = perf_counter()
        params: dict[str, str] = {}
        try:
            content = request.content
            if content.is_eof() and content.total_bytes <= self.config.max_body:
                # The whole body is there (the usual case): what read() would return, without its loop.
                params = _params(request, content.read_nowait())
            else:
                params = _params(request, await _read(request))  # still arriving, or too large (413)
            checked = parse_envelope(params, verify=self._verify, granted=self.config.granted)
            job = self.business.prepare(checked.method, checked.biz)
        except Rejected as rejected:
            self.metrics.rejected += 1
            reply = Reply(rejected.code, rejected.sub_code, rejected.sub_msg)
            answer = Answer(reply, encode_fields(envelope(reply)))
            method = method_of(params)
            key = response_key(method)
        else:
            method = checked.method
            key = RESPONSE_KEYS[method]
            if self.business.instant and self.workers.available():
                # No service time and a free worker: taking it, running the job and giving it back
                # with nothing in between is the job alone (nothing else runs meanwhile).
                answer = job(self.clock.now())
            else:
                answer = await self._run(checked, job)
        self.metrics.answered(method or _NO_METHOD, answer.reply, perf_counter() - started)
        return web.Response(body=wrap_response(key, answer.text, self._signer).encode(), headers=_JSON_UTF8)

    async def _run(self, checked: Envelope, job: Job) -> Answer:
        queue_timeout = self.clock.real(self.live.scenario.gateway.queue_timeout)
        if not await self.workers.acquire(queue_timeout):
            return self.business.busy(checked.biz)
        try:
            service = self.business.service_time(self.clock.now())
            self.metrics.busy_seconds += service
            if service > 0:
                await asyncio.sleep(self.clock.real(service))
            return job(self.clock.now())
        finally:
            self.workers.release()

    # ------------------------------------------------------------------ control

    async def health(self, _request: web.Request) -> web.Response:
        scenario = self.live.scenario
        return web.json_response({
            "status": "ok", "scenario": scenario.name, "seed": scenario.seed,
            "scenario_time": self.clock.now(), "compression": self.clock.compression,
            "workers": scenario.gateway.workers, "signed": self.config.keys is not None,
        })

    async def show_metrics(self, _request: web.Request) -> web.Response:
        elapsed = self.clock.elapsed() - self._counting_since
        return web.json_response(self.metrics.as_dict(workers=self.live.scenario.gateway.workers, elapsed=elapsed))

    async def show_ledger(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        if request.query.get("settle", "") not in ("", "0", "false"):
            self.settlement.settle_by_buyer(now)
        return web.json_response(self.settlement.view(now))

    async def settle_checkouts(self, request: web.Request) -> web.Response:
        try:
            checkouts = checkouts_of(await _json(request))
        except ValueError as exc:
            return _bad_request(str(exc))
        now = self.clock.now()
        self.settlement.settle(checkouts, now)
        return web.json_response(self.settlement.view(now))

    async def reset(self, _request: web.Request) -> web.Response:
        self.business.reset()
        self.settlement = Settlement(self.business.core.ledger, self.live)
        self.metrics.clear()
        self._counting_since = self.clock.elapsed()
        return web.json_response({"status": "reset", "scenario_time": self.clock.now()})

    async def set_clock(self, request: web.Request) -> web.Response:
        try:
            data = await _json(request)
            if not isinstance(data, Mapping):
                raise ValueError('expected {"scenario_time": seconds or "1h", "compression": c}')
            scenario_time = data.get("scenario_time")
            compression = data.get("compression")
            self.clock.set(None if scenario_time is None else parse_duration(scenario_time),
                           None if compression is None else _number(compression, "compression"))
        except ValueError as exc:
            return _bad_request(str(exc))
        return web.json_response({"scenario_time": self.clock.now(), "compression": self.clock.compression})


def _params(request: web.Request, body: bytes) -> dict[str, str]:
    """Common parameters from the query string (as SDKs send them) overlaid with the form ``body``."""
    params = dict(request.query) if request.query_string else {}
    _check_content_type(request)
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid("charset", "the body is not utf-8") from None
        plain = "%" not in text  # nothing to decode but '+'
        parts = (text.replace("+", " ") if plain else text).split("&")
        if len(parts) > MAX_FIELDS:  # MAX_FIELDS or more '&'
            raise invalid("parameters", f"more than {MAX_FIELDS} fields")
        params.update(_fields(parts, plain))
    return params


def _check_content_type(request: web.Request) -> None:
    if request.headers.get("Content-Type", "").lower().startswith("multipart/"):
        raise invalid("content_type", "send application/x-www-form-urlencoded")


async def _read(request: web.Request) -> bytes:
    """The body, read as aiohttp reads it (413 past ``client_max_size``), after the content type is checked."""
    _check_content_type(request)
    return await request.read()


def form_fields(text: str) -> dict[str, str]:
    """A form body's fields, decoded as a query string (``+`` is a space); a repeated name keeps its first value.

    This is ``dict.update(URL.build(query_string=text, encoded=True).query)``, the way
    yarl parses a query (``query_to_pairs``, with yarl's C unquoter), without the URL
    and multidict around it.
    """
    plain = "%" not in text
    return _fields((text.replace("+", " ") if plain else text).split("&"), plain)


def _fields(parts: list[str], plain: bool) -> dict[str, str]:
    """:func:`form_fields` of the text split at ``&`` (``plain``: without ``%``, ``+`` already spaces)."""
    # The usual form (every part a name=value, no name twice, names needing no decoding) in C loops:
    # dict() refuses a part without "=" (or an empty one), and a repeated name shows in the length.
    # Anything else takes the part-by-part way below.
    try:
        fields = dict(map(_SPLIT_AT_EQUALS, parts))
    except ValueError:
        fields = {}
    else:
        if len(fields) == len(parts):
            if plain:
                return fields
            names = "".join(fields)
            if "%" not in names and "+" not in names:
                for name, value in fields.items():
                    if "%" in value or "+" in value:
                        fields[name] = UNQUOTER_PLUS(value)
                return fields
        fields = {}
    if plain:
        for name_value in parts:
            if name_value:
                name, _, value = name_value.partition("=")
                if name not in fields:
                    fields[name] = value
        return fields
    for name_value in parts:
        if name_value:
            name, _, value = name_value.partition("=")
            # the unquoter returns text without '%' or '+' as it is: only the rest goes through it
            if "%" in name or "+" in name:
                name = UNQUOTER_PLUS(name)
            if name not in fields:
                fields[name] = UNQUOTER_PLUS(value) if "%" in value or "+" in value else value
    return fields


_SPLIT_AT_EQUALS = methodcaller("split", "=", 1)
"""``part.split("=", 1)``: [name, value], or [part] without "=" (which ``dict()`` refuses)."""


async def _json(request: web.Request) -> Any:
    """The JSON body (``{}`` if empty); ``ValueError`` for anything that is not JSON in utf-8."""
    text = (await request.read()).decode("utf-8")
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)
