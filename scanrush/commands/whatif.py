"""``scanrush whatif FILE``: each failure cause's remediation alone and all together, ranked by the gain.

Every configuration runs the same replications with the same seed (common random numbers), so
each gain is a paired difference against the unchanged scenario.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from scanrush.capacity import format as fmt
from scanrush.capacity.cli import add_run_options, chart_dir, default_out, load_base
from scanrush.capacity.executor import make_executor
from scanrush.capacity.runs import interval_json, run_configurations
from scanrush.capacity.whatif import Remediation, all_together, remediations
from scanrush.commands.options import positive
from scanrush.errors import InterruptedRun
from scanrush.results import RunResult, compare_runs, write_json_atomic
from scanrush.scenario.loader import load_scenario
from scanrush.summary import make_console

BASELINE = "baseline"
GAIN = "huabei_success_rate"
ALSO = ("checkout_time_p95", "abandonment_rate")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser)
    parser.add_argument("--workers", type=positive, metavar="N",
                        help="capacity remediation: gateway workers to try (default: double the scenario's)")
    parser.add_argument("-o", "--out", type=Path, help="what-if JSON (default: results/<scenario name>-whatif.json)")
    parser.add_argument("--charts", type=Path, metavar="DIR", help="chart folder (default: next to the JSON)")
    parser.add_argument("--no-charts", action="store_true", help="write the JSON only")


def run(args: argparse.Namespace) -> int:
    executor = make_executor(args.executor, args.processes)
    base, overrides = load_base(args)
    found, notes = remediations(base, workers=args.workers)
    variants = [*found, all_together(found)] if len(found) > 1 else found
    configs = {BASELINE: base}
    configs.update({v.cause: load_scenario(args.file, [*overrides, *v.overrides]) for v in variants})
    console = make_console()
    console.print(f"whatif {base.name}: {len(found)} remediations alone and together, and the baseline, "
                  f"× {base.replications} replications (seed {base.seed}, common random numbers)")
    results, interrupted = run_configurations(configs, args.file, base.replications, executor,
                                              label=f"{base.name}: what-if replications")
    if interrupted or not results[BASELINE].replications:
        raise InterruptedRun("interrupted before every configuration finished; nothing was written")
    rows = sorted((_row(v, results[BASELINE], results[v.cause]) for v in variants),
                  key=lambda r: (r["cause"] == "all", -_finite(r["gain"]["estimate"])))
    document = {"format": "scanrush-whatif", "version": 1, "scenario": base.name, "scenario_path": args.file,
                "seed": base.seed, "replications": base.replications, "base_overrides": overrides,
                "baseline": {m: interval_json(results[BASELINE].aggregate.metrics[m]) for m in (GAIN, *ALSO)},
                "remediations": rows, "notes": notes}
    out = write_json_atomic(default_out(base, "whatif", args.out), document)
    console.print(_table(results[BASELINE], rows))
    for note in notes:
        console.print(f"note: {note}")
    console.print(f"what-if: {out}")
    if not args.no_charts and rows:
        from reports.capacity_charts import tornado_chart

        chart = tornado_chart(rows, f"{base.name}: gain of each remediation ({base.replications} paired reps)",
                              chart_dir(out, args.charts) / "tornado.png")
        console.print(f"chart: {chart}")
    return 0


def _finite(x: float) -> float:
    return x if math.isfinite(x) else -math.inf


def _row(remedy: Remediation, baseline: RunResult, changed: RunResult) -> dict[str, Any]:
    paired = compare_runs(baseline, changed)
    cause_metric = f"failure_rate_{remedy.cause}"
    return {
        "cause": remedy.cause,
        "label": remedy.label,
        "overrides": list(remedy.overrides),
        "gain": interval_json(paired.differences[GAIN]),
        "success_rate": interval_json(changed.aggregate.metrics[GAIN]),
        "differences": {m: interval_json(paired.differences[m]) for m in (*ALSO, cause_metric)
                        if m in paired.differences},
    }


def _table(baseline: RunResult, rows: list[dict[str, Any]]) -> Table:
    start = baseline.aggregate.metrics[GAIN]
    table = Table(title=f"Ranked by gain in Huabei success rate (baseline {fmt.interval(GAIN, start)}), "
                        "paired 95% CIs", box=box.ASCII, title_justify="left")
    for column in ("remediation", "success rate", "gain", "own cause", "checkout p95"):
        table.add_column(column, justify="left" if column == "remediation" else "right")
    for row in rows:
        diffs = row["differences"]
        own = diffs.get(f"failure_rate_{row['cause']}")
        table.add_row(row["label"], _show(GAIN, row["success_rate"]), _show(GAIN, row["gain"], diff=True),
                      _show(f"failure_rate_{row['cause']}", own, diff=True) if own else "-",
                      _show("checkout_time_p95", diffs["checkout_time_p95"], diff=True))
    return table


def _show(metric: str, data: dict[str, Any], *, diff: bool = False) -> str:
    from scanrush.stats.ci import Interval

    ci = Interval(data["estimate"], data["low"], data["high"], data["half_width"], data["n"], 0.95, data["method"])
    return fmt.interval(metric, ci, diff=diff)
