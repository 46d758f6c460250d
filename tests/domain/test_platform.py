"""The gateway core's tabulated schedule: the same answers as the windows it is built from."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scanrush.domain.platform import Phases
from scanrush.domain.profile import risk_reject_at
from scanrush.scenario.schema import Brownout, Risk, RiskSurge

BROWNOUTS = (
    Brownout(at=100.0, for_=50.0, service_factor=2.0, error_rate=0.1),
    Brownout(at=120.0, for_=100.0, service_factor=3.0, error_rate=0.0),  # overlaps the first: the first wins
    Brownout(at=400.0, for_=0.5, service_factor=1.5, error_rate=0.5),
)
SURGES = (RiskSurge(at=130.0, for_=200.0, reject=0.05), RiskSurge(at=200.0, for_=10.0, reject=0.2),
          RiskSurge(at=150.0, for_=1.0, reject=0.01))
EDGES = sorted({t for w in (*BROWNOUTS, *SURGES) for t in (w.at, w.end)})


def _windows(brownouts: tuple[Brownout, ...]) -> tuple[tuple[float, float, float, float], ...]:
    return tuple((b.at, b.end, b.service_factor, b.error_rate) for b in brownouts)


def _by_window(risk: Risk, t: float) -> tuple[float, float, float]:
    """What the gateway computed per request before the table: first brownout containing t, risk at t."""
    for brownout in BROWNOUTS:
        if brownout.contains(t):
            return brownout.service_factor, brownout.error_rate, risk_reject_at(risk, t)
    return 1.0, 0.0, risk_reject_at(risk, t)


def _moments() -> list[float]:
    near = [t + d for t in EDGES for d in (-1e-9, 0.0, 1e-9, 0.25)]
    return [-1.0, 0.0, *near, 1e6]


def test_the_table_agrees_with_the_windows_in_time_order_and_out_of_it() -> None:
    for risk in (Risk(reject=0.003, surges=SURGES), Risk(reject=0.003, surges=SURGES, promotion_registered=True),
                 Risk(reject=0.1)):
        moments = _moments()
        for order in (moments, moments[::-1], moments[::2] + moments[1::2]):
            phases = Phases(_windows(BROWNOUTS), risk)
            for t in order:
                assert phases.at(t) == _by_window(risk, t), t


@given(st.lists(st.floats(-10.0, 1000.0, allow_nan=False), max_size=60))
def test_any_sequence_of_times(times: list[float]) -> None:
    risk = Risk(reject=0.003, surges=SURGES)
    phases = Phases(_windows(BROWNOUTS), risk)
    for t in times:
        assert phases.at(t) == _by_window(risk, t)


def test_no_windows_at_all() -> None:
    phases = Phases((), Risk(reject=0.02))
    assert phases.at(-5.0) == phases.at(0.0) == phases.at(1e9) == (1.0, 0.0, 0.02)
