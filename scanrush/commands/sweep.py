"""``scanrush sweep FILE --vary PATH=V1,V2,...``: a grid of ``--set`` values, every point with the same seeds."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from scanrush.capacity import format as fmt
from scanrush.capacity.cli import add_run_options, chart_dir, default_out, describe, load_base
from scanrush.capacity.executor import make_executor
from scanrush.capacity.grid import grid, load_points, parse_axis
from scanrush.capacity.runs import run_configurations
from scanrush.capacity.sweep import CHART_METRICS, point_entry, sweep_document
from scanrush.capacity.verdicts import Judge, real_judge, scenario_gates
from scanrush.errors import InterruptedRun
from scanrush.results import RunResult, write_json_atomic
from scanrush.scenario.schema import Scenario
from scanrush.stats.ci import Interval
from scanrush.summary import make_console


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser)
    parser.add_argument("--vary", action="append", required=True, metavar="PATH=V1,V2,...",
                        help="a parameter and its values: gateway.workers=8,12,16 or gateway.workers=6..25[:STEP]; "
                             "repeat for a grid")
    parser.add_argument("-o", "--out", type=Path, help="sweep JSON (default: results/<scenario name>-sweep.json)")
    parser.add_argument("--charts", type=Path, metavar="DIR", help="chart folder (default: next to the JSON)")
    parser.add_argument("--no-charts", action="store_true", help="write the JSON only")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence of the gate decisions")


def run(args: argparse.Namespace) -> int:
    judge: Judge = real_judge  # a module global, looked up now: tests stand in for the verdict
    executor = make_executor(args.executor, args.processes)  # exit 3 before any work if Dask is missing
    axes = [parse_axis(text) for text in args.vary]
    base, overrides = load_base(args)
    points = grid(axes)
    scenarios = load_points(args.file, overrides, points)
    gates = scenario_gates(base, args.file)
    console = make_console()
    console.print(f"sweep {base.name}: {len(points)} points × {base.replications} replications "
                  f"(seed {base.seed}, common random numbers), executor {executor.name}")
    for axis in axes:
        console.print(f"  {axis.path} = {describe(axis.values)}")
    started = time.monotonic()
    configs = {str(p.index): s for p, s in zip(points, scenarios, strict=True)}
    results, interrupted = run_configurations(configs, args.file, base.replications, executor,
                                              label=f"{base.name}: sweep replications")
    entries = [point_entry(p, results[str(p.index)], _decision(results[str(p.index)], s, gates, judge, args))
               for p, s in zip(points, scenarios, strict=True) if results[str(p.index)].replications]
    document = sweep_document(scenario_name=base.name, scenario_path=args.file, seed=base.seed,
                              replications=base.replications, base_overrides=overrides, axes=axes,
                              executor=executor.name, points=entries, interrupted=interrupted,
                              wall_seconds=time.monotonic() - started)
    out = write_json_atomic(default_out(base, "sweep", args.out), document)
    console.print(_table(entries, [a.path for a in axes]))
    console.print(f"sweep: {out}")
    if not args.no_charts and entries:
        from reports.capacity_charts import sweep_charts

        charts = sweep_charts(document, chart_dir(out, args.charts), CHART_METRICS)
        console.print(f"charts: {len(charts)} in {chart_dir(out, args.charts)}")
    if interrupted:
        raise InterruptedRun("interrupted; the points that finished were written")
    return 0


def _decision(result: RunResult, scenario: Scenario, gates: list[Any], judge: Judge,
              args: argparse.Namespace) -> str | None:
    # Gates come from the base file; a --vary of `gates` itself is not supported (nor useful).
    if not gates or not result.replications:
        return None
    return str(judge(result, gates, args.confidence).decision.value)


def _table(entries: list[dict[str, Any]], paths: list[str]) -> Table:
    table = Table(box=box.ASCII)
    for path in paths:
        table.add_column(path, justify="right")
    for metric in CHART_METRICS:
        table.add_column(metric, justify="right")
    table.add_column("gates")
    for entry in entries:
        cells = [entry["settings"][path] for path in paths]
        for metric in CHART_METRICS:
            ci = entry["metrics"][metric]
            cells.append(fmt.interval(metric, _interval(ci)))
        cells.append(entry["decision"] or "-")
        table.add_row(*cells)
    return table


def _interval(data: dict[str, Any]) -> Interval:
    return Interval(data["estimate"], data["low"], data["high"], data["half_width"], data["n"], 0.95, data["method"])
