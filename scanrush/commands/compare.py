"""``scanrush compare A B``: two result files side by side, B − A with CIs; ``--fail-on-regression`` gates CI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich import box
from rich.table import Table

from scanrush.capacity import format as fmt
from scanrush.capacity.compare import CAUSE_METRICS, RunComparison, compare, parse_thresholds
from scanrush.capacity.runs import KEY_METRICS
from scanrush.results import read_result, write_json_atomic
from scanrush.summary import make_console


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", help="result file (before; the reference)")
    parser.add_argument("b", metavar="B", help="result file (after; compared with A)")
    parser.add_argument("--threshold", action="append", default=[], metavar="[METRIC=]VALUE",
                        help="noise threshold: 0.5pp (rate metrics, the default), or per metric, e.g. "
                             "checkout_time_p95=5s or revenue=2%% (of A); repeatable")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence of the intervals (default 0.95)")
    parser.add_argument("--fail-on-regression", action="store_true",
                        help="exit 1 if B is worse than A beyond the threshold at the stated confidence")
    parser.add_argument("--all", action="store_true", help="show every metric, not only the key ones")
    parser.add_argument("-o", "--out", type=Path, help="also write the comparison as JSON")


def run(args: argparse.Namespace) -> int:
    rate, per_metric = parse_thresholds(args.threshold)
    a, b = read_result(args.a), read_result(args.b)
    result = compare(a, b, confidence=args.confidence, rate_threshold=rate, thresholds=per_metric)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    console = make_console()
    console.print(f"A: {args.a} ({a.metadata.scenario_name}, {a.kind}, {len(a.replications)} replications)")
    console.print(f"B: {args.b} ({b.metadata.scenario_name}, {b.kind}, {len(b.replications)} replications)")
    console.print(_method_line(result))
    shown = [r.metric for r in result.rows] if args.all else list(KEY_METRICS)
    console.print(_table("Key metrics", result, [m for m in shown if m not in CAUSE_METRICS]))
    console.print(_table("Failed Huabei checkouts by cause (share of Huabei checkouts)", result, list(CAUSE_METRICS)))
    if args.out is not None:
        console.print(f"comparison: {write_json_atomic(args.out, result.to_dict())}")
    regressions = result.regressions
    if regressions:
        console.print("regressions (B worse than A beyond the threshold): "
                      + ", ".join(r.metric for r in regressions))
    return 1 if args.fail_on_regression and regressions else 0


def _method_line(result: RunComparison) -> str:
    if result.method == "paired":
        return (f"B − A: paired t-intervals over {result.paired} replications with common random numbers "
                f"({result.confidence:.0%})")
    return f"B − A: Welch intervals, independent samples ({result.confidence:.0%})"


def _table(title: str, result: RunComparison, metrics: list[str]) -> Table:
    table = Table(title=title, box=box.ASCII, title_justify="left")
    for column in ("metric", "A", "B", "B − A", "noise", "verdict"):
        table.add_column(column, justify="left" if column in ("metric", "verdict") else "right")
    names = {r.metric for r in result.rows}
    for metric in metrics:
        if metric not in names:
            continue
        row = result.row(metric)
        table.add_row(metric, fmt.interval(metric, row.a), fmt.interval(metric, row.b),
                      fmt.interval(metric, row.difference, diff=True),
                      fmt.difference(metric, row.threshold).lstrip("+") if row.direction else "-", row.verdict)
    return table
