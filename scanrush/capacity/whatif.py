"""Remediations of each failure cause, derived from the scenario, as ``--set`` overrides.

Choices (the hand-written twin ``scenarios/mall_promo_fixed.yaml`` made the same ones where it
could; differences are noted):

- firmware: the whole fleet on the best firmware already in it that reads every code format
  the shoppers show (fewest misreads and bad requests, queries on timeout); if none does, one
  "upgrade" version that reads them all.
- merchant: every merchant profile fully qualified, Huabei enabled, none dormant, no personal
  collection accounts.
- network: outages and congestion removed from every network, and loss capped at 0.3% (a
  dedicated, well-engineered POS network; the twin also lowers RTT and jitter and keeps a
  milder congestion curve, and leaves cellular at 1%).
- risk: the promotion registered with the platform (spared the surges; the base reject rate
  stays).
- capacity: gateway workers doubled (``--workers N`` to choose; ``scanrush plan`` finds the
  smallest size that passes the gates).  Brownouts stay: they are an incident, not a size.
- credit: shopper-side (Huabei not opened, frozen, over the limit, confirmation not completed);
  the mall cannot remedy it, so there is no remediation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from scanrush.scenario.schema import CodeFormat, Firmware, Scenario

CAPPED_LOSS = 0.003
CREDIT_NOTE = ("credit: shopper-side (Huabei not opened, frozen, over the limit, payment not confirmed); "
               "nothing the mall can remedy, so no what-if: shoppers fall back to another method")


@dataclass(frozen=True, slots=True)
class Remediation:
    cause: str
    label: str
    overrides: tuple[str, ...]


def _within(inner: CodeFormat, outer: CodeFormat) -> bool:
    return (outer.prefixes[0] <= inner.prefixes[0] and inner.prefixes[1] <= outer.prefixes[1]
            and outer.lengths[0] <= inner.lengths[0] and inner.lengths[1] <= outer.lengths[1])


def _reads_all(firmware: Firmware, scenario: Scenario) -> bool:
    return all(any(_within(code.format, accepted) for accepted in firmware.accepts)
               for code in scenario.shoppers.codes if code.share > 0)


def _range(pair: tuple[int, int]) -> str:
    return f"{pair[0]}-{pair[1]}" if pair[0] != pair[1] else str(pair[0])


def firmware(scenario: Scenario) -> Remediation | None:
    fleet = scenario.terminals.firmware
    readers = [f for f in fleet if _reads_all(f, scenario)]
    if not readers:
        accepts = [{"prefixes": _range(c.format.prefixes), "lengths": _range(c.format.lengths)}
                   for c in scenario.shoppers.codes]
        upgrade = {"version": "upgrade", "share": "100%", "accepts": accepts}
        return Remediation("firmware", "firmware: whole fleet on an upgrade that reads every code format",
                           (f"terminals.firmware={json.dumps([upgrade])}",))
    best = min(readers, key=lambda f: (not f.query_on_timeout, f.misread + f.bad_request))
    overrides = tuple(f"terminals.firmware.{f.version}.share={'100%' if f is best else '0%'}"
                      for f in fleet if f.share != (1.0 if f is best else 0.0))
    return Remediation("firmware", f"firmware: whole fleet on {best.version}", overrides) if overrides else None


def merchant(scenario: Scenario) -> Remediation | None:
    wanted = {"qualified": (1.0, "100%"), "huabei_enabled": (1.0, "100%"), "dormant": (0.0, "0%"),
              "personal_account": (0.0, "0%")}
    overrides = tuple(f"merchants.{name}.{field}={text}"
                      for name, profile in scenario.merchants.items()
                      for field, (value, text) in wanted.items() if getattr(profile, field) != value)
    label = "merchant: every merchant qualified, Huabei enabled, none dormant, no personal accounts"
    return Remediation("merchant", label, overrides) if overrides else None


def network(scenario: Scenario) -> Remediation | None:
    overrides: list[str] = []
    for name, link in scenario.networks.items():
        if link.outages:
            overrides.append(f"networks.{name}.outages=[]")
        if link.congestion is not None:
            overrides.append(f"networks.{name}.congestion=null")
        if link.loss > CAPPED_LOSS:
            overrides.append(f"networks.{name}.loss={CAPPED_LOSS:.1%}")
    label = f"network: no outages, no congestion, loss at most {CAPPED_LOSS:.1%}"
    return Remediation("network", label, tuple(overrides)) if overrides else None


def risk(scenario: Scenario) -> Remediation | None:
    policy = scenario.gateway.risk
    if not policy.surges or policy.promotion_registered:
        return None
    return Remediation("risk", "risk: promotion registered with the platform",
                       ("gateway.risk.promotion_registered=true",))


def capacity(scenario: Scenario, workers: int | None = None) -> Remediation | None:
    target = workers if workers is not None else 2 * scenario.gateway.workers
    if target == scenario.gateway.workers:
        return None
    how = "doubled" if workers is None else "raised"
    return Remediation("capacity", f"capacity: gateway workers {how} ({scenario.gateway.workers} -> {target})",
                       (f"gateway.workers={target}",))


def remediations(scenario: Scenario, *, workers: int | None = None) -> tuple[list[Remediation], list[str]]:
    """Each cause's remediation (in cause order) and notes on the causes that get none."""
    derive: list[tuple[str, Callable[[Scenario], Remediation | None]]] = [
        ("firmware", firmware), ("merchant", merchant), ("network", network), ("risk", risk),
        ("capacity", lambda s: capacity(s, workers))]
    found: list[Remediation] = []
    notes: list[str] = []
    for cause, make in derive:
        remedy = make(scenario)
        if remedy is None:
            notes.append(f"{cause}: nothing to remediate in this scenario")
        else:
            found.append(remedy)
    notes.append(CREDIT_NOTE)
    return found, notes


def all_together(found: list[Remediation]) -> Remediation:
    overrides = tuple(o for remedy in found for o in remedy.overrides)
    return Remediation("all", "all remediations together", overrides)
