"""The simulator's world and shoppers, for the live path: one seed, one world, both paths.

The live gateway stub recognises a shopper by the payment code a terminal scanned,
and the (future) Locust terminals pick shoppers and show their codes: both go
through :class:`LiveWorld`, which derives every stream exactly as ``sim/model.py``
derives replication :data:`LIVE_REPLICATION`'s, so the shoppers met live are the
simulated replication's shoppers, attribute for attribute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from scanrush.domain.profile import RushProfile
from scanrush.domain.shoppers import BATCH, Shopper, ShopperFactory, duration_sampler
from scanrush.domain.world import World, build_world, store_cumulative_weights
from scanrush.rng import replication_sequence, uniform_source
from scanrush.scenario.schema import Scenario

LIVE_REPLICATION = 0
"""The replication the live run re-enacts on real sockets.

Replication 0 exists in every simulation, so a live result can be set beside the
simulated replication with the very same shoppers (common random numbers), and a
shopper seen live can be looked up in that replication's trace by serial.
"""
ATTEMPTS_PER_SHOPPER = 16
"""Codes encode ``serial * 16 + attempt`` (``Shopper.code``): 16 refreshes per shopper."""
_SERIAL_HEADROOM = 1.5
"""Serials up to 1.5x the expected shopper count (plus a batch) are recognised."""


@dataclass(frozen=True, slots=True)
class CodeOwner:
    """Whose payment code a scanned code is."""

    shopper: Shopper
    attempt: int


@dataclass(frozen=True, slots=True)
class GatewayStreams:
    """The gateway's random streams of one run, derived like the simulator's."""

    uniform: Callable[[], float]
    """Brownout errors (``GatewayCore``'s draws)."""
    service_time: Callable[[], float]
    """Seconds of work per request, before the brownout factor."""
    retry_risk: Callable[[], float]
    """``u_risk`` of attempts after the first (the simulator draws those from its retry stream)."""


class LiveWorld:
    """The world of the scenario's seed plus the shoppers of :data:`LIVE_REPLICATION`, generated lazily."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.world: World = build_world(scenario)
        self._shoppers: list[Shopper] = []
        self._factory: Iterator[Shopper] = iter(ShopperFactory(
            scenario, _shoppers_sequence(scenario.seed), store_cumulative_weights(self.world)))
        expected = RushProfile(scenario.shoppers.arrivals).expected_arrivals(0.0, scenario.duration)
        self.max_shoppers = int(expected * _SERIAL_HEADROOM) + BATCH
        """Serials beyond this are not recognised (a code decoding to one is an unknown buyer)."""

    def shopper(self, serial: int) -> Shopper | None:
        """Shopper ``serial`` of the live replication, or None if out of range."""
        if not 0 <= serial < self.max_shoppers:
            return None
        self.warm(serial + 1)
        return self._shoppers[serial]

    def warm(self, count: int) -> None:
        """Generate (and keep) the first ``count`` shoppers now, a batch at a time."""
        target = min(count, self.max_shoppers)
        shoppers = self._shoppers
        factory = self._factory
        while len(shoppers) < target:
            shoppers.extend(next(factory) for _ in range(BATCH))

    def owner_of(self, code: str) -> CodeOwner | None:
        """The shopper whose ``attempt``-th code this is, or None for a code no shopper was shown.

        The digits after the two-digit prefix are ``serial * 16 + attempt``; the
        code belongs to that shopper only if it is exactly the code they show
        (same prefix and length), so a garbled or made-up code is nobody's.
        """
        if len(code) < 3 or not code.isdigit():
            return None
        number = int(code[2:])
        serial, attempt = divmod(number, ATTEMPTS_PER_SHOPPER)
        shopper = self.shopper(serial)
        if shopper is None or shopper.code(attempt) != code:
            return None
        return CodeOwner(shopper, attempt)

    def streams(self) -> GatewayStreams:
        """Fresh gateway streams (a reset starts them over)."""
        return gateway_streams(self.scenario)

    def merchant_of_store(self, text: str) -> int | None:
        return merchant_of_store(text, len(self.world.merchants))


def _shoppers_sequence(seed: int) -> np.random.SeedSequence:
    """As ``sim/model.py``: the first of five children of the replication's sequence."""
    shoppers_seq, _arrivals, _network, _gateway, _retry = replication_sequence(seed, LIVE_REPLICATION).spawn(5)
    return shoppers_seq


def gateway_streams(scenario: Scenario) -> GatewayStreams:
    """The gateway's streams, mirroring ``sim/model.py``'s derivation for :data:`LIVE_REPLICATION`.

    A SeedSequence hands out new children on every ``spawn``, so the live-only
    stream (the sixth child) is spawned from the same object after the five the
    simulator uses: it can never coincide with one of them.
    """
    sequence = replication_sequence(scenario.seed, LIVE_REPLICATION)
    _shoppers, _arrivals, _network, gateway_seq, _retry = sequence.spawn(5)
    (live_seq,) = sequence.spawn(1)
    gateway_rng = np.random.default_rng(gateway_seq)
    service_time = duration_sampler(scenario.gateway.service_time, gateway_rng.spawn(1)[0])
    return GatewayStreams(uniform=uniform_source(gateway_rng), service_time=service_time,
                          retry_risk=uniform_source(np.random.default_rng(live_seq)))


def store_id(merchant: int) -> str:
    """The ``store_id`` a terminal of store ``merchant`` sends: the store (= merchant) id in decimal."""
    return str(merchant)


def merchant_of_store(text: str, stores: int) -> int | None:
    """The merchant a ``store_id`` names, or None if it names no store of this world."""
    if not text.isdigit() or len(text) > 9 or store_id(int(text)) != text:
        return None
    merchant = int(text)
    return merchant if merchant < stores else None
