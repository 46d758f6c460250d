"""The simulator's world and shoppers, for the live path: one seed, one world, both paths.

The live gateway stub recognises a shopper by the payment code a terminal scanned.
It goes through :class:`LiveWorld`, which derives every stream from the same
:class:`~scanrush.rng.ReplicationSeeds` as ``sim/model.py`` does for replication
:data:`~scanrush.rng.LIVE_REPLICATION`, so the shoppers met live are that simulated
replication's shoppers, attribute for attribute (the Locust terminals' plan,
``load/engine/plan.py``, draws the very same shoppers from the same seeds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from scanrush.domain.codes import decode
from scanrush.domain.profile import RushProfile
from scanrush.domain.shoppers import BATCH, Shopper, ShopperFactory, duration_sampler
from scanrush.domain.world import World, build_world, store_cumulative_weights
from scanrush.rng import LIVE_REPLICATION, ReplicationSeeds, uniform_source
from scanrush.scenario.schema import Scenario

__all__ = ["LIVE_REPLICATION", "CodeOwner", "GatewayStreams", "LiveWorld", "gateway_streams", "merchant_of_store",
           "store_id"]

ATTEMPTS_PER_SHOPPER = 16
"""Codes encode ``serial * 16 + attempt`` (``Shopper.code``): 16 refreshes per shopper."""
_ATTEMPT_BITS = 4
"""``divmod(number, 16)`` is ``(number >> 4, number & 15)``, without the tuple (per pay request)."""
assert 1 << _ATTEMPT_BITS == ATTEMPTS_PER_SHOPPER
_SERIAL_HEADROOM = 1.5
"""Serials up to 1.5x the expected shopper count (plus a batch) are recognised."""


class CodeOwner(NamedTuple):
    """Whose payment code a scanned code is (a NamedTuple: one is made per pay request)."""

    shopper: Shopper
    attempt: int


_new = tuple.__new__
"""A NamedTuple without its Python-level ``__new__``."""


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
        seeds = ReplicationSeeds.of(scenario.seed, LIVE_REPLICATION)
        self._factory: Iterator[Shopper] = iter(ShopperFactory(
            scenario, seeds.shoppers, store_cumulative_weights(self.world)))
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

        A code carries ``serial * 16 + attempt`` and a check digit
        (:func:`scanrush.domain.codes.decode`); it belongs to that shopper only if
        it is exactly the code they show (same prefix and length), so a garbled or
        made-up code is nobody's.
        """
        if decode(code) is None:
            return None
        return self.claimed_owner(code)

    def claimed_owner(self, code: str) -> CodeOwner | None:
        """:meth:`owner_of` without checking the code's check digit (the caller checks it, or does not care).

        The gateway's decision checks the digit itself and charges nobody for a
        code that fails it, so the stub's hot path need not compute it twice.
        """
        if len(code) < 4 or not code.isdigit():
            return None
        number = int(code[2:-1])
        serial = number >> _ATTEMPT_BITS
        shoppers = self._shoppers
        # a shopper already generated (the usual case) straight from the list, else by :meth:`shopper`
        shopper = shoppers[serial] if serial < len(shoppers) and serial < self.max_shoppers else self.shopper(serial)
        # The digits between prefix and check digit are the number make_code wrote, so the same
        # prefix and length mean the same code, without computing it again.
        if shopper is None or shopper.code_prefix != int(code[:2]) or shopper.code_length != len(code):
            return None
        return _new(CodeOwner, (shopper, number & (ATTEMPTS_PER_SHOPPER - 1)))

    def streams(self) -> GatewayStreams:
        """Fresh gateway streams (a reset starts them over)."""
        return gateway_streams(self.scenario)

    def merchant_of_store(self, text: str) -> int | None:
        return merchant_of_store(text, len(self.world.merchants))


def gateway_streams(scenario: Scenario) -> GatewayStreams:
    """The gateway's streams, derived as ``sim/model.py`` derives its gateway's for :data:`LIVE_REPLICATION`.

    ``retry_risk`` is live-only: the terminals draw from the ``retry`` seed
    themselves, so the stub spawns a child of it, which never coincides with it.
    """
    seeds = ReplicationSeeds.of(scenario.seed, LIVE_REPLICATION)
    (live_seq,) = seeds.retry.spawn(1)
    gateway_rng = np.random.default_rng(seeds.gateway)
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
