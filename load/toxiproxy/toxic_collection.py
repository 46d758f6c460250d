"""A proxy's toxics: two ordered chains (upstream, downstream) and the live links they run on.

Creating, updating and removing toxics follows Toxiproxy's ``toxic_collection.go``,
including its validation order, which decides which error a bad request gets:
body → stream → default name → type → name conflict → attributes. Every change is
applied to every live link of that direction before the API answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from load.toxiproxy import errors
from load.toxiproxy.jsonwire import BodyError, Float32, GoKind, decode_fields, parse
from load.toxiproxy.link import Direction, Link
from load.toxiproxy.toxics import REGISTRY, Toxic

__all__ = ["ToxicCollection", "ToxicEntry"]

_CREATE_FIELDS: Final[Mapping[str, GoKind]] = {
    "name": "string", "type": "string", "stream": "string", "toxicity": "float32", "attributes": "object"}
_UPDATE_FIELDS: Final[Mapping[str, GoKind]] = {"toxicity": "float32", "attributes": "object"}
_WRAPPER: Final = "toxics.ToxicWrapper"


@dataclass(slots=True, eq=False)
class ToxicEntry:
    """One toxic as the API knows it; ``toxic`` holds the typed settings."""

    name: str
    type_name: str
    stream: str  # exactly as the client spelt it (``UpStream`` is echoed back)
    direction: Direction
    toxicity: float  # float32, not range-checked: <=0 never applies, >=1 always does
    toxic: Toxic

    def to_json(self) -> dict[str, object]:
        return {"attributes": self.toxic.attributes(), "name": self.name, "type": self.type_name,
                "stream": self.stream, "toxicity": Float32(self.toxicity)}


def _decode(body: bytes, fields: Mapping[str, GoKind]) -> dict[str, object]:
    try:
        return decode_fields(parse(body), fields, _WRAPPER)
    except BodyError as exc:
        raise errors.bad_request_body(str(exc)) from None


def _direction(stream: str) -> Direction:
    try:
        return Direction(stream.lower())
    except ValueError:
        raise errors.invalid_stream() from None


def _settings(toxic: Toxic, attributes: object) -> Toxic:
    try:
        return toxic.merged(attributes)
    except ValueError as exc:  # BodyError included: both are the client's mistake
        raise errors.bad_request_body(str(exc)) from None


class ToxicCollection:
    """The toxics of one proxy and the links they apply to."""

    def __init__(self) -> None:
        self._chains: dict[Direction, list[ToxicEntry]] = {d: [] for d in Direction}
        self._links: dict[Direction, set[Link]] = {d: set() for d in Direction}

    def listing(self) -> list[ToxicEntry]:
        """Upstream toxics in creation order, then downstream ones."""
        return [*self._chains[Direction.UPSTREAM], *self._chains[Direction.DOWNSTREAM]]

    def get(self, name: str) -> ToxicEntry:
        for entry in self.listing():
            if entry.name == name:
                return entry
        raise errors.toxic_not_found()

    def forces_reset(self) -> bool:
        return any(entry.toxic.forces_reset for entry in self.listing())

    def add_json(self, body: bytes) -> ToxicEntry:
        fields = _decode(body, _CREATE_FIELDS)
        stream = str(fields.get("stream", "downstream"))
        direction = _direction(stream)
        type_name = str(fields.get("type", ""))
        name = str(fields.get("name", "")) or f"{type_name}_{stream}"
        toxic_type = REGISTRY.get(type_name)
        if toxic_type is None:
            raise errors.invalid_toxic_type()
        if any(entry.name == name for entry in self.listing()):
            raise errors.toxic_already_exists()
        toxic = _settings(toxic_type(), fields.get("attributes"))
        toxicity = fields.get("toxicity", 1.0)
        assert isinstance(toxicity, float)
        entry = ToxicEntry(name, type_name, stream, direction, toxicity, toxic)
        self._chains[direction].append(entry)
        for link in list(self._links[direction]):
            link.append(entry)
        return entry

    def update_json(self, name: str, body: bytes) -> ToxicEntry:
        """Merge ``attributes`` over the current ones; ``toxicity`` kept unless given."""
        entry = self.get(name)
        fields = _decode(body, _UPDATE_FIELDS)
        entry.toxic = _settings(entry.toxic, fields.get("attributes"))
        toxicity = fields.get("toxicity", entry.toxicity)
        assert isinstance(toxicity, float)
        entry.toxicity = toxicity
        for link in list(self._links[entry.direction]):
            link.restart(entry)
        return entry

    def remove(self, name: str) -> None:
        entry = self.get(name)
        self._chains[entry.direction].remove(entry)
        for link in list(self._links[entry.direction]):
            link.remove(entry)

    def reset(self) -> None:
        for entry in self.listing():
            self.remove(entry.name)

    def attach(self, link: Link) -> None:
        """Start a new link with the current chain of its direction."""
        self._links[link.direction].add(link)
        for entry in self._chains[link.direction]:
            link.append(entry)

    def detach(self, link: Link) -> None:
        self._links[link.direction].discard(link)
