"""The world of one seed: stores (each a merchant) and their terminals.

Built once per seed from the ``world`` stream, so every replication, the
simulator and the live path all see the same unqualified merchants and the same
terminals on old firmware.  Shares are applied by comparing one uniform per
entity with the cumulative shares, which keeps the assignment stable when a
remediated twin only changes a share (common random numbers for the world too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scanrush.rng import world_generator
from scanrush.scenario.schema import Firmware, MerchantProfile, Scenario


@dataclass(frozen=True, slots=True)
class Merchant:
    id: int
    zone: int
    qualified: bool
    huabei_enabled: bool
    dormant: bool
    personal: bool
    single_limit: float
    day_limit: float
    rate_limit: float | None


@dataclass(frozen=True, slots=True)
class Terminal:
    id: int
    zone: int
    merchant: int
    firmware: Firmware


@dataclass(frozen=True, slots=True)
class World:
    merchants: tuple[Merchant, ...]
    terminals: tuple[Terminal, ...]
    store_terminals: tuple[tuple[int, ...], ...]
    """Terminal ids of each store (= merchant id)."""
    store_weights: tuple[float, ...]
    """Relative share of shoppers who head for each store."""

    def firmware_census(self) -> dict[str, int]:
        census: dict[str, int] = {}
        for terminal in self.terminals:
            census[terminal.firmware.version] = census.get(terminal.firmware.version, 0) + 1
        return census

    def merchant_census(self) -> dict[str, int]:
        return {
            "merchants": len(self.merchants),
            "unqualified": sum(not m.qualified for m in self.merchants),
            "huabei_disabled": sum(not m.huabei_enabled for m in self.merchants),
            "dormant": sum(m.dormant for m in self.merchants),
            "personal": sum(m.personal for m in self.merchants),
        }


def _merchant(merchant_id: int, zone: int, profile: MerchantProfile, draws: list[float]) -> Merchant:
    return Merchant(
        id=merchant_id,
        zone=zone,
        qualified=draws[0] < profile.qualified,
        huabei_enabled=draws[1] < profile.huabei_enabled,
        dormant=draws[2] < profile.dormant,
        personal=draws[3] < profile.personal_account,
        single_limit=profile.personal_single_limit,
        day_limit=profile.personal_day_limit,
        rate_limit=profile.rate_limit,
    )


def _pick_firmware(fleet: tuple[Firmware, ...], u: float) -> Firmware:
    cumulative = 0.0
    for firmware in fleet:
        cumulative += firmware.share
        if u < cumulative:
            return firmware
    return fleet[-1]


def build_world(scenario: Scenario) -> World:
    """Stores, merchants and terminals for the scenario's seed (each zone from its own stream)."""
    merchants: list[Merchant] = []
    terminals: list[Terminal] = []
    store_terminals: list[tuple[int, ...]] = []
    weights: list[float] = []
    for zone_index, zone in enumerate(scenario.mall.zones):
        rng = world_generator(scenario.seed, zone.name)
        merchant_draws = rng.random((zone.stores, 4)).tolist()
        firmware_draws = rng.random((zone.stores, zone.terminals_per_store)).tolist()
        profile = scenario.merchant_profile(zone.merchants)
        for store in range(zone.stores):
            merchant_id = len(merchants)
            merchants.append(_merchant(merchant_id, zone_index, profile, merchant_draws[store]))
            ids = []
            for u in firmware_draws[store]:
                terminal_id = len(terminals)
                terminals.append(Terminal(terminal_id, zone_index, merchant_id,
                                          _pick_firmware(scenario.terminals.firmware, u)))
                ids.append(terminal_id)
            store_terminals.append(tuple(ids))
            weights.append(zone.attraction * zone.terminals_per_store)
    return World(tuple(merchants), tuple(terminals), tuple(store_terminals), tuple(weights))


def store_cumulative_weights(world: World) -> np.ndarray:
    """Normalised cumulative store weights, for choosing a store by one uniform."""
    weights = np.asarray(world.store_weights, dtype=float)
    cumulative = np.cumsum(weights / weights.sum())
    cumulative[-1] = 1.0
    return cumulative
