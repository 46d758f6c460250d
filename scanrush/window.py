"""Which part of the promotion a live run covers, and which tills take part.

Shared by the live engine (load/engine/plan.py) and the simulator, which records its
prediction for exactly these shoppers (``ReplicationStats.window``), so sim and live
count the same people.
"""

from __future__ import annotations

from scanrush.domain.world import World
from scanrush.scenario.schema import Scenario

DEFAULT_WINDOW = 180.0
"""Seconds of the promotion a live run covers unless the scenario says otherwise: 3 minutes at the peak."""


def default_window(scenario: Scenario) -> tuple[float, float]:
    """The scenario's ``live.window``, or three minutes starting at the rush's peak."""
    if scenario.live.window is not None:
        return scenario.live.window
    points = scenario.shoppers.arrivals
    peak_at = max(points, key=lambda p: p.rate).at
    start = min(peak_at, max(0.0, scenario.duration - DEFAULT_WINDOW))
    return start, min(scenario.duration, start + DEFAULT_WINDOW)


def choose_stores(world: World, terminals: int | None) -> list[int]:
    """Whole stores (a store's tills share one line), round-robin across zones, up to ``terminals`` tills."""
    if terminals is None or terminals >= len(world.terminals):
        return list(range(len(world.merchants)))
    by_zone: dict[int, list[int]] = {}
    for merchant in world.merchants:
        by_zone.setdefault(merchant.zone, []).append(merchant.id)
    chosen: list[int] = []
    count = 0
    queues = [list(reversed(ids)) for ids in by_zone.values()]
    while count < terminals and any(queues):
        for ids in queues:
            if ids and count < terminals:
                store = ids.pop()
                chosen.append(store)
                count += len(world.store_terminals[store])
    return sorted(chosen)
