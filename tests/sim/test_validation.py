"""The simulator against queueing theory (simulation.md §3, §5.5): slow, statistical.

Every check is |estimate − oracle| ≤ 4·SE, with SE = s/√R from R independent
replications (one number per replication, never customers pooled within a run:
§5.2 measured pooled intervals 2× too narrow).  4·SE fails by chance about once
in 16,000 runs, and shrinks as 1/√R, so the test gets sharper with more
replications instead of hiding behind fixed decimals.

Budget (§5.5: ~85 k customers/s): the two steady-state checks run 20 × 20 k
customers each, the time-varying checks 200 replications of ~1,230 shoppers;
the whole file measured 26–38 s of CPU, 15–29 s of wall time on 2 (shared) cores.

Warm-up.  The oracles are steady-state laws but every replication starts empty.
* Totals (``waited``, ``queue_wait``) have no per-minute breakdown, so for
  them the horizon is made long instead: M/M/10 at ρ = 0.8 relaxes in
  τ ≈ 1/(μ(√c − √a)²) ≈ 9 min, and starting empty loses about λ·τ·C ≈ 30 waits
  out of 20,000 customers: a bias of ≈ −0.0015 in P(wait), a tenth of one SE.
* Where a per-minute series exists (arrivals, abandonments, queue length) the
  first ``WARMUP`` minutes (≈ 7τ) are dropped, which removes the bias outright.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import oracles
import pytest
from scipy.stats import chi2

from scanrush.results import ReplicationStats
from scanrush.run import simulate
from scanrush.scenario.schema import Scenario

pytestmark = pytest.mark.slow

Z = 4.0
"""Tolerance in standard errors."""
TAIL = 2.0 * 0.5 * math.erfc(Z / math.sqrt(2.0))
"""Two-sided false-alarm probability of a 4σ band (6.3e-5), used for the chi-square bands too."""
PROCESSES = 2
WARMUP = 60
"""Minutes dropped from per-minute series before steady-state estimates."""

STEADY_REPLICATIONS = 20
STEADY_CUSTOMERS = 20_000
"""Customers per replication (simulation.md §5.5 budgets 10 × 20 k for an Erlang-C check)."""
RUSH_REPLICATIONS = 200
"""Replications of the §3.6 rush profile (≥ 40 asked; 200 gives the variance check some power)."""


@dataclass(frozen=True)
class Estimate:
    """Mean of per-replication values and its standard error."""

    mean: float
    se: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Estimate:
        return cls(statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values)), len(values))

    def check(self, oracle: float, what: str) -> None:
        if self.se == 0.0:  # every replication gave the same number: nothing to average over
            assert self.mean == oracle, f"{what}: {self.mean} in every replication vs oracle {oracle}"
            return
        z = (self.mean - oracle) / self.se
        # Printed so `pytest -s` shows the comparison; the assertion message says it too.
        line = f"{what}: {self.mean:.5g} ± {self.se:.2g} (n={self.n}) vs oracle {oracle:.5g}, z={z:+.2f}"
        print(line)
        assert abs(z) <= Z, line


def check_dispersion(counts: Sequence[float], mean: float, what: str) -> None:
    """A Poisson count has variance = mean: (R−1)·s²/mean ~ χ²(R−1), checked at the 4σ level."""
    dof = len(counts) - 1
    statistic = dof * statistics.variance(counts) / mean
    low, high = chi2.ppf(TAIL / 2.0, dof), chi2.ppf(1.0 - TAIL / 2.0, dof)
    line = (f"{what}: var/mean = {statistic / dof:.3f} (χ²={statistic:.1f}, dof={dof}), "
            f"allowed [{low / dof:.3f}, {high / dof:.3f}]")
    print(line)
    assert low <= statistic <= high, line


# --------------------------------------------------------------------------- scenarios


def _trivial_payments() -> dict[str, Any]:
    """The parts the schema requires but a queue-only model never touches."""
    return {
        "networks": {"lan": {"rtt": "1ms"}},
        "terminals": {"firmware": [{"version": "1", "share": "100%"}]},
        "gateway": {"workers": 1, "service_time": "1ms"},
    }


def mmc_scenario(c: int, lam: float, mu: float, minutes: float, *, theta: float | None = None,
                 seed: int = 2026) -> Scenario:
    """M/M/c (+M with ``theta``) in minutes: one store, ``c`` tills on one shared FIFO line.

    Nobody pays with Huabei, so service = checkout_time + other_method_time = Exp(μ).
    """
    shoppers: dict[str, Any] = {
        "arrivals": [{"at": 0, "rate": f"{lam}/min"}],
        "huabei_share": "0%",
        "checkout_time": {"exponential": {"mean": f"{60.0 / mu}s"}},
        "other_method_time": 0,
    }
    if theta is not None:
        shoppers["patience"] = {"exponential": {"mean": f"{60.0 / theta}s"}}
    return Scenario.model_validate({
        "name": "mmc", "seed": seed, "duration": f"{minutes}m",
        "mall": {"zones": [{"name": "z", "stores": 1, "terminals_per_store": c, "network": "lan",
                            "queue": "shared"}]},
        "shoppers": shoppers, **_trivial_payments(),
    })


def mt_infinity_scenario(mu: float, tills: int, seed: int = 3006) -> Scenario:
    """The §3.6 rush profile served by ``tills`` ≫ m(t) tills: M_t/M/∞ in practice.

    Everyone pays with Huabei at an instant, loss-free gateway, so every shopper
    ends ``paid_huabei`` and the per-minute ``paid_huabei`` series counts the
    departures; service is Exp(μ) plus a few milliseconds of network and gateway
    time (shifts m(t) by ~λ·3 ms ≈ 0.001, far below the SE).
    """
    points = [{"at": f"{t}m", "rate": f"{r}/min"} for t, r in oracles.RUSH_RATE]
    return Scenario.model_validate({
        "name": "mt-infinity", "seed": seed, "duration": "240m",
        "mall": {"zones": [{"name": "z", "stores": 1, "terminals_per_store": tills, "network": "lan",
                            "queue": "shared"}]},
        "shoppers": {"arrivals": points, "huabei_share": "100%", "basket": 100, "scan_time": 0,
                     "checkout_time": {"exponential": {"mean": f"{60.0 / mu}s"}}, "other_method_time": 0},
        **_trivial_payments(),
        "gateway": {"workers": tills, "service_time": "1ms"},
    })


def run(scenario: Scenario, replications: int) -> list[ReplicationStats]:
    result = simulate(scenario, range(replications), processes=PROCESSES)
    assert not result.interrupted
    assert len(result.replications) == replications
    return result.replications


def after_warmup(stats: ReplicationStats, name: str) -> float:
    return math.fsum(stats.series[name][WARMUP:])


# --------------------------------------------------------------------------- (a) M/M/c = Erlang C

MMC = (10, 8.0, 1.0)
"""c = 10, λ = 8/min, μ = 1/min (ρ = 0.8): P(wait) = 0.4092, E[Wq] = 0.2046 min."""


@pytest.fixture(scope="module")
def mmc_runs() -> list[ReplicationStats]:
    c, lam, mu = MMC
    return run(mmc_scenario(c, lam, mu, STEADY_CUSTOMERS / lam), STEADY_REPLICATIONS)


def test_mmc_probability_of_waiting(mmc_runs: list[ReplicationStats]) -> None:
    c, lam, mu = MMC
    Estimate.of([r.waited / r.shoppers for r in mmc_runs]).check(oracles.erlang_c(c, lam / mu), "M/M/10 P(wait)")


def test_mmc_mean_wait(mmc_runs: list[ReplicationStats]) -> None:
    c, lam, mu = MMC
    # Every shopper is served (no patience), so the histogram's mean is E[Wq] over all arrivals.
    assert all(r.queue_wait.count == r.shoppers for r in mmc_runs)
    estimate = Estimate.of([r.queue_wait.mean / 60.0 for r in mmc_runs])
    estimate.check(oracles.mmc_mean_wait(c, lam, mu), "M/M/10 E[Wq] (min)")


def test_mmc_zero_waits_are_exact(mmc_runs: list[ReplicationStats]) -> None:
    # `waited` and the histogram's exact zero count are two records of the same event.
    assert all(r.queue_wait.zeros + r.waited == r.queue_wait.count for r in mmc_runs)


def test_mmc_queue_length_littles_law(mmc_runs: list[ReplicationStats]) -> None:
    # The queue is sampled once a minute at fixed times, which estimates the time-average
    # Lq = λ·E[Wq] without bias once the warm-up minutes are dropped.
    c, lam, mu = MMC
    values = [statistics.fmean(r.series["queue_length"][WARMUP:]) for r in mmc_runs]
    Estimate.of(values).check(oracles.mmc_queue_length(c, lam, mu), "M/M/10 Lq (sampled each minute)")


# --------------------------------------------------------------------------- (b) Erlang-A

ERLANG_A = (10, 10.0, 1.0, 0.5)
"""c = 10, λ = 10/min, μ = 1/min, patience Exp(mean 2 min) (ρ = 1): P(abandon) = 0.1039."""


@pytest.fixture(scope="module")
def erlang_a_runs() -> list[ReplicationStats]:
    c, lam, mu, theta = ERLANG_A
    return run(mmc_scenario(c, lam, mu, STEADY_CUSTOMERS / lam, theta=theta), STEADY_REPLICATIONS)


def test_erlang_a_probability_of_abandoning(erlang_a_runs: list[ReplicationStats]) -> None:
    # Abandonments are binned by when the patience ran out; after the warm-up, their count
    # over the arrivals' count is the abandonment rate over the arrival rate, i.e. P(abandon).
    # (The few who arrived before the cut and leave after it, ~E[Lq]·P(abandon) ≈ 0.2 per
    # replication, are noise beside the ~20 k arrivals.)
    values = [after_warmup(r, "abandoned") / after_warmup(r, "arrivals") for r in erlang_a_runs]
    Estimate.of(values).check(oracles.erlang_a(*ERLANG_A).p_abandon, "Erlang-A P(abandon)")


def test_erlang_a_abandonment_totals_agree(erlang_a_runs: list[ReplicationStats]) -> None:
    # The per-minute series and the outcome counts must tell the same story.
    for r in erlang_a_runs:
        assert math.fsum(r.series["abandoned"]) == r.outcomes["abandoned_queue"]
        assert math.fsum(r.series["arrivals"]) == r.shoppers


def test_erlang_a_probability_of_waiting(erlang_a_runs: list[ReplicationStats]) -> None:
    # Abandoners all queued (patience > 0) but are not in `waited`, which counts served shoppers.
    values = [(r.waited + r.outcomes["abandoned_queue"]) / r.shoppers for r in erlang_a_runs]
    Estimate.of(values).check(oracles.erlang_a(*ERLANG_A).p_wait, "Erlang-A P(wait)")


def test_erlang_a_queue_length(erlang_a_runs: list[ReplicationStats]) -> None:
    # Lq counts a shopper only until their patience runs out (simulation.md §2.3: "the
    # time-average queue length must count abandoners until their deadline").
    values = [statistics.fmean(r.series["queue_length"][WARMUP:]) for r in erlang_a_runs]
    Estimate.of(values).check(oracles.erlang_a(*ERLANG_A).mean_queue, "Erlang-A Lq (sampled each minute)")


# --------------------------------------------------------------------------- (c), (d) time-varying rush

MU_RUSH = 0.5
"""Service rate of the M_t/M/∞ check (per minute), as in §3.6."""
TILLS = 100
"""m(t) peaks near 25, and P(Poisson(25) ≥ 100) ≈ 1e-24: the tills never all fill up."""


@pytest.fixture(scope="module")
def rush_runs() -> list[ReplicationStats]:
    runs = run(mt_infinity_scenario(MU_RUSH, TILLS), RUSH_REPLICATIONS)
    # The departure count below is only valid if every shopper paid with Huabei.
    assert all(r.outcomes["paid_huabei"] == r.shoppers for r in runs)
    return runs


@pytest.mark.parametrize(("start", "end"), [(0, 240), (90, 120), (60, 90)])
def test_rush_arrivals_are_poisson(rush_runs: list[ReplicationStats], start: int, end: int) -> None:
    counts = [math.fsum(r.series["arrivals"][start:end]) for r in rush_runs]
    expected = oracles.poisson_mean(oracles.RUSH_RATE, start, end)
    # A Poisson count's SE is √(Λ/R); the replications' own spread gives the same to within noise.
    Estimate.of(counts).check(expected, f"arrivals in [{start}, {end}) min")
    check_dispersion(counts, expected, f"arrivals in [{start}, {end}) min")


@pytest.mark.parametrize("minute", [30, 90, 120, 150, 200])
def test_mt_infinity_number_in_service(rush_runs: list[ReplicationStats], minute: int) -> None:
    # The model has no "in service" series, but with nobody queueing the number in service at
    # a minute boundary is arrivals so far minus departures so far.
    in_service = [math.fsum(r.series["arrivals"][:minute]) - math.fsum(r.series["paid_huabei"][:minute])
                  for r in rush_runs]
    expected = oracles.mt_infinity_mean(oracles.RUSH_RATE, MU_RUSH, minute)
    Estimate.of(in_service).check(expected, f"M_t/M/∞ in service at {minute} min")
    check_dispersion(in_service, expected, f"M_t/M/∞ in service at {minute} min")
    assert all(r.series["queue_length"][minute] == 0 for r in rush_runs)
