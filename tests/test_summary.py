"""Console summary (and the progress display that shares its plain/TTY rule)."""

from __future__ import annotations

import dataclasses
import io

import pytest

from scanrush.domain.outcomes import Cause, Outcome
from scanrush.gates import parse_gate
from scanrush.progress import Progress
from scanrush.results import Metadata, ReplicationStats, RunResult, compare_runs
from scanrush.stats.ci import Interval
from scanrush.summary import is_plain, make_console, render_summary, render_verdict, verdict
from scanrush.verdict import Decision, GateVerdict, Verdict

# Per replication: 100 shoppers, 50 Huabei checkouts: 45 paid, failures by cause as below.
FAILURES = [(Outcome.PAID_OTHER_AFTER_FAILURE, Cause.NETWORK)] * 3 + [
    (Outcome.LEFT_UNPAID, Cause.CAPACITY), (Outcome.UNRESOLVED, Cause.NETWORK)]


@pytest.fixture(autouse=True)
def _wide_plain_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain consoles honour COLUMNS (pytest-xdist workers set it to 80); pin the default width."""
    monkeypatch.delenv("COLUMNS", raising=False)


def replication(index: int, *, fixed_network: int = 0) -> ReplicationStats:
    r = ReplicationStats(index=index, seed=[42, index], shoppers=100)
    extra_paid = index % 2  # 45 or 46 paid: a little spread between replications
    failures = FAILURES[fixed_network:] if fixed_network else FAILURES
    for _ in range(45 + extra_paid + fixed_network):
        r.record_outcome(Outcome.PAID_HUABEI)
    for outcome, cause in failures[: len(failures) - extra_paid]:
        r.record_outcome(outcome, cause)
    for _ in range(50 - r.huabei_checkouts() - 10):
        r.record_outcome(Outcome.PAID_OTHER)
    for _ in range(10):
        r.record_outcome(Outcome.ABANDONED_QUEUE)
    for v in (10.0, 20.0, 30.0, 40.0):
        r.checkout_time.record(v + index)
    r.queue_wait.record_n(0.0, 50)
    r.queue_wait.record_n(12.0, 50)
    r.revenue_lost = 1000.0 + index
    r.gateway["utilisation"] = 0.5
    return r


def result(*, fixed_network: int = 0, name: str = "saturday-huabei-promo", n: int = 4) -> RunResult:
    meta = Metadata.create(scenario_name=name, scenario_path="scenarios/saturday.yaml",
                           scenario_hash="sha256:" + "ab" * 32, scenario={}, seed=20261212, replications=n)
    return RunResult(kind="sim", metadata=meta,
                     replications=[replication(i, fixed_network=fixed_network) for i in range(n)])


def render(run: RunResult) -> str:
    out = io.StringIO()
    render_summary(run, make_console(out))
    return out.getvalue()


def test_renders_plain_text_with_the_key_numbers() -> None:
    text = render(result())
    assert "\x1b[" not in text  # no escape codes in a CI log
    for expected in ("saturday-huabei-promo", "20261212", "simulated", "Huabei success rate",
                     "91.00%",  # (45+46+45+46)/4 paid of 50
                     "Checkout time p95", "41.5 s",  # 40 + mean index 1.5
                     "Queue wait (mean)", "6.00 s", "1,001.50", "50.00%", "95% CI", "Pareto",
                     "network", "network improvement", "capacity", "abandoned the queue"):
        assert expected in text, expected
    assert text.index("| network") < text.index("| capacity")  # Pareto: most failures first
    assert "Paired differences" not in text


def test_cis_are_shown_as_brackets() -> None:
    run = result()
    ci = run.aggregate.metrics["huabei_success_rate"]
    text = render(run)
    assert f"[{100 * ci.low:.2f}%, {100 * ci.high:.2f}%]" in text


def test_one_replication_says_there_is_no_ci() -> None:
    text = render(result(n=1))
    assert "n/a (1 replication)" in text


def test_partial_runs_are_flagged() -> None:
    run = result()
    run.partial = run.interrupted = True
    run.metadata = dataclasses.replace(run.metadata, replications=20)
    text = render(run)
    assert "4 of 20" in text
    assert "PARTIAL, INTERRUPTED" in text


def test_comparison_table_says_clearly_better() -> None:
    base, twin = result(), result(fixed_network=3, name="twin")
    twin.comparison = compare_runs(base, twin)
    text = render(twin)
    assert "twin (twin) − base (saturday-huabei-promo)" in text
    line = next(line for line in text.splitlines() if "Huabei success rate" in line and "pp" in line)
    assert "+6.00 pp" in line
    assert "clearly better" in line
    assert "no clear difference" in text  # checkout times are identical
    network = next(line for line in text.splitlines() if "Failure rate: network" in line)
    assert "-6.00 pp" in network
    assert "clearly better" in network


@pytest.mark.parametrize(
    ("name", "low", "high", "expected"),
    [
        ("huabei_success_rate", 0.01, 0.03, "clearly better"),
        ("checkout_time_p95", 1.0, 3.0, "clearly worse"),
        ("checkout_time_p95", -3.0, 1.0, "no clear difference"),
        ("gateway_utilisation", -0.3, -0.1, "clearly lower"),
    ],
)
def test_verdict(name: str, low: float, high: float, expected: str) -> None:
    mid = (low + high) / 2
    assert verdict(name, Interval(mid, low, high, (high - low) / 2, 10, 0.95, "paired t")) == expected


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_is_plain_in_ci_or_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert is_plain(io.StringIO())
    assert not is_plain(FakeTTY())
    assert make_console(FakeTTY()).color_system is not None
    monkeypatch.setenv("CI", "true")
    assert is_plain(FakeTTY())
    console = make_console(FakeTTY())
    assert console.color_system is None
    assert not console.is_terminal
    monkeypatch.setenv("CI", "false")
    assert not is_plain(FakeTTY())


# -- progress ----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_plain_lines_are_throttled() -> None:
    out, clock = io.StringIO(), Clock()
    with Progress(20, stream=out, plain=True, interval=2.0, clock=clock) as progress:
        for _ in range(4):
            clock.now += 0.4
            progress.advance()
        clock.now += 1.5
        progress.advance()  # 3.1 s after start, 3.1 s since the first line
        clock.now += 0.5
        progress.advance(15)
    lines = out.getvalue().splitlines()
    assert lines == [
        "replications 0/20 elapsed 0.0s eta ?",
        "replications 5/20 elapsed 3.1s eta 9.3s",
        "replications 20/20 elapsed 3.6s eta 0.0s",
    ]


def test_progress_prints_the_final_count_on_exit() -> None:
    out, clock = io.StringIO(), Clock()
    with Progress(10, stream=out, plain=True, clock=clock) as progress:
        clock.now += 0.1
        progress.advance(3)  # interrupted after 3
    assert out.getvalue().splitlines()[-1] == "replications 3/10 elapsed 0.1s eta 0.2s"


def test_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    out = FakeTTY()
    with Progress(3, stream=out) as progress:
        progress.advance(3)
    assert "3/3" in out.getvalue()


# -- verdict -------------------------------------------------------------------------------


def _verdict() -> Verdict:
    rows = (
        GateVerdict(parse_gate("huabei_success_rate >= 97%"), "sim", Decision.NO_GO, 0.8, 0.78, 0.82, 0.975, 4,
                    "t", "fails"),
        GateVerdict(parse_gate("checkout_time_p95 <= 3m"), "sim", Decision.GO, 90.0, 85.0, 95.0, 0.975, 4, "t",
                    "holds"),
        GateVerdict(parse_gate("double_charges == 0"), "live", Decision.INCONCLUSIVE, 0.0, 0.0, 0.0, 1.0, 1,
                    "exact", "saturated"),
    )
    return Verdict(Decision.NO_GO, rows, 0.95, 4, notes=("one gate fails",))


def test_verdict_lines_have_marks_values_and_the_decision() -> None:
    out = io.StringIO()
    render_verdict(_verdict(), make_console(out))
    text = out.getvalue()
    assert "\x1b[" not in text
    line = next(line for line in text.splitlines() if "huabei_success_rate" in line)
    assert "✗" in line
    assert "80.00%" in line
    assert "78.00%" in line
    assert "✓" in next(line for line in text.splitlines() if "checkout_time_p95" in line)
    assert "95.0 s" in text
    assert "?" in next(line for line in text.splitlines() if "double_charges" in line)
    assert "decision: NO-GO" in text
    assert "one gate fails" in text


def test_verdict_marks_fall_back_to_words_on_an_ascii_console() -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    render_verdict(_verdict(), make_console(out))
    out.flush()
    text = out.buffer.getvalue().decode("ascii")  # type: ignore[attr-defined]
    assert "FAIL" in text
    assert "PASS" in text
    assert "✗" not in text


def test_no_verdict_prints_the_note() -> None:
    out = io.StringIO()
    render_verdict(None, make_console(out), note="The scenario declares no gates.")
    assert out.getvalue().strip() == "The scenario declares no gates."
