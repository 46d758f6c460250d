"""All proxies of a server: create, delete, populate and reset, as ``proxy_collection.go`` does.

Every change that awaits (address resolution, binding) holds one lock, so two API
calls cannot interleave half-way (two creates of one name, an update racing a delete).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Final

from load.toxiproxy import errors
from load.toxiproxy.errors import ApiError
from load.toxiproxy.jsonwire import BodyError, GoKind, decode_fields, json_type, parse
from load.toxiproxy.proxy import Proxy, ProxyContext, ProxySpec

__all__ = ["ProxyCollection", "decode_proxy_spec"]

_PROXY_FIELDS: Final[Mapping[str, GoKind]] = {
    "name": "string", "listen": "string", "upstream": "string", "enabled": "bool"}
_PROXY_STRUCT: Final = "toxiproxy.Proxy"


def decode_proxy_spec(value: object, position: int | None = None, base: ProxySpec | None = None) -> ProxySpec:
    """A proxy description from decoded JSON; missing fields come from ``base`` (an update).

    Raises ApiError 400 for a wrong JSON type or a missing name or upstream (``position``
    is the 1-based entry of a ``/populate`` array, named in its messages).
    """
    try:
        fields = decode_fields(value, _PROXY_FIELDS, _PROXY_STRUCT)
    except BodyError as exc:
        raise errors.bad_request_body(str(exc)) from None
    current = base or ProxySpec("", "", "", True)
    spec = ProxySpec(
        name=str(fields.get("name", current.name)),
        listen=str(fields.get("listen", current.listen)),
        upstream=str(fields.get("upstream", current.upstream)),
        enabled=bool(fields.get("enabled", current.enabled)),
    )
    where = "" if position is None else f" at proxy {position}"
    if base is None and not spec.name:
        raise errors.missing_field(f"name{where}")
    if base is None and not spec.upstream:
        raise errors.missing_field(f"upstream{where}")
    return spec


def _parse(body: bytes) -> object:
    try:
        return parse(body)
    except BodyError as exc:
        raise errors.bad_request_body(str(exc)) from None


class ProxyCollection:
    """Proxies by name, in creation order."""

    def __init__(self, context: ProxyContext) -> None:
        self.context = context
        self.proxies: dict[str, Proxy] = {}
        self.lock = asyncio.Lock()

    def get(self, name: str) -> Proxy:
        proxy = self.proxies.get(name)
        if proxy is None:
            raise errors.proxy_not_found()
        return proxy

    async def create(self, spec: ProxySpec) -> Proxy:
        """Add and (if enabled) start a proxy; 409 if the name exists, 500 if it cannot listen."""
        async with self.lock:
            return await self._create(spec)

    async def _create(self, spec: ProxySpec) -> Proxy:
        if spec.name in self.proxies:
            raise errors.proxy_already_exists()
        proxy = Proxy(self.context, spec.name, spec.listen, spec.upstream)
        if spec.enabled:
            await proxy.start()  # a failure leaves nothing stored
        self.proxies[spec.name] = proxy
        return proxy

    async def update(self, name: str, body: bytes) -> Proxy:
        async with self.lock:
            proxy = self.get(name)
            current = ProxySpec(proxy.name, proxy.listen, proxy.upstream, proxy.enabled)
            await proxy.update(decode_proxy_spec(_parse(body), base=current))
            return proxy

    async def delete(self, name: str) -> None:
        async with self.lock:
            self.get(name).stop()
            del self.proxies[name]

    async def populate_json(self, body: bytes) -> tuple[list[Proxy], ApiError | None]:
        """Create or replace proxies from a JSON array; returns those done and the first error.

        Every entry is validated before anything changes. Then, in order: a new name is
        created; an existing proxy with the same resolved listen and upstream is left
        alone (toxics and enabled state kept); a differing one is replaced by a fresh
        proxy. Processing stops at the first failure; earlier entries stay.
        """
        try:
            specs = self._populate_specs(_parse(body))
        except ApiError as exc:
            return [], exc
        done: list[Proxy] = []
        async with self.lock:
            for spec in specs:
                try:
                    done.append(await self._create_or_replace(spec))
                except ApiError as exc:
                    return done, exc
        return done, None

    @staticmethod
    def _populate_specs(value: object) -> list[ProxySpec]:
        if value is None:  # Go decodes null into an empty slice
            return []
        if not isinstance(value, list):
            raise errors.bad_request_body(
                f"json: cannot unmarshal {json_type(value)} into Go value of type []toxiproxy.Proxy")
        return [decode_proxy_spec(entry, position) for position, entry in enumerate(value, start=1)]

    async def _create_or_replace(self, spec: ProxySpec) -> Proxy:
        existing = self.proxies.get(spec.name)
        if existing is not None:
            if not await existing.differs(spec.listen, spec.upstream):
                return existing
            existing.stop()
            del self.proxies[spec.name]
        return await self._create(spec)

    async def reset(self) -> None:
        """Enable every proxy, then remove all its toxics; 500 (and stop) if one cannot listen."""
        async with self.lock:
            for proxy in list(self.proxies.values()):
                await proxy.start()
                proxy.toxics.reset()

    def stop_all(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
