"""Shoppers, drawn in batches from per-attribute random streams.

Every attribute has its own stream and consumes exactly one uniform per shopper,
whatever distribution the scenario gives it (values come by inverse CDF).  So a
remediated twin that changes, say, the credit limits still sees the same baskets,
patience and payment codes: common random numbers hold attribute by attribute.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from scanrush.domain.codes import make_code
from scanrush.scenario.schema import AmountDistribution, CodeMix, DurationDistribution, Scenario

ATTRIBUTES = (
    "store", "wants_huabei", "basket", "checkout_time", "other_time", "scan_time", "patience",
    "code", "code_prefix", "code_length", "not_opened", "frozen", "limit", "used", "confirm_time",
    "confirm_fail", "fallback", "risk", "misread", "bad_request", "after_failure",
)
BATCH = 512


class Shopper:
    """One shopper's attributes; ``__slots__`` because a replication makes ~200,000."""

    __slots__ = (
        "available_credit",
        "basket",
        "checkout_time",
        "code_length",
        "code_prefix",
        "confirm_time",
        "frozen",
        "has_fallback",
        "huabei_opened",
        "other_time",
        "patience",
        "scan_time",
        "serial",
        "store",
        "u_after_failure",
        "u_bad_request",
        "u_misread",
        "u_risk",
        "wants_huabei",
    )

    serial: int
    store: int
    wants_huabei: bool
    basket: float
    checkout_time: float
    other_time: float
    scan_time: float
    patience: float
    code_prefix: int
    code_length: int
    huabei_opened: bool
    frozen: bool
    available_credit: float
    confirm_time: float | None
    has_fallback: bool
    u_risk: float
    u_misread: float
    u_bad_request: float
    u_after_failure: float

    def __init__(  # noqa: PLR0917 - built positionally from a batch's columns, in a hot loop
        self, store: int, wants_huabei: bool, basket: float, checkout_time: float, other_time: float,
        scan_time: float, patience: float, code_prefix: int, code_length: int, huabei_opened: bool,
        frozen: bool, available_credit: float, confirm_time: float, has_fallback: bool, u_risk: float,
        u_misread: float, u_bad_request: float, u_after_failure: float, serial: int,
    ) -> None:
        self.store = store
        self.wants_huabei = wants_huabei
        self.basket = basket
        self.checkout_time = checkout_time
        self.other_time = other_time
        self.scan_time = scan_time
        self.patience = patience
        self.code_prefix = code_prefix
        self.code_length = code_length
        self.huabei_opened = huabei_opened
        self.frozen = frozen
        self.available_credit = available_credit
        self.confirm_time = None if math.isnan(confirm_time) else confirm_time  # NaN: never confirms
        self.has_fallback = has_fallback
        self.u_risk = u_risk
        self.u_misread = u_misread
        self.u_bad_request = u_bad_request
        self.u_after_failure = u_after_failure
        self.serial = serial

    def code(self, attempt: int = 0) -> str:
        """The payment code shown on attempt ``attempt`` (codes refresh, so each attempt differs)."""
        return make_code(self.code_prefix, self.code_length, self.serial * 16 + attempt)


@dataclass(frozen=True, slots=True)
class _Columns:
    values: dict[str, list[float]]


def inverse_duration(dist: DurationDistribution, u: np.ndarray) -> np.ndarray:
    return _inverse(dist.fixed, dist.exponential.mean if dist.exponential else None,
                    (dist.lognormal.median, dist.lognormal.sigma) if dist.lognormal else None, dist.uniform, u)


def duration_sampler(dist: DurationDistribution, generator: np.random.Generator,
                     block: int = 8192) -> Callable[[], float]:
    """A zero-argument sampler of ``dist`` drawing numpy blocks (one uniform per value)."""
    if dist.fixed is not None:
        fixed = float(dist.fixed)
        return lambda: fixed
    buffer: list[float] = []

    def sample() -> float:
        if not buffer:
            buffer.extend(inverse_duration(dist, generator.random(block))[::-1].tolist())
        return buffer.pop()

    return sample


def inverse_amount(dist: AmountDistribution, u: np.ndarray) -> np.ndarray:
    return _inverse(dist.fixed, dist.exponential.mean if dist.exponential else None,
                    (dist.lognormal.median, dist.lognormal.sigma) if dist.lognormal else None, dist.uniform, u)


def _inverse(
    fixed: float | None,
    exponential_mean: float | None,
    lognormal: tuple[float, float] | None,
    uniform: tuple[float, float] | None,
    u: np.ndarray,
) -> np.ndarray:
    if fixed is not None:
        return np.full_like(u, fixed)
    if exponential_mean is not None:
        return np.asarray(-exponential_mean * np.log1p(-u), dtype=float)
    if lognormal is not None:
        median, sigma = lognormal
        return np.asarray(median * np.exp(sigma * ndtri(np.clip(u, 1e-12, 1 - 1e-12))), dtype=float)
    assert uniform is not None  # guaranteed by the schema's exactly-one rule
    low, high = uniform
    return low + u * (high - low)


def _code_shapes(mix: tuple[CodeMix, ...], u_mix: np.ndarray, u_prefix: np.ndarray,
                 u_length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.cumsum([m.share for m in mix])
    which = np.minimum(np.searchsorted(bounds, u_mix, side="right"), len(mix) - 1)
    prefixes = np.empty(len(u_mix), dtype=np.int64)
    lengths = np.empty(len(u_mix), dtype=np.int64)
    for index, item in enumerate(mix):
        chosen = which == index
        low, high = item.format.prefixes
        prefixes[chosen] = low + np.floor(u_prefix[chosen] * (high - low + 1)).astype(np.int64)
        shortest, longest = item.format.lengths
        lengths[chosen] = shortest + np.floor(u_length[chosen] * (longest - shortest + 1)).astype(np.int64)
    return prefixes, lengths


class ShopperFactory:
    """Yields shoppers 0, 1, 2, ... for one replication, in batches of :data:`BATCH`."""

    def __init__(self, scenario: Scenario, sequence: np.random.SeedSequence, store_cumulative: np.ndarray) -> None:
        children = sequence.spawn(len(ATTRIBUTES))
        self._streams = {name: np.random.default_rng(child) for name, child in zip(ATTRIBUTES, children, strict=True)}
        self._scenario = scenario
        self._store_cumulative = store_cumulative
        self._serial = 0

    def __iter__(self) -> Iterator[Shopper]:
        while True:
            yield from self._batch()

    def _uniforms(self) -> dict[str, np.ndarray]:
        return {name: stream.random(BATCH) for name, stream in self._streams.items()}

    def _batch(self) -> list[Shopper]:
        shoppers = self._scenario.shoppers
        credit = shoppers.credit
        u = self._uniforms()
        store = np.minimum(np.searchsorted(self._store_cumulative, u["store"], side="right"),
                           len(self._store_cumulative) - 1)
        patience = (inverse_duration(shoppers.patience, u["patience"]) if shoppers.patience
                    else np.full(BATCH, math.inf))
        prefixes, lengths = _code_shapes(shoppers.codes, u["code"], u["code_prefix"], u["code_length"])
        limit = inverse_amount(credit.limit, u["limit"])
        used_share = np.minimum(u["used"] * 2.0 * credit.used, 1.0)
        confirm = inverse_duration(credit.confirm_time, u["confirm_time"])
        columns = {
            "store": store.tolist(),
            "wants_huabei": (u["wants_huabei"] < shoppers.huabei_share).tolist(),
            "basket": np.round(inverse_amount(shoppers.basket, u["basket"]), 2).tolist(),
            "checkout_time": inverse_duration(shoppers.checkout_time, u["checkout_time"]).tolist(),
            "other_time": inverse_duration(shoppers.other_method_time, u["other_time"]).tolist(),
            "scan_time": inverse_duration(shoppers.scan_time, u["scan_time"]).tolist(),
            "patience": patience.tolist(),
            "code_prefix": prefixes.tolist(),
            "code_length": lengths.tolist(),
            "huabei_opened": (u["not_opened"] >= credit.not_opened).tolist(),
            "frozen": (u["frozen"] < credit.frozen).tolist(),
            "available_credit": (limit * (1.0 - used_share)).tolist(),
            "confirm_time": np.where(u["confirm_fail"] < credit.confirm_fail, np.nan, confirm).tolist(),
            "has_fallback": (u["fallback"] < credit.balance_fallback).tolist(),
            "u_risk": u["risk"].tolist(),
            "u_misread": u["misread"].tolist(),
            "u_bad_request": u["bad_request"].tolist(),
            "u_after_failure": u["after_failure"].tolist(),
        }
        first = self._serial
        self._serial += BATCH
        serials = range(first, first + BATCH)
        # map() calls Shopper with one item of each column: no row tuple per shopper, no list
        # comprehension frame.  Every column has BATCH items (as zip(strict=True) would check).
        return list(map(Shopper, *columns.values(), serials))
