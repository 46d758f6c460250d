"""The scenario file, as typed, validated, immutable objects.

Units are explicit in the file (``120ms``, ``3%``, ``600/h``, ``2Mbps``) and
held here in base units: seconds, fractions, events per second, bits per second,
bytes and yuan.  Unknown keys are rejected (the loader suggests the closest
known key).  Cross-references (a zone's network, a zone's merchant profile) are
checked after the fields, so one run reports every problem at once.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from scanrush.gates import Gate as ParsedGate
from scanrush.gates import check_zone, parse_gate
from scanrush.units import Bandwidth, Duration, Fraction, Rate, Size

SCHEMA_VERSION = 1


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _scalar_as_fixed(value: object) -> object:
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return {"fixed": value}
    return value


def _pair(value: object) -> object:
    if isinstance(value, dict) and set(value) == {"low", "high"}:
        return [value["low"], value["high"]]
    return value


class _Distribution(StrictModel):
    """Exactly one of the forms; the bare scalar ``45s`` means ``{fixed: 45s}``."""

    @model_validator(mode="after")
    def _exactly_one(self) -> _Distribution:
        given = [name for name in ("fixed", "exponential", "lognormal", "uniform") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of fixed, exponential, lognormal, uniform")
        bounds = getattr(self, "uniform", None)
        if bounds is not None and not 0 <= bounds[0] <= bounds[1]:
            raise ValueError("uniform: write [low, high] with 0 <= low <= high")
        return self

class LogNormalDuration(StrictModel):
    median: Duration
    sigma: float = Field(ge=0, le=5)


class ExponentialDuration(StrictModel):
    mean: Duration


class DurationDistribution(_Distribution):
    fixed: Duration | None = None
    exponential: ExponentialDuration | None = None
    lognormal: LogNormalDuration | None = None
    uniform: Annotated[tuple[Duration, Duration], BeforeValidator(_pair)] | None = None

    def mean(self) -> float:
        return _mean(self.fixed, self.exponential.mean if self.exponential else None,
                     (self.lognormal.median, self.lognormal.sigma) if self.lognormal else None, self.uniform)


class LogNormalAmount(StrictModel):
    median: float = Field(gt=0)
    sigma: float = Field(ge=0, le=5)


class ExponentialAmount(StrictModel):
    mean: float = Field(gt=0)


class AmountDistribution(_Distribution):
    fixed: float | None = Field(default=None, ge=0)
    exponential: ExponentialAmount | None = None
    lognormal: LogNormalAmount | None = None
    uniform: Annotated[tuple[float, float], BeforeValidator(_pair)] | None = None

    def mean(self) -> float:
        return _mean(self.fixed, self.exponential.mean if self.exponential else None,
                     (self.lognormal.median, self.lognormal.sigma) if self.lognormal else None, self.uniform)


def _mean(fixed: float | None, exponential_mean: float | None, lognormal: tuple[float, float] | None,
          uniform: tuple[float, float] | None) -> float:
    if fixed is not None:
        return fixed
    if exponential_mean is not None:
        return exponential_mean
    if lognormal is not None:
        median, sigma = lognormal
        return median * math.exp(sigma**2 / 2)
    low, high = uniform or (math.nan, math.nan)
    return (low + high) / 2.0


DurationDist = Annotated[DurationDistribution, BeforeValidator(_scalar_as_fixed)]
AmountDist = Annotated[AmountDistribution, BeforeValidator(_scalar_as_fixed)]


class Window(StrictModel):
    """A period of the promotion: starts ``at`` after opening, lasts ``for``."""

    at: Duration
    for_: Duration = Field(alias="for", gt=0)

    @property
    def end(self) -> float:
        return self.at + self.for_

    def contains(self, t: float) -> bool:
        return self.at <= t < self.at + self.for_


# --------------------------------------------------------------------------- network


class Congestion(StrictModel):
    """The zone's link degrades as more of its terminals are mid-request."""

    knee: int = Field(default=50, ge=1, description="active requests before the link degrades")
    rtt_per_request: Duration = Field(default=0.0, description="extra RTT per active request beyond the knee")
    loss_per_request: Fraction = Field(default=0.0, description="extra loss per active request beyond the knee")
    max_loss: Fraction = Field(default=0.5, description="congestion never pushes loss above this")


class Network(StrictModel):
    """One zone's link between its terminals and the gateway."""

    rtt: Duration
    jitter: Duration = 0.0
    loss: Fraction = 0.0
    bandwidth: Bandwidth | None = None
    outages: tuple[Window, ...] = ()
    congestion: Congestion | None = None


# --------------------------------------------------------------------------- mall


class Zone(StrictModel):
    name: str = Field(min_length=1)
    stores: int = Field(ge=1)
    terminals_per_store: int = Field(ge=1)
    network: str
    merchants: str = "default"
    queue: Literal["per_terminal", "shared"] = Field(
        default="per_terminal",
        description="per_terminal: a line at each till, shoppers join the shortest; shared: one snake line per store")
    attraction: float = Field(default=1.0, gt=0, description="relative share of shoppers per terminal")


class Mall(StrictModel):
    name: str = "mall"
    zones: tuple[Zone, ...] = Field(min_length=1)


class MerchantProfile(StrictModel):
    """How the merchants of a zone stand with the acquirer."""

    qualified: Fraction = 1.0
    huabei_enabled: Fraction = 1.0
    dormant: Fraction = 0.0
    personal_account: Fraction = 0.0
    personal_single_limit: float = Field(default=500.0, gt=0)
    personal_day_limit: float = Field(default=5000.0, gt=0)
    rate_limit: Rate | None = Field(default=None, description="pay requests per second per merchant")


# --------------------------------------------------------------------------- terminals

_PREFIXES = re.compile(r"^\s*(\d\d)\s*(?:-\s*(\d\d))?\s*$")


def _int_range(value: object) -> object:
    """``"25-30"`` or ``28`` -> ``(25, 30)`` / ``(28, 28)``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, str):
        match = re.match(r"^\s*(\d+)\s*(?:-|\.\.)\s*(\d+)\s*$", value) or re.match(r"^\s*(\d+)\s*$", value)
        if match:
            low = int(match.group(1))
            high = int(match.group(match.lastindex or 1))
            return (low, high)
    return value


IntRange = Annotated[tuple[int, int], BeforeValidator(_int_range)]


class CodeFormat(StrictModel):
    """A family of payment codes: digit prefixes and lengths (inclusive ranges)."""

    prefixes: IntRange = (25, 30)
    lengths: IntRange = (16, 24)

    @model_validator(mode="after")
    def _ordered(self) -> CodeFormat:
        for name, (low, high) in (("prefixes", self.prefixes), ("lengths", self.lengths)):
            if low > high:
                raise ValueError(f"{name}: the range {low}-{high} is empty; write the smaller bound first")
        return self


class Firmware(StrictModel):
    version: str = Field(description='quote it: YAML reads 2.10 as the number 2.1')
    share: Fraction
    accepts: tuple[CodeFormat, ...] = (CodeFormat(),)
    bad_request: Fraction = Field(default=0.0, description="share of pay requests built wrong (bad store_id, ...)")
    misread: Fraction = Field(default=0.0, description="share of scans that garble the code")
    query_on_timeout: bool = Field(default=True, description="False: treats a timeout as failure (no query, no cancel)")


class Terminals(StrictModel):
    firmware: tuple[Firmware, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Terminals:
        total = sum(f.share for f in self.firmware)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"firmware: shares add up to {total:.1%}, not 100%")
        return self


# --------------------------------------------------------------------------- shoppers


class ArrivalPoint(StrictModel):
    at: Duration
    rate: Rate


class CodeMix(StrictModel):
    format: CodeFormat
    share: Fraction


class Credit(StrictModel):
    """Huabei standing of the shoppers who want to pay with it."""

    not_opened: Fraction = 0.0
    frozen: Fraction = 0.0
    limit: AmountDist = AmountDistribution(fixed=5000.0)
    used: Fraction = Field(default=0.0, description="share of the limit already used: each shopper's is uniform "
                           "in [0, 2 x this] capped at 100% (so it is the mean up to 50%)")
    password_free_limit: float = Field(default=1000.0, ge=0, description="above this amount the buyer must confirm")
    confirm_time: DurationDist = DurationDistribution(fixed=10.0)
    confirm_fail: Fraction = Field(default=0.0, description="buyers who never confirm on the phone")
    balance_fallback: Fraction = Field(default=0.6, description="buyers with balance/bank card behind Huabei")


class OnFailure(StrictModel):
    retry_new_code: Fraction = 0.5
    other_method: Fraction = 0.4
    leave: Fraction = 0.1
    max_retries: int = Field(default=2, ge=0, le=10)

    @model_validator(mode="after")
    def _sum(self) -> OnFailure:
        total = self.retry_new_code + self.other_method + self.leave
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"retry_new_code + other_method + leave add up to {total:.1%}, not 100%")
        return self


class Shoppers(StrictModel):
    arrivals: tuple[ArrivalPoint, ...] = Field(min_length=1)
    huabei_share: Fraction = 0.45
    basket: AmountDist = AmountDistribution(fixed=100.0)
    checkout_time: DurationDist = DurationDistribution(fixed=60.0)
    other_method_time: DurationDist = DurationDistribution(fixed=20.0)
    scan_time: DurationDist = Field(default=DurationDistribution(fixed=2.0),
                                    description="showing and scanning the code")
    patience: DurationDist | None = None
    codes: tuple[CodeMix, ...] = (CodeMix(format=CodeFormat(), share=1.0),)
    credit: Credit = Credit()
    on_failure: OnFailure = OnFailure()

    @model_validator(mode="after")
    def _arrivals_in_order(self) -> Shoppers:
        times = [p.at for p in self.arrivals]
        if times != sorted(times):
            raise ValueError("arrivals: points must be in time order")
        total = sum(c.share for c in self.codes)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"codes: shares add up to {total:.1%}, not 100%")
        return self


# --------------------------------------------------------------------------- gateway


class Brownout(Window):
    service_factor: float = Field(default=2.0, ge=1.0)
    error_rate: Fraction = 0.0


class RiskSurge(Window):
    reject: Fraction


class Risk(StrictModel):
    reject: Fraction = 0.0
    surges: tuple[RiskSurge, ...] = ()
    promotion_registered: bool = Field(default=False, description="pre-registered promotions are spared the surges")


class Gateway(StrictModel):
    workers: int = Field(ge=1)
    service_time: DurationDist
    queue_timeout: Duration = Field(default=2.0, gt=0, description="a request queued longer gets 20000 SYSTEM_ERROR")
    brownouts: tuple[Brownout, ...] = ()
    risk: Risk = Risk()


# --------------------------------------------------------------------------- POS protocol


class QueryPolicy(StrictModel):
    every: Duration = Field(default=5.0, gt=0)
    times: int = Field(default=5, ge=0, le=100)


class CancelPolicy(StrictModel):
    every: Duration = Field(default=2.0, gt=0)
    retries: int = Field(default=3, ge=0, le=20)


class Pos(StrictModel):
    connect_timeout: Duration = Field(default=3.0, gt=0)
    read_timeout: Duration = Field(default=15.0, gt=0)
    query: QueryPolicy = QueryPolicy()
    cancel: CancelPolicy = CancelPolicy()
    keepalive: bool = False
    request_size: Size = 1200.0
    response_size: Size = 1500.0


# --------------------------------------------------------------------------- gates, live

def _gate(value: object) -> object:
    # Parsed here for the metric, operator and unit; zone names are checked against the mall
    # in ``cross_reference_problems`` (a field validator cannot see the zones).
    if not isinstance(value, str):
        raise ValueError("expected a gate such as 'huabei_success_rate >= 97%' (metric, operator, value), "
                         "written as text")
    parse_gate(value)
    return value


Gate = Annotated[str, BeforeValidator(_gate), Field(
    description="'metric op value': huabei_success_rate >= 97%, checkout_time_p95 <= 45s, double_charges == 0, "
                "huabei_success_rate[zone=fashion] >= 90%")]
"""A gate as written; ``Scenario.parsed_gates()`` gives them as ``scanrush.gates.Gate``."""


class Live(StrictModel):
    window: tuple[Duration, Duration] | None = Field(
        default=None, description="[start, end] of the promotion to run live; default: 3 minutes at the peak")
    terminals: Annotated[int, Field(ge=1)] | Literal["all"] = "all"
    time_compression: float = Field(default=1.0, ge=1.0)


# --------------------------------------------------------------------------- scenario


class Scenario(StrictModel):
    schema_version: Literal[1] = 1
    name: str = Field(min_length=1)
    description: str = ""
    seed: int = Field(ge=0)
    duration: Duration = Field(gt=0)
    replications: int = Field(default=20, ge=1, le=10_000)
    mall: Mall
    merchants: dict[str, MerchantProfile] = {"default": MerchantProfile()}
    networks: dict[str, Network]
    terminals: Terminals
    shoppers: Shoppers
    gateway: Gateway
    pos: Pos = Pos()
    gates: tuple[Gate, ...] = ()
    live: Live = Live()

    def parsed_gates(self) -> tuple[ParsedGate, ...]:
        """The gates as ``scanrush.gates.Gate`` (metric, operator, threshold in base units)."""
        return tuple(parse_gate(text) for text in self.gates)

    def merchant_profile(self, name: str) -> MerchantProfile:
        """A named merchant profile; ``default`` is fully qualified unless the file defines it."""
        return self.merchants.get(name) or MerchantProfile()

    def _windows_outside_the_promotion(self) -> list[tuple[tuple[str | int, ...], object, str, str]]:
        windows: list[tuple[tuple[str | int, ...], Window]] = []
        for name, network in self.networks.items():
            windows += [(("networks", name, "outages", i), w) for i, w in enumerate(network.outages)]
        windows += [(("gateway", "brownouts", i), w) for i, w in enumerate(self.gateway.brownouts)]
        windows += [(("gateway", "risk", "surges", i), w) for i, w in enumerate(self.gateway.risk.surges)]
        return [((*path, "at"), window.at, "starts after the promotion ends", f"duration is {self.duration:g}s")
                for path, window in windows if window.at >= self.duration]

    def _gate_problems(self) -> list[tuple[tuple[str | int, ...], object, str, str]]:
        problems: list[tuple[tuple[str | int, ...], object, str, str]] = []
        zones = [z.name for z in self.mall.zones]
        seen: dict[str, int] = {}
        for index, gate in enumerate(self.parsed_gates()):
            try:
                check_zone(gate, zones)
            except ValueError as exc:
                problems.append((("gates", index), gate.text, str(exc), ""))
            if gate.name in seen:
                problems.append((("gates", index), gate.text, f"the same gate as gates[{seen[gate.name]}]",
                                 "each gate once: reports and JUnit name a gate by its text"))
            seen.setdefault(gate.name, index)
        return problems

    @property
    def terminal_count(self) -> int:
        return sum(z.stores * z.terminals_per_store for z in self.mall.zones)

    def cross_reference_problems(self) -> list[tuple[tuple[str | int, ...], object, str, str]]:
        """(path, value, message, hint) for each reference that points nowhere."""
        problems: list[tuple[tuple[str | int, ...], object, str, str]] = []
        for index, zone in enumerate(self.mall.zones):
            if zone.network not in self.networks:
                known = ", ".join(sorted(self.networks)) or "none"
                problems.append((("mall", "zones", index, "network"), zone.network,
                                 "no such network", f"known networks: {known}"))
            if zone.merchants not in self.merchants and zone.merchants != "default":
                known = ", ".join(sorted(self.merchants)) or "none"
                problems.append((("mall", "zones", index, "merchants"), zone.merchants,
                                 "no such merchant profile", f"known profiles: {known}"))
        names = [z.name for z in self.mall.zones]
        for index, name in enumerate(names):
            if names.index(name) != index:
                problems.append((("mall", "zones", index, "name"), name, "zone names must be unique", ""))
        if self.shoppers.arrivals[0].at > 0:
            problems.append((("shoppers", "arrivals", 0, "at"), self.shoppers.arrivals[0].at,
                             "the first arrival point must be at 0", "add {at: 0, rate: ...}"))
        problems.extend(self._windows_outside_the_promotion())
        problems.extend(self._gate_problems())
        if self.live.window is not None and not self.live.window[0] < self.live.window[1] <= self.duration:
            problems.append((("live", "window"), list(self.live.window),
                             "the live window must be [start, end] inside the promotion", ""))
        return problems
