"""The console summary of a result file: what a QA engineer or a CI log reads first.

Everything here is derived from a ``RunResult`` (and so from the one result
file).  On a terminal it uses colour and rounded tables; in CI logs or when
piped it prints plain ASCII tables with no escape codes.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from rich import box
from rich.console import Console
from rich.table import Table

from scanrush.domain.outcomes import CAUSES, OUTCOMES
from scanrush.results import RunResult, metric_direction
from scanrush.stats.ci import Interval

if TYPE_CHECKING:  # the verdict module imports results; keep the summary's import light
    from scanrush.verdict import Verdict

KEY_METRICS: tuple[tuple[str, str], ...] = (
    ("huabei_success_rate", "Huabei success rate"),
    ("abandonment_rate", "Abandoned the queue"),
    ("checkout_time_p50", "Checkout time p50"),
    ("checkout_time_p95", "Checkout time p95"),
    ("checkout_time_p99", "Checkout time p99"),
    ("queue_wait_mean", "Queue wait (mean)"),
    ("revenue_lost", "Revenue lost / replication"),
    ("unresolved", "Unresolved trades / replication"),
    ("double_charges", "Double charges / replication"),
    ("gateway_utilisation", "Gateway utilisation"),
)
"""(metric, label) rows of the key-metrics table, in the order a release manager reads them."""

CAUSE_FIXES = {
    "firmware": "firmware upgrade",
    "merchant": "merchant certification",
    "credit": "shopper side: fall back to another method",
    "network": "network improvement",
    "risk": "pre-register the promotion with the platform",
    "capacity": "gateway capacity, rate limits",
}
"""What fixes each cause (DESIGN.md, 'Where a Huabei scan payment fails')."""

OUTCOME_LABELS = {
    "paid_huabei": "paid with Huabei",
    "paid_other_after_failure": "paid another way after a Huabei failure",
    "left_unpaid": "left without paying",
    "unresolved": "unresolved (manual reconciliation)",
    "abandoned_queue": "abandoned the queue",
    "paid_other": "paid another way (never tried Huabei)",
}


# --------------------------------------------------------------------------------------------
# Consoles
# --------------------------------------------------------------------------------------------


def in_ci() -> bool:
    """The ``CI`` environment variable is set to something other than empty/0/false."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def is_plain(stream: TextIO | None = None) -> bool:
    """Plain output (no colour, no live redraws) for CI and for anything that is not a TTY."""
    if in_ci():
        return True
    target = stream if stream is not None else sys.stdout
    try:
        return not target.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return True


def make_console(file: TextIO | None = None, *, stderr: bool = False) -> Console:
    """A rich Console for ``file`` (default stdout, or stderr): colour on a TTY, plain text otherwise."""
    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    if not is_plain(stream):
        return Console(file=file, stderr=stderr, highlight=False)
    return Console(
        file=file,
        stderr=stderr,
        color_system=None,
        no_color=True,
        force_terminal=False,
        force_interactive=False,
        highlight=False,
        emoji=False,
        width=_plain_width(),
    )


def _plain_width() -> int:
    # rich falls back to 80 columns off a terminal, which wraps the cause table in CI logs.
    try:
        return max(80, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return 120


# --------------------------------------------------------------------------------------------
# The summary
# --------------------------------------------------------------------------------------------


def render_summary(result: RunResult, console: Console) -> None:
    """Print the header, key metrics, cause Pareto, outcomes and (if any) the paired comparison."""
    plain = console.no_color or not console.is_terminal
    table_box = box.ASCII if plain else box.ROUNDED
    console.print(_header(result))
    console.print(_key_metrics(result, table_box))
    console.print(_causes(result, table_box))
    console.print(_outcomes(result, table_box))
    if result.comparison is not None:
        console.print(_comparison(result, table_box))


def _header(result: RunResult) -> Table:
    meta = result.metadata
    done = len(result.replications)
    replications = f"{done} of {meta.replications}" if done != meta.replications else str(done)
    flags = [f for f, on in (("PARTIAL", result.partial), ("INTERRUPTED", result.interrupted)) if on]
    if flags:
        replications += f"  [{', '.join(flags)}: only finished replications are counted]"
    versions = ", ".join(f"{k} {v}" for k, v in meta.versions.items() if k != "platform")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("scanrush result", f"{meta.scenario_name} ({result.kind} run)")
    grid.add_row("scenario", f"{meta.scenario_path}  {meta.scenario_hash[:19]}")
    grid.add_row("seed", str(meta.seed))
    grid.add_row("replications", replications)
    grid.add_row("mechanism", result.mechanism)
    grid.add_row("created", f"{meta.created}  ({versions})")
    return grid


def _key_metrics(result: RunResult, table_box: box.Box) -> Table:
    aggregate = result.aggregate
    level = _level(aggregate.confidence)
    title = f"Key metrics (mean over {_replications(aggregate.n)}, {level} CI)"
    table = Table(title=title, box=table_box)
    table.add_column("metric")
    table.add_column("estimate", justify="right")
    table.add_column(f"{level} CI", justify="right")
    for name, label in KEY_METRICS:
        interval = aggregate.metrics.get(name)
        if interval is None:
            continue
        fmt = formatter(name)
        table.add_row(label, fmt(interval.estimate), _ci(interval, fmt))
    return table


def _causes(result: RunResult, table_box: box.Box) -> Table:
    aggregate = result.aggregate
    level = _level(aggregate.confidence)
    failures = sum(aggregate.cause_totals.values())
    checkouts = int(aggregate.totals.get("huabei_checkouts", 0))
    title = f"Why Huabei checkouts failed: {failures:,} of {checkouts:,} (Pareto)"
    table = Table(title=title, box=table_box)
    for header in ("cause", "failed", "of Huabei checkouts", f"{level} CI", "cum. share", "fix"):
        table.add_column(header, justify="left" if header in ("cause", "fix") else "right")
    ranked = sorted(((n, c) for c, n in aggregate.cause_totals.items() if n > 0), key=lambda t: (-t[0], t[1]))
    cumulative = 0
    for count, cause in ranked:
        cumulative += count
        rate = aggregate.cause_rates.get(cause) or aggregate.metrics.get(f"failure_rate_{cause}")
        share = _pct(rate.estimate) if rate else "n/a"
        table.add_row(cause, f"{count:,}", share, _ci(rate, _pct) if rate else "", _pct(cumulative / failures),
                      CAUSE_FIXES.get(cause, ""))
    if not ranked:
        table.add_row("(none)", "0", "", "", "", "")
    return table


def _outcomes(result: RunResult, table_box: box.Box) -> Table:
    aggregate = result.aggregate
    level = _level(aggregate.confidence)
    table = Table(title=f"How {int(aggregate.totals.get('shoppers', 0)):,} shoppers' visits ended", box=table_box)
    for header in ("outcome", "shoppers", "share", f"{level} CI"):
        table.add_column(header, justify="left" if header == "outcome" else "right")
    known = [o.value for o in OUTCOMES]
    names = known + sorted(set(aggregate.outcome_totals) - set(known))
    for name in names:
        share = aggregate.outcome_shares.get(name) or aggregate.metrics.get(f"outcome_share_{name}")
        table.add_row(OUTCOME_LABELS.get(name, name), f"{aggregate.outcome_totals.get(name, 0):,}",
                      _pct(share.estimate) if share else "n/a", _ci(share, _pct) if share else "")
    return table


def _comparison(result: RunResult, table_box: box.Box) -> Table:
    comparison = result.comparison
    assert comparison is not None
    level = _level(comparison.confidence)
    title = (f"Paired differences: twin ({comparison.twin_scenario}) − base ({comparison.base_scenario}), "
             f"same seeds, {level} CI")
    table = Table(title=title, box=table_box)
    for header in ("metric", "twin − base", f"{level} CI", "verdict"):
        table.add_column(header, justify="left" if header in ("metric", "verdict") else "right")
    rows = [*KEY_METRICS, *((f"failure_rate_{c.value}", f"Failure rate: {c.value}") for c in CAUSES)]
    for name, label in rows:
        diff = comparison.differences.get(name)
        if diff is None:
            continue
        fmt = formatter(name, signed=True)
        table.add_row(label, fmt(diff.estimate), _ci(diff, fmt), verdict(name, diff))
    return table


def verdict(name: str, difference: Interval) -> str:
    """'clearly better'/'clearly worse' when the paired interval of twin − base excludes 0."""
    if not difference.finite:
        return "n/a (too few replications)"
    if not difference.excludes_zero():
        return "no clear difference"
    direction = metric_direction(name)
    higher = difference.estimate > 0
    if direction == 0:
        return "clearly higher" if higher else "clearly lower"
    return "clearly better" if higher == (direction > 0) else "clearly worse"


# --------------------------------------------------------------------------------------------
# Number formatting
# --------------------------------------------------------------------------------------------

Formatter = Callable[[float], str]
_PERCENT_PREFIXES = ("failure_rate_", "outcome_share_")


def formatter(metric: str, *, signed: bool = False) -> Formatter:
    """How to show a metric's values: percentages, seconds, money or counts."""
    if metric.endswith(("_rate", "_fraction", "_utilisation")) or metric.startswith(_PERCENT_PREFIXES):
        return _pp if signed else _pct
    if metric.startswith(("checkout_time_", "queue_wait_", "payment_latency_")):
        return lambda v: _seconds(v, signed)
    return lambda v: _number(v, signed, 2)


def _finite_or(text: Callable[[float], str]) -> Formatter:
    def show(value: float) -> str:
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        return text(value)

    return show


_pct = _finite_or(lambda v: f"{100 * v:.2f}%")
_pp = _finite_or(lambda v: f"{100 * v:+.2f} pp")


def _seconds(value: float, signed: bool) -> str:
    def text(v: float) -> str:
        size = abs(v)
        digits = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 1 else 3
        return f"{v:+.{digits}f} s" if signed else f"{v:.{digits}f} s"

    return _finite_or(text)(value)


def _number(value: float, signed: bool, digits: int) -> str:
    return _finite_or(lambda v: f"{v:+,.{digits}f}" if signed else f"{v:,.{digits}f}")(value)


def _ci(interval: Interval, fmt: Formatter) -> str:
    if interval.n < 2:
        return f"n/a ({_replications(interval.n)})"
    if not interval.finite:
        return "n/a"
    return f"[{fmt(interval.low)}, {fmt(interval.high)}]"


def _replications(n: int) -> str:
    return f"{n} replication{'' if n == 1 else 's'}"


def _level(confidence: float) -> str:
    return f"{100 * confidence:g}%"


# --------------------------------------------------------------------------------------------
# The verdict
# --------------------------------------------------------------------------------------------

_MARKS = {"GO": "✓", "NO-GO": "✗", "INCONCLUSIVE": "?"}
_ASCII_MARKS = {"GO": "PASS", "NO-GO": "FAIL", "INCONCLUSIVE": "????"}
_STYLES = {"GO": "green", "NO-GO": "red", "INCONCLUSIVE": "yellow"}


def render_verdict(verdict: Verdict | None, console: Console, *, note: str | None = None) -> None:
    """k6-style gate lines: ✓/✗/? per gate with observed value, bound and threshold; then the decision.

    ✓/✗ are plain characters, so they stay in CI logs; a console whose encoding cannot show them
    gets PASS/FAIL instead.
    """
    if verdict is None:
        if note:
            console.print(note, markup=False, highlight=False)
        return
    marks = _MARKS if _can_encode(console, "✓✗") else _ASCII_MARKS
    plain = console.no_color or not console.is_terminal
    title = f"Gates ({_level(verdict.confidence)} family confidence)"
    table = Table(title=title, box=box.ASCII if plain else box.ROUNDED)
    for header in ("", "gate", "evidence", "observed", "bound", "n", "reason"):
        table.add_column(header, justify="right" if header in ("observed", "bound", "n") else "left")
    for row in verdict.gates:
        decision = row.decision.value
        fmt = formatter(row.gate.metric.split("[", 1)[0])
        table.add_row(f"[{_STYLES[decision]}]{marks[decision]}[/]", row.gate.name, row.evidence, fmt(row.observed),
                      fmt(row.bound), str(row.n), row.reason)
    console.print(table)
    console.print(f"decision: [bold {_STYLES[verdict.decision.value]}]{verdict.decision.value}[/]")
    for line in verdict.notes:
        console.print(f"  {line}", markup=False)


def _can_encode(console: Console, text: str) -> bool:
    try:
        text.encode(console.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
