"""What a toxic is: frozen settings plus one method, ``pipe(stub)``.

A toxic's ``pipe`` runs once per link (one connection, one direction) and moves
chunks from ``stub.recv()`` to ``stub.send()``, sleeping with ``stub.sleep_until()``.
It is a coroutine driven by the link itself (see ``load/toxiproxy/stage.py``), not an
asyncio task, so adding, updating or removing a toxic on live connections is
synchronous: no data is lost or reordered in between.

Interrupt contract (a toxic being updated or removed): ``recv`` raises
:class:`Interrupted`, and ``sleep_until`` returns ``False``; the toxic must then
``send`` whatever it holds and return.

Optional abilities are class attributes rather than extra interfaces:
``passthrough`` (never runs, the link bypasses it: ``noop``), ``closes_on_remove``
(removal closes the link: ``timeout``), ``forces_reset`` (connections opened while
it exists close with RST: ``reset_peer``) and ``new_state()`` (per-link state that
survives updates: ``limit_data``).
"""

from __future__ import annotations

import dataclasses
import enum
import random
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self, TypeVar, cast

from load.toxiproxy.jsonwire import GoKind, decode_fields

__all__ = [
    "REGISTRY",
    "Chunk",
    "Interrupted",
    "Stub",
    "TimedOut",
    "Toxic",
    "attribute",
    "register",
]


@dataclass(slots=True)
class Chunk:
    """Bytes read from one socket in one read, stamped with their arrival time (loop clock, s)."""

    data: bytes
    stamp: float


class Interrupted(Exception):  # noqa: N818 - a control signal, as in Go's stub.Interrupt
    """Raised by ``stub.recv()`` when the toxic is being updated or removed."""


class TimedOut(enum.Enum):
    """What ``stub.recv_until`` returns when its deadline passed with nothing received."""

    TIMED_OUT = "timed out"


class Stub(Protocol):
    """A toxic's view of one link: its input, its output, a clock, a random stream and state."""

    @property
    def rng(self) -> random.Random: ...

    @property
    def state(self) -> Any: ...

    def now(self) -> float: ...

    def recv(self) -> Awaitable[Chunk | None]:
        """The next chunk, or ``None`` at end of stream; raises :class:`Interrupted`."""
        ...

    def recv_until(self, deadline: float) -> Awaitable[Chunk | TimedOut | None]:
        """Like ``recv`` but gives up at ``deadline`` (loop clock) with ``TIMED_OUT``."""
        ...

    def sleep_until(self, when: float) -> Awaitable[bool]:
        """Sleep until ``when`` (loop clock; ``inf`` = forever); ``False`` if interrupted."""
        ...

    def send(self, chunk: Chunk) -> None: ...

    def close(self) -> None:
        """End the stream here: the rest of the chain sees end-of-stream, later input is dropped."""
        ...


def attribute(key: str, unit: str = "") -> Any:
    """A toxic setting: a JSON integer attribute named ``key`` (default 0), documented with its unit."""
    return dataclasses.field(default=0, metadata={"json": key, "unit": unit})


class Toxic:
    """Base of every toxic type: subclasses are frozen dataclasses of ``attribute`` fields."""

    type_name: ClassVar[str]
    go_name: ClassVar[str]  # the Go struct, as named in decoder error messages
    passthrough: ClassVar[bool] = False
    closes_on_remove: ClassVar[bool] = False
    forces_reset: ClassVar[bool] = False

    async def pipe(self, stub: Stub) -> None:
        raise NotImplementedError

    def new_state(self) -> object:
        return None

    def validate(self) -> None:
        """Raise ``ValueError`` for settings the real server accepts but misbehaves on."""
        for field in _fields(self):
            if getattr(self, field.name) < 0:
                raise ValueError(f"{self.type_name}.{field.metadata['json']} must not be negative")

    def attributes(self) -> dict[str, object]:
        """The JSON ``attributes`` object: every attribute, in declaration order."""
        return {f.metadata["json"]: getattr(self, f.name) for f in _fields(self)}

    def merged(self, attributes: object) -> Self:
        """A copy with ``attributes`` (a decoded JSON value) laid over the current values.

        Raises ``jsonwire.BodyError`` for a wrong JSON type and ``ValueError`` from ``validate``.
        """
        fields = {f.metadata["json"]: f.name for f in _fields(self)}
        kinds: Mapping[str, GoKind] = dict.fromkeys(fields, "int64")
        decoded = decode_fields(attributes, kinds, f"toxics.{self.go_name}")
        updated: Self = dataclasses.replace(cast(Any, self), **{fields[k]: v for k, v in decoded.items()})
        updated.validate()
        return updated


def _fields(toxic: Toxic) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cast(Any, toxic))


REGISTRY: dict[str, type[Toxic]] = {}
"""Toxic types by their API name, filled by :func:`register`."""


_T = TypeVar("_T", bound=type[Toxic])


def register(cls: _T) -> _T:
    """Class decorator: make ``cls`` creatable through the API as ``cls.type_name``."""
    REGISTRY[cls.type_name] = cls
    return cls
