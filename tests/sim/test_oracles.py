"""The oracles reproduce the worked numbers of simulation.md §3 (to the 4 decimals printed there)."""

from __future__ import annotations

import math
from typing import Any

import oracles
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanrush.domain.profile import RushProfile
from scanrush.scenario.schema import ArrivalPoint

# simulation.md §3.1: (c, λ, μ) -> P(wait), E[Wq], Wq p90 / p95 / p99, P(Wq > 1)
MMC_TABLE = [
    ((10, 8.0, 1.0), 0.4092, 0.2046, (0.7045, 1.0511, 1.8558), 0.0554),
    ((10, 9.0, 1.0), 0.6687, 0.6687, (1.9002, 2.5934, 4.2028), 0.2460),
    ((40, 18.0, 0.5), 0.4116, 0.2058, (0.7074, 1.0540, 1.8587), 0.0557),
    ((50, 40.0, 1.0), 0.0870, 0.0087, (0.0, 0.0553, 0.2163), 0.0000),
    ((50, 45.0, 1.0), 0.3639, 0.0728, (0.2583, 0.3970, 0.7188), 0.0025),
    ((1, 0.8, 1.0), 0.8, 4.0, (10.397, 13.863, 21.910), 0.6550),
]

# simulation.md §3.4: (c, λ, μ, θ) -> P(wait), P(abandon), E[Wq]
ERLANG_A_TABLE = [
    ((10, 8.0, 1.0, 0.5), 0.3174, 0.0388, 0.0776),
    ((10, 10.0, 1.0, 0.5), 0.6197, 0.1039, 0.2078),
    ((10, 12.0, 1.0, 1.0), 0.7576, 0.2136, 0.2136),
    ((50, 45.0, 1.0, 1 / 3), 0.2965, 0.0118, 0.0353),
]


def _printed(value: float, decimals: int = 4) -> Any:
    """What the reference prints: 4 decimals, half-width 5e-5 (plus float slack)."""
    return pytest.approx(value, abs=0.5 * 10.0**-decimals + 1e-12)


@pytest.mark.parametrize(("case", "p_wait", "mean_wait", "quantiles", "tail"), MMC_TABLE)
def test_erlang_c_table(case: tuple[int, float, float], p_wait: float, mean_wait: float,
                        quantiles: tuple[float, float, float], tail: float) -> None:
    c, lam, mu = case
    assert oracles.erlang_c(c, lam / mu) == _printed(p_wait)
    assert oracles.mmc_mean_wait(c, lam, mu) == _printed(mean_wait)
    decimals = 3 if c == 1 else 4  # the M/M/1 row is printed to 3 decimals
    for q, expected in zip((0.90, 0.95, 0.99), quantiles, strict=True):
        assert oracles.mmc_wait_quantile(c, lam, mu, q) == _printed(expected, decimals)
    assert oracles.mmc_wait_tail(c, lam, mu, 1.0) == _printed(tail)


def test_littles_law_worked_check() -> None:
    # §3.1: "L = λ·E[W] = 9.6367 for case 1".
    assert oracles.mmc_in_system(10, 8.0, 1.0) == _printed(9.6367)
    assert oracles.mmc_queue_length(10, 8.0, 1.0) == pytest.approx(8.0 * oracles.mmc_mean_wait(10, 8.0, 1.0))


def test_mm1_wait_median() -> None:
    # §3.2: Wq has an atom 1−ρ at 0, so its median is ln(ρ/0.5)/(μ−λ) = 2.3500 for λ=0.8, μ=1.
    assert oracles.mmc_wait_quantile(1, 0.8, 1.0, 0.5) == _printed(2.3500)
    assert oracles.mmc_wait_quantile(1, 0.8, 1.0, 0.2) == 0.0  # inside the atom


def test_erlang_b_is_stable_for_large_systems() -> None:
    # a^c / c! overflows a float long before c = 2000; the recursion does not.
    b = oracles.erlang_b(2000, 1900.0)
    assert 0.0 < b < 0.05
    assert oracles.erlang_b(1, 1.0) == pytest.approx(0.5)  # B(1, a) = a / (1 + a)
    assert oracles.erlang_b(0, 3.0) == 1.0


def test_erlang_c_rejects_unstable_loads() -> None:
    with pytest.raises(ValueError, match="steady state"):
        oracles.erlang_c(10, 10.0)


@pytest.mark.parametrize(("case", "p_wait", "p_abandon", "mean_wait"), ERLANG_A_TABLE)
def test_erlang_a_table(case: tuple[int, float, float, float], p_wait: float, p_abandon: float,
                        mean_wait: float) -> None:
    result = oracles.erlang_a(*case)
    assert result.p_wait == _printed(p_wait)
    assert result.p_abandon == _printed(p_abandon)
    assert result.mean_wait == _printed(mean_wait)
    assert result.truncated_mass < 1e-12


def test_erlang_a_with_theta_equal_mu_is_poisson() -> None:
    # §3.4 check: with θ = μ the number in system is Poisson(λ/μ), as in M/M/∞.
    lam, c = 12.0, 10
    below = math.fsum(math.exp(-lam) * lam**n / math.factorial(n) for n in range(c))
    assert oracles.erlang_a(c, lam, 1.0, 1.0).p_wait == pytest.approx(1.0 - below, rel=1e-9)


def test_erlang_a_tends_to_erlang_c_as_patience_grows() -> None:
    nearly_patient = oracles.erlang_a(10, 8.0, 1.0, 1e-4, top=4000)
    assert nearly_patient.p_wait == pytest.approx(oracles.erlang_c(10, 8.0), abs=1e-3)
    assert nearly_patient.mean_wait == pytest.approx(oracles.mmc_mean_wait(10, 8.0, 1.0), abs=1e-3)


def test_mmck_worked_numbers() -> None:
    # §3.3: c=10, K=15.
    small = oracles.mmck(10, 15, 8.0, 1.0)
    assert small.p_block == _printed(0.0300)
    assert small.p_wait == _printed(0.3082)
    assert small.mean_wait_admitted == _printed(0.0814)
    assert oracles.mmck(10, 15, 12.0, 1.0).p_block == _printed(0.2033)


def test_mmck_with_no_waiting_room_is_erlang_b() -> None:
    assert oracles.mmck(10, 10, 8.0, 1.0).p_block == pytest.approx(oracles.erlang_b(10, 8.0), rel=1e-12)


def test_rush_profile_poisson_means() -> None:
    # §3.6: Λ(240) = 1230 and the window [90, 120) holds Poisson(360).
    assert oracles.poisson_mean(oracles.RUSH_RATE, 0.0, 240.0) == pytest.approx(1230.0)
    assert oracles.poisson_mean(oracles.RUSH_RATE, 90.0, 120.0) == pytest.approx(360.0)


def test_rush_profile_matches_the_simulators_profile() -> None:
    # The simulator thins against RushProfile; its own Λ must agree with the oracle's (seconds, per second).
    points = [ArrivalPoint(at=t * 60.0, rate=r / 60.0) for t, r in oracles.RUSH_RATE]
    profile = RushProfile(points)
    for a, b in ((0.0, 240.0), (90.0, 120.0), (45.0, 75.0), (100.0, 200.0)):
        assert profile.expected_arrivals(a * 60.0, b * 60.0) == pytest.approx(
            oracles.poisson_mean(oracles.RUSH_RATE, a, b))
        assert profile.rate_at(b * 60.0) * 60.0 == pytest.approx(oracles.rate_at(oracles.RUSH_RATE, b))


def test_mt_infinity_worked_numbers() -> None:
    # §3.6: μ = 0.5/min, starting empty.
    for t, expected in ((90.0, 22.667), (120.0, 24.0), (150.0, 14.667)):
        assert oracles.mt_infinity_mean(oracles.RUSH_RATE, 0.5, t) == _printed(expected, 3)


def test_mt_infinity_constant_rate_closed_form() -> None:
    # Constant λ: m(t) = (λ/μ)(1 − e^{−μt}), the M/M/∞ transient from empty.  Simpson's error
    # with 256 intervals is ~1e-8 relative here, far below the 3 decimals the reference prints.
    points = [(0.0, 6.0)]
    for t in (0.5, 3.0, 40.0):
        exact = 24.0 * (1.0 - math.exp(-0.25 * t))
        assert oracles.mt_infinity_mean(points, 0.25, t) == pytest.approx(exact, rel=1e-7)


@given(c=st.integers(1, 60), rho=st.floats(0.05, 0.97), mu=st.floats(0.1, 5.0), q=st.floats(0.0, 0.999))
def test_mmc_formulas_are_consistent(c: int, rho: float, mu: float, q: float) -> None:
    lam = rho * c * mu
    blocking, waiting = oracles.erlang_b(c, lam / mu), oracles.erlang_c(c, lam / mu)
    assert 0.0 <= blocking <= waiting <= 1.0
    quantile = oracles.mmc_wait_quantile(c, lam, mu, q)
    # The quantile inverts the tail: P(Wq > x_q) = 1 − q wherever x_q is outside the atom at 0.
    if quantile > 0.0:
        assert oracles.mmc_wait_tail(c, lam, mu, quantile) == pytest.approx(1.0 - q, rel=1e-9)
    else:
        assert 1.0 - waiting >= q - 1e-12
