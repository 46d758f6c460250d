"""The go/no-go verdict: decision rules, edge cases, live evidence, serialisation, and error rates.

The error-rate tests run many seeded trials on synthetic replications whose true value is
known and check that a wrong GO or NO-GO happens no more often than the stated α, with a
binomial allowance (the 99.9% quantile of Binomial(trials, α)).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from scanrush.gates import Gate, parse_gate
from scanrush.results import Metadata, ReplicationStats, RunResult
from scanrush.stats.ci import quantile_ranks
from scanrush.verdict import (
    EXIT_CODES,
    Decision,
    GateVerdict,
    Verdict,
    decide,
    error_budget,
    is_invariant,
    judge,
    judge_live,
    judge_sequentially,
    judge_values,
    load_generator_saturated,
    planned_looks,
)

ROOT = Path(__file__).resolve().parents[1]
ALPHA = 0.05
SUCCESS = parse_gate("huabei_success_rate >= 97%")
NETWORK = parse_gate("failure_rate_network <= 1%")
P95 = parse_gate("checkout_time_p95 <= 45s")
DOUBLE = parse_gate("double_charges == 0")


class Rep:
    """A replication stand-in: just its metrics (ReplicationStats computes histogram percentiles)."""

    def __init__(self, **metrics: float) -> None:
        self._metrics = metrics

    def metrics(self) -> dict[str, float]:
        return dict(self._metrics)


def reps(metric: str, values: Sequence[float]) -> list[Rep]:
    return [Rep(**{metric: float(v)}) for v in values]


def allowance(trials: int, alpha: float) -> int:
    """Most wrong decisions tolerated in ``trials`` when each is wrong with probability ``alpha``."""
    return int(stats.binom.ppf(0.999, trials, alpha))


def live_result(paid: int, failed: int, samples: Sequence[float] = (), extra: dict[str, object] | None = None,
                double_charges: int = 0) -> RunResult:
    window = ReplicationStats(mechanism="live")
    window.shoppers = paid + failed
    window.outcomes["paid_huabei"] = paid
    window.outcomes["paid_other_after_failure"] = failed
    window.failures_by_cause["network"] = failed
    window.ledger["double_charges"] = double_charges
    for sample in samples:
        window.checkout_time.record(sample)
    window.extra = dict(extra or {})
    metadata = Metadata.create(scenario_name="t", scenario_path="t.yaml", scenario_hash="sha256:0", scenario={},
                               seed=1, replications=1)
    return RunResult(kind="live", metadata=metadata, replications=[window])


# --------------------------------------------------------------------------- decision rule


@pytest.mark.parametrize(("text", "lower", "upper", "expected"), [
    ("huabei_success_rate >= 97%", 0.97, 0.99, Decision.GO),
    ("huabei_success_rate > 97%", 0.97, 0.99, Decision.INCONCLUSIVE),
    ("huabei_success_rate >= 97%", 0.95, 0.9699, Decision.NO_GO),
    ("huabei_success_rate > 97%", 0.95, 0.97, Decision.NO_GO),
    ("huabei_success_rate >= 97%", 0.95, 0.97, Decision.INCONCLUSIVE),
    ("checkout_time_p95 <= 45s", 30.0, 45.0, Decision.GO),
    ("checkout_time_p95 < 45s", 30.0, 45.0, Decision.INCONCLUSIVE),
    ("checkout_time_p95 <= 45s", 45.0001, 50.0, Decision.NO_GO),
    ("checkout_time_p95 < 45s", 45.0, 50.0, Decision.NO_GO),
    ("checkout_time_p95 <= 45s", -math.inf, math.inf, Decision.INCONCLUSIVE),
    ("checkout_time_p95 <= 45s", math.nan, math.nan, Decision.INCONCLUSIVE),
])
def test_decide(text: str, lower: float, upper: float, expected: Decision) -> None:
    assert decide(parse_gate(text), lower, upper) is expected


def test_one_replication_has_infinite_bounds_and_decides_nothing() -> None:
    row = judge_values(SUCCESS, [0.999], alpha=ALPHA)
    assert row.decision is Decision.INCONCLUSIVE
    assert (row.lower, row.upper, row.n) == (-math.inf, math.inf, 1)
    assert "one replication gives no estimate of spread" in row.reason
    verdict = judge(reps("huabei_success_rate", [0.999]), [SUCCESS])
    assert verdict.decision is Decision.INCONCLUSIVE
    assert verdict.exit_code == 4


def test_zero_variance_and_the_equality_in_the_operator() -> None:
    on = [0.97] * 5
    assert judge_values(SUCCESS, on, alpha=ALPHA).decision is Decision.GO
    assert judge_values(parse_gate("huabei_success_rate > 97%"), on, alpha=ALPHA).decision is Decision.NO_GO
    assert judge_values(parse_gate("huabei_success_rate <= 97%"), on, alpha=ALPHA).decision is Decision.GO
    assert judge_values(parse_gate("huabei_success_rate < 97%"), on, alpha=ALPHA).decision is Decision.NO_GO
    row = judge_values(SUCCESS, [0.99] * 3, alpha=ALPHA)
    assert (row.lower, row.upper, row.observed) == (0.99, 0.99, 0.99)


def test_nan_replications_are_left_out_and_noted() -> None:
    values = [0.99, math.nan, 0.991, 0.989, math.nan, 0.99]
    row = judge_values(SUCCESS, values, alpha=ALPHA)
    assert (row.n, row.excluded, row.decision) == (4, 2, Decision.GO)
    assert "2 replications left out" in row.reason
    verdict = judge(reps("huabei_success_rate", values), [SUCCESS])
    assert any("2 sim replications left out" in note for note in verdict.notes)
    nothing = judge_values(SUCCESS, [math.nan, math.nan], alpha=ALPHA)
    assert nothing.decision is Decision.INCONCLUSIVE
    assert nothing.n == 0
    assert "undefined" in nothing.reason


def test_a_metric_the_result_lacks_is_inconclusive_and_says_so() -> None:
    verdict = judge([Rep(shoppers=1.0)] * 3, [parse_gate("huabei_success_rate[zone=fashion] >= 90%")])
    assert verdict.decision is Decision.INCONCLUSIVE
    assert verdict.gates[0].n == 0
    assert "the result has no huabei_success_rate[zone=fashion]" in verdict.gates[0].reason


def test_invariants_use_the_exact_rule() -> None:
    assert is_invariant(DOUBLE)
    assert is_invariant(parse_gate("double_charges <= 0"))
    assert is_invariant(parse_gate("unresolved < 1"))
    assert not is_invariant(parse_gate("unresolved <= 3"))
    assert not is_invariant(SUCCESS)
    clean = judge_values(DOUBLE, [0, 0, 0], alpha=ALPHA)
    assert (clean.decision, clean.method, clean.confidence, clean.n) == (Decision.GO, "exact", 1.0, 3)
    assert "cannot rule out a rarer one" in clean.reason
    one = judge_values(DOUBLE, [0, 0, 1, 0] * 5, alpha=ALPHA)  # 1 in 20: a t bound would not dare say NO-GO
    assert one.decision is Decision.NO_GO
    assert "5 of 20 replications" in one.reason
    assert "any observed violation" in one.reason
    verdict = judge(reps("double_charges", [0, 0, 2]), [DOUBLE, SUCCESS])
    assert verdict.decision is Decision.NO_GO
    assert verdict.exit_code == 1
    assert any("an invariant failed" in note for note in verdict.notes)


def test_overall_decision_and_bonferroni() -> None:
    good = [Rep(huabei_success_rate=0.99 + 0.001 * i, failure_rate_network=0.002, double_charges=0.0)
            for i in range(5)]
    verdict = judge(good, [SUCCESS, NETWORK, DOUBLE])
    assert verdict.decision is Decision.GO
    assert verdict.exit_code == 0
    # Two statistical rows share α; the invariant takes none.
    assert [row.confidence for row in verdict.gates] == pytest.approx([1 - ALPHA / 2, 1 - ALPHA / 2, 1.0])
    assert error_budget([SUCCESS, NETWORK, DOUBLE], sim=True, live=True, looks=4) == pytest.approx(
        (ALPHA / 4 / 4, ALPHA / 4))
    mixed = judge(good[:1] + good[1:2], [SUCCESS])  # two replications: still decisive here
    assert mixed.replications == 2
    assert judge(good, []).decision is Decision.INCONCLUSIVE
    assert judge(None, [SUCCESS]).notes[0].startswith("no evidence")
    assert EXIT_CODES[Decision.INCONCLUSIVE] == 4


# --------------------------------------------------------------------------- live evidence


def test_live_rates_use_wilson_over_the_windows_checkouts() -> None:
    live = live_result(paid=1980, failed=20)
    verdict = judge(None, [SUCCESS, NETWORK], live=live)
    rows = {row.gate.metric: row for row in verdict.gates}
    assert {row.evidence for row in verdict.gates} == {"live"}
    assert rows["huabei_success_rate"].method == "wilson"
    assert rows["huabei_success_rate"].n == 2000
    assert rows["huabei_success_rate"].decision is Decision.GO
    assert "shared queues and outages" in rows["huabei_success_rate"].reason
    assert rows["failure_rate_network"].decision is Decision.INCONCLUSIVE  # 1% observed, on the threshold
    bad = judge(None, [SUCCESS], live=live_result(paid=900, failed=100))
    assert bad.decision is Decision.NO_GO


def test_live_percentiles_use_order_statistics_of_the_histogram() -> None:
    rng = np.random.default_rng(3)
    fast = live_result(paid=10, failed=0, samples=rng.exponential(5.0, 2000).tolist())
    row = judge(None, [P95], live=fast).gates[0]
    true_p95 = -5.0 * math.log(0.05)  # ≈ 15 s
    assert (row.method, row.decision, row.n) == ("order", Decision.GO, 2000)
    assert row.lower <= true_p95 <= row.upper
    slow = judge(None, [P95], live=live_result(paid=10, failed=0, samples=[60.0] * 100)).gates[0]
    assert slow.decision is Decision.NO_GO
    few = judge(None, [parse_gate("checkout_time_p99 <= 1h")], live=live_result(10, 0, samples=[1.0] * 20))
    assert few.gates[0].decision is Decision.INCONCLUSIVE
    assert "too few samples" in few.gates[0].reason


def test_live_cannot_judge_everything_and_exact_rules_apply() -> None:
    live = live_result(paid=100, failed=0, double_charges=1)
    rows = judge(None, [parse_gate("revenue_lost <= 10"), DOUBLE], live=live).gates
    assert rows[0].method == "none"
    assert rows[0].decision is Decision.INCONCLUSIVE
    assert rows[1].decision is Decision.NO_GO
    assert "the live window" in rows[1].reason


def test_sim_and_live_must_both_hold() -> None:
    sim = reps("huabei_success_rate", [0.99, 0.991, 0.992, 0.99])
    both = judge(sim, [SUCCESS], live=live_result(paid=1990, failed=10))
    assert both.decision is Decision.GO
    assert [r.evidence for r in both.gates] == ["sim", "live"]
    assert both.gates[0].confidence == pytest.approx(1 - ALPHA / 2)  # the split counts both rows
    live_fails = judge(sim, [SUCCESS], live=live_result(paid=900, failed=100))
    assert live_fails.decision is Decision.NO_GO


@pytest.mark.parametrize("extra", [{"cpu_saturated": True}, {"parts": [{"cpu_saturated": False},
                                                                         {"cpu_saturated": True}]}])
def test_a_saturated_load_generator_makes_it_inconclusive(extra: dict[str, object]) -> None:
    live = live_result(paid=1990, failed=10, extra=extra)
    assert load_generator_saturated(live)
    sim = reps("huabei_success_rate", [0.99, 0.991, 0.992, 0.99])
    verdict = judge(sim, [SUCCESS], live=live)
    assert verdict.decision is Decision.INCONCLUSIVE
    assert verdict.exit_code == 4
    assert any("CPU saturated" in note for note in verdict.notes)
    assert "not trusted" in verdict.gates[1].reason
    # The simulation's own confident failure still stands.
    assert judge(reps("huabei_success_rate", [0.5, 0.51, 0.5]), [SUCCESS], live=live).decision is Decision.NO_GO
    assert not load_generator_saturated(live_result(1, 0, extra={"parts": [{"cpu_saturated": False}]}))


def test_a_live_result_given_as_sim_is_live_evidence() -> None:
    verdict = judge(live_result(paid=1990, failed=10), [SUCCESS])
    assert [row.evidence for row in verdict.gates] == ["live"]
    assert verdict.replications == 0


# --------------------------------------------------------------------------- serialisation


def test_verdict_round_trips_through_json() -> None:
    verdict = judge(reps("huabei_success_rate", [0.99]) , [SUCCESS, DOUBLE], live=live_result(10, 0))
    text = json.dumps(verdict.to_dict(), allow_nan=False)
    assert '"Infinity"' in text
    assert '"NaN"' in text
    again = Verdict.from_dict(json.loads(text))
    assert again.to_dict() == verdict.to_dict()
    assert again.gates[0].lower == -math.inf
    assert math.isnan(again.gates[1].observed)
    row = GateVerdict.from_dict(verdict.gates[0].to_dict())
    assert row.gate == SUCCESS
    assert row.bound == -math.inf


# --------------------------------------------------------------------------- sequential


def test_planned_looks() -> None:
    assert planned_looks(10, 40, 10) == 4
    assert planned_looks(10, 45, 10) == 5
    assert planned_looks(10, 10, 10) == 1
    with pytest.raises(ValueError, match="initial <= budget"):
        planned_looks(10, 5, 10)


def _normal_source(rng: np.random.Generator, mean: float, sd: float, metric: str = "huabei_success_rate"):  # type: ignore[no-untyped-def]
    def run_more(k: int) -> list[Rep]:
        return reps(metric, rng.normal(mean, sd, k).tolist())
    return run_more


def test_sequential_stops_when_decided_and_splits_alpha_over_planned_looks() -> None:
    rng = np.random.default_rng(1)
    calls: list[int] = []
    source = _normal_source(rng, 0.99, 0.005)

    def run_more(k: int) -> list[Rep]:
        calls.append(k)
        return source(k)

    result = judge_sequentially(run_more, [SUCCESS], initial=10, budget=40, batch=10)
    assert result.verdict.decision is Decision.GO
    assert calls == [10]
    assert (result.looks_taken, result.looks_planned, len(result.replications)) == (1, 4, 10)
    assert result.verdict.gates[0].confidence == pytest.approx(1 - ALPHA / 4)
    assert "1 of 4 planned looks" in result.verdict.notes[-1]


def test_sequential_goes_to_the_budget_when_undecided_and_stops_when_runs_dry() -> None:
    on = judge_sequentially(lambda k: reps("huabei_success_rate", [0.97] * (k - 1) + [0.971]), [SUCCESS],
                            initial=5, budget=12, batch=3)
    # 0.97 with a little spread: the lower bound stays below 97%, the upper above it.
    assert on.verdict.decision is Decision.INCONCLUSIVE
    assert (on.looks_taken, len(on.replications)) == (4, 12)
    given: list[int] = []

    def dries_up(k: int) -> list[Rep]:
        given.append(k)
        return reps("huabei_success_rate", [0.96, 0.98][: 2 if len(given) == 1 else 0])

    dry = judge_sequentially(dries_up, [SUCCESS], initial=2, budget=10, batch=2)
    assert len(dry.replications) == 2
    assert given == [2, 2]
    looks: list[Verdict] = []
    judge_sequentially(_normal_source(np.random.default_rng(2), 0.97, 0.01), [SUCCESS], initial=4, budget=8,
                       batch=2, on_look=looks.append)
    assert 1 <= len(looks) <= 3


def test_sequential_stops_when_only_live_rows_are_undecided() -> None:
    live = live_result(paid=1990, failed=10, extra={"cpu_saturated": True})
    result = judge_sequentially(_normal_source(np.random.default_rng(4), 0.99, 0.002), [SUCCESS],
                                initial=5, budget=50, live=live)
    assert result.looks_taken == 1
    assert result.verdict.decision is Decision.INCONCLUSIVE


# --------------------------------------------------------------------------- error rates

TRIALS = 2000


def _decisions(gate: Gate, samples: np.ndarray, alpha: float = ALPHA) -> dict[Decision, int]:
    counts = dict.fromkeys(Decision, 0)
    for row in samples:
        counts[judge_values(gate, row.tolist(), alpha=alpha).decision] += 1
    return counts


@pytest.mark.parametrize("n", [3, 10, 30])
def test_error_rate_normal_on_the_threshold(n: int) -> None:
    rng = np.random.default_rng(100 + n)
    counts = _decisions(SUCCESS, rng.normal(0.97, 0.01, (TRIALS, n)))
    # The gate holds (>= and the mean is exactly 97%): NO-GO is the wrong answer.
    assert counts[Decision.NO_GO] <= allowance(TRIALS, ALPHA)
    # On the threshold, neither side can be shown: mostly INCONCLUSIVE (1 - 2α in theory).
    assert counts[Decision.INCONCLUSIVE] >= 0.85 * TRIALS


def test_error_rate_normal_just_failing() -> None:
    rng = np.random.default_rng(7)
    counts = _decisions(SUCCESS, rng.normal(0.97 - 1e-6, 0.01, (TRIALS, 10)))
    assert counts[Decision.GO] <= allowance(TRIALS, ALPHA)  # fails, barely: GO is wrong


def test_error_rate_normal_at_a_distance() -> None:
    rng = np.random.default_rng(8)
    holds = _decisions(SUCCESS, rng.normal(0.98, 0.01, (TRIALS, 10)))
    fails = _decisions(SUCCESS, rng.normal(0.96, 0.01, (TRIALS, 10)))
    assert holds[Decision.NO_GO] <= allowance(TRIALS, 1e-4)
    assert fails[Decision.GO] <= allowance(TRIALS, 1e-4)
    assert holds[Decision.GO] >= 0.8 * TRIALS
    assert fails[Decision.NO_GO] >= 0.8 * TRIALS


@pytest.mark.parametrize(("p", "wrong"), [(0.01, Decision.NO_GO), (0.0101, Decision.GO)])
def test_error_rate_bernoulli_replications(p: float, wrong: Decision) -> None:
    # Each replication's rate is the share of 2,000 checkouts failing: what the simulator measures.
    rng = np.random.default_rng(int(p * 1e6))
    rates = rng.binomial(2000, p, (TRIALS, 10)) / 2000
    counts = _decisions(NETWORK, rates)
    assert counts[wrong] <= allowance(TRIALS, ALPHA)
    assert counts[Decision.INCONCLUSIVE] >= 0.75 * TRIALS


@pytest.mark.parametrize(("p", "wrong"), [(0.97, Decision.NO_GO), (0.9699, Decision.GO)])
def test_error_rate_wilson_on_independent_outcomes(p: float, wrong: Decision) -> None:
    rng = np.random.default_rng(int(p * 1e4))
    n = 3000
    counts = dict.fromkeys(Decision, 0)
    for k in rng.binomial(n, p, TRIALS):
        row = judge_live(SUCCESS, ReplicationStats(), alpha=ALPHA,
                         metrics={"huabei_success_rate": k / n, "huabei_checkouts": float(n)})
        counts[row.decision] += 1
    assert counts[wrong] <= allowance(TRIALS, ALPHA)


@pytest.mark.parametrize("q", [0.5, 0.95])
def test_order_statistic_bounds_cover(q: float) -> None:
    rng = np.random.default_rng(int(q * 100))
    n, true = 400, -math.log(1 - q)  # Exp(1) quantile
    j, k = quantile_ranks(n, q, 1 - ALPHA)
    assert j is not None
    assert k is not None
    samples = np.sort(rng.exponential(1.0, (TRIALS, n)), axis=1)
    assert int((samples[:, j - 1] > true).sum()) <= allowance(TRIALS, ALPHA)
    assert int((samples[:, k - 1] < true).sum()) <= allowance(TRIALS, ALPHA)
    assert quantile_ranks(20, 0.99, 0.95) == (quantile_ranks(20, 0.99, 0.95)[0], None)


def test_error_rate_several_gates_bonferroni() -> None:
    rng = np.random.default_rng(11)
    wrong = 0
    gates = [SUCCESS, NETWORK, P95]
    for _ in range(TRIALS // 2):
        data = [Rep(huabei_success_rate=a, failure_rate_network=b, checkout_time_p95=c)
                for a, b, c in zip(rng.normal(0.97, 0.01, 8), rng.normal(0.01, 0.002, 8), rng.normal(45, 5, 8),
                                   strict=True)]
        wrong += judge(data, gates).decision is Decision.NO_GO  # every gate holds, on its threshold
    assert wrong <= allowance(TRIALS // 2, ALPHA)


@pytest.mark.parametrize(("mean", "wrong"), [(0.97, Decision.NO_GO), (0.97 - 1e-6, Decision.GO)])
def test_error_rate_through_the_sequential_procedure(mean: float, wrong: Decision) -> None:
    rng = np.random.default_rng(12)
    counts = dict.fromkeys(Decision, 0)
    trials = 1000
    for _ in range(trials):
        result = judge_sequentially(_normal_source(rng, mean, 0.01), [SUCCESS], initial=5, budget=40, batch=5)
        counts[result.verdict.decision] += 1
    assert counts[wrong] <= allowance(trials, ALPHA)
    assert counts[Decision.INCONCLUSIVE] >= 0.85 * trials


# --------------------------------------------------------------------------- properties


@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=30), st.floats(-0.5, 0.5))
def test_shifting_evidence_up_never_turns_go_into_no_go(values: list[float], shift: float) -> None:
    base = judge_values(SUCCESS, values, alpha=ALPHA)
    moved = judge_values(SUCCESS, [v + abs(shift) for v in values], alpha=ALPHA)
    assert base.lower <= base.observed <= base.upper
    if base.decision is Decision.GO:
        assert moved.decision is Decision.GO
    if moved.decision is Decision.NO_GO:
        assert base.decision is Decision.NO_GO


@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=30))
def test_more_confidence_decides_less(values: list[float]) -> None:
    loose = judge_values(SUCCESS, values, alpha=0.2)
    strict = judge_values(SUCCESS, values, alpha=0.01)
    if strict.decision is not Decision.INCONCLUSIVE:
        assert loose.decision is strict.decision


# --------------------------------------------------------------------------- the on-threshold scenario


def _run(name: str, count: int) -> list[ReplicationStats]:
    from scanrush.run import replicate
    from scanrush.scenario.loader import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / name)
    return [replicate(scenario, i) for i in range(count)]


def test_on_threshold_scenario_is_inconclusive_at_its_replications() -> None:
    from scanrush.scenario.loader import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "on_threshold.yaml")
    verdict = judge(_run("on_threshold.yaml", scenario.replications), scenario.parsed_gates())
    assert verdict.decision is Decision.INCONCLUSIVE, verdict.gates[0].reason


@pytest.mark.slow
def test_on_threshold_scenario_stays_inconclusive_through_a_sequential_budget() -> None:
    from scanrush.run import replicate
    from scanrush.scenario.loader import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "on_threshold.yaml")
    done: list[ReplicationStats] = []

    def run_more(k: int) -> list[ReplicationStats]:
        new = [replicate(scenario, len(done) + i) for i in range(k)]
        done.extend(new)
        return new

    result = judge_sequentially(run_more, scenario.parsed_gates(), initial=scenario.replications, budget=40,
                                batch=10)
    assert result.verdict.decision is Decision.INCONCLUSIVE
    assert len(result.replications) == 40
