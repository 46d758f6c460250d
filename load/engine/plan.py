"""What a live window brings: which tills take part and which shoppers arrive when.

Pure and deterministic from (scenario, seed): the shoppers are the live
replication's (``LIVE_REPLICATION``), drawn in the same order as the gateway stub
regenerates them, and arrive by the scenario's rush profile over the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from scanrush.domain.profile import RushProfile, arrival_times
from scanrush.domain.shoppers import Shopper, ShopperFactory
from scanrush.domain.world import World, store_cumulative_weights
from scanrush.rng import LIVE_REPLICATION, ReplicationSeeds
from scanrush.scenario.schema import Scenario
from scanrush.window import choose_stores

SPAWN_RATE = 100
"""Locust users started per second (Locust warns above 100); the orchestrator leaves time for the ramp."""
@dataclass(frozen=True, slots=True)
class Arrival:
    at: float
    """Scenario time (seconds since the promotion opened)."""
    shopper: Shopper


class LivePlan:
    """The live run's tills and arrivals."""

    def __init__(self, scenario: Scenario, world: World, window: tuple[float, float],
                 terminals: int | None = None, partition: tuple[int, int] = (0, 1)) -> None:
        """``partition=(i, n)``: this load-generator process takes every n-th store from the i-th."""
        self.scenario = scenario
        self.world = world
        self.window = window
        part, parts = partition
        self.stores = choose_stores(world, terminals)[part::parts]
        self.terminal_ids = [t for store in self.stores for t in world.store_terminals[store]]
        self._taking = set(self.stores)
        self.seeds = ReplicationSeeds.of(scenario.seed, LIVE_REPLICATION)

    def arrivals(self) -> Iterator[Arrival]:
        """Replication 0's shoppers arriving in the window, in order, at the plan's stores.

        Arrivals are drawn from the opening, exactly as the simulator draws them, and
        those before the window are skipped: the window's shoppers are the simulated
        replication's, one for one.  Shoppers heading for stores outside the plan are
        dropped (thinning keeps the rest Poisson).
        """
        profile = RushProfile(self.scenario.shoppers.arrivals)
        rng = np.random.default_rng(self.seeds.arrivals)
        shoppers = iter(ShopperFactory(self.scenario, self.seeds.shoppers, store_cumulative_weights(self.world)))
        start, end = self.window
        for t in arrival_times(profile, rng, 0.0, end):
            shopper = next(shoppers)
            if t >= start and shopper.store in self._taking:
                yield Arrival(t, shopper)

    def expected_arrivals(self) -> float:
        """Mean number of arrivals at the chosen stores over the window."""
        weights = self.world.store_weights
        share = sum(weights[s] for s in self.stores) / sum(weights)
        return RushProfile(self.scenario.shoppers.arrivals).expected_arrivals(*self.window) * share
