"""Result files built by hand for the report tests: small, with every feature a report can show."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from scanrush.domain.outcomes import Cause, Outcome
from scanrush.gates import parse_gate
from scanrush.results import Metadata, ReplicationStats, RunResult, compare_runs
from scanrush.verdict import Decision, GateVerdict, Verdict

MINUTES = 12
SCENARIO: dict[str, Any] = {
    "duration": 720.0,
    "mall": {"zones": [{"name": "supermarket", "network": "wired"}, {"name": "boutiques", "network": "mall-wifi"}]},
    "networks": {"wired": {"outages": []}, "mall-wifi": {"outages": [{"at": 240.0, "for": 60.0}]}},
    "gateway": {"workers": 4, "brownouts": [{"at": 420.0, "for": 120.0, "service_factor": 3.0, "error_rate": 0.2}],
                "risk": {"reject": 0.01, "surges": [{"at": 60.0, "for": 120.0, "reject": 0.05}]}},
    "gates": ["huabei_success_rate >= 97%", "checkout_time_p95 <= 3m", "double_charges == 0"],
    "live": {"window": [180.0, 360.0]},
}


def replication(index: int, *, network_failures: int = 3, mechanism: str = "simulated",
                minutes: int = MINUTES) -> ReplicationStats:
    r = ReplicationStats(index=index, seed=[42, index], shoppers=100, mechanism=mechanism)  # type: ignore[arg-type]
    paid = 40 + index % 3
    for _ in range(paid):
        r.record_outcome(Outcome.PAID_HUABEI)
    for _ in range(network_failures):
        r.record_outcome(Outcome.PAID_OTHER_AFTER_FAILURE, Cause.NETWORK)
    r.record_outcome(Outcome.LEFT_UNPAID, Cause.CAPACITY)
    r.record_outcome(Outcome.UNRESOLVED, Cause.RISK)
    while r.outcomes["paid_other"] + r.huabei_checkouts() < 90:
        r.record_outcome(Outcome.PAID_OTHER)
    for _ in range(10):
        r.record_outcome(Outcome.ABANDONED_QUEUE)
    for v in (10.0, 20.0, 30.0, 40.0, 90.0):
        r.checkout_time.record(v + index)
    r.queue_wait.record_n(0.0, 50)
    r.queue_wait.record_n(12.0, 50)
    for v in (0.2, 0.3, 0.5, 1.2, 3.0):
        r.payment_latency.record(v * (1 + index / 10))
    for minute in range(minutes):
        r.set_series("huabei_checkouts", minute, 10.0)
        r.set_series("paid_huabei", minute, 9.0 - (minute == 4) * 5 - index % 2)
        r.set_series("failures_network", minute, 1.0 + (minute == 4) * 5)
        r.set_series("queue_length", minute, float(minute % 5 + index))
        r.set_series("gateway_busy", minute, 60.0 * (1 + minute % 3))
    r.revenue, r.revenue_lost, r.fees = 20000.0 + index, 1000.0 + 10 * index, 50.0 + index
    r.gateway["utilisation"] = 0.5
    return r


def metadata(name: str = "promo", replications: int = 4) -> Metadata:
    return Metadata.create(scenario_name=name, scenario_path=f"scenarios/{name}.yaml",
                           scenario_hash="sha256:" + "ab" * 32, scenario=SCENARIO, seed=20261212,
                           replications=replications)


def sim_result(n: int = 4, name: str = "promo", network_failures: int = 3) -> RunResult:
    return RunResult(kind="sim", metadata=metadata(name, n),
                     replications=[replication(i, network_failures=network_failures) for i in range(n)])


def live_result(network_failures: int = 3) -> RunResult:
    rep = replication(0, network_failures=network_failures, mechanism="live", minutes=3)
    rep.extra.update({"window": [180.0, 360.0], "cpu_saturated": False,
                      "packet_loss": {"mechanism": "toxic-approximation"}})
    return RunResult(kind="live", metadata=metadata("promo", 1), replications=[rep])


def gate_verdicts() -> Verdict:
    rows = (
        GateVerdict(parse_gate("huabei_success_rate >= 97%"), "sim", Decision.NO_GO, 0.8, 0.78, 0.82, 0.983, 4,
                    "t", "at most 82% with 98.3% confidence, which fails >= 97%"),
        GateVerdict(parse_gate("checkout_time_p95 <= 3m"), "sim", Decision.GO, 90.0, 85.0, 95.0, 0.983, 4, "t",
                    "at most 95 s"),
        GateVerdict(parse_gate("checkout_time_p95 <= 3m"), "live", Decision.INCONCLUSIVE, 170.0, 150.0, 200.0,
                    0.983, 5, "order", "the bounds straddle 3m"),
        GateVerdict(parse_gate("double_charges == 0"), "sim", Decision.GO, 0.0, 0.0, 0.0, 1.0, 4, "exact",
                    "none observed"),
    )
    return Verdict(Decision.NO_GO, rows, 0.95, 4, notes=("one gate fails",))


def with_live(result: RunResult, live: RunResult) -> RunResult:
    """A ``scanrush check`` result: the live window nested in the sim result."""
    result.live = live  # type: ignore[attr-defined]  # RunResult.live is being added concurrently
    return result


@pytest.fixture
def sim() -> RunResult:
    return sim_result()


@pytest.fixture
def checked() -> RunResult:
    """Sim + live part + a stored verdict: everything a report can show."""
    result = with_live(sim_result(), live_result(network_failures=40))
    result.verdict = gate_verdicts().to_dict()  # type: ignore[attr-defined]
    return result


@pytest.fixture
def compared() -> RunResult:
    base, twin = sim_result(), sim_result(name="promo-fixed", network_failures=1)
    return dataclasses.replace(twin, comparison=compare_runs(base, twin))
