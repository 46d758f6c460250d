"""``scanrush plan FILE --find PATH --range LO..HI``: the smallest value that makes every gate GO."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from scanrush.capacity import format as fmt
from scanrush.capacity.cli import add_run_options, default_out, load_base
from scanrush.capacity.executor import Executor, make_executor
from scanrush.capacity.grid import Point, load_points
from scanrush.capacity.plan import Interrupted, Plan, Probe, bisect, value_grid
from scanrush.capacity.runs import run_configurations
from scanrush.capacity.verdicts import Judge, real_judge, scenario_gates
from scanrush.errors import InputError
from scanrush.gates import Gate
from scanrush.results import write_json_atomic
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import Scenario
from scanrush.summary import make_console
from scanrush.verdict import GateVerdict


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser)
    parser.add_argument("--find", required=True, metavar="PATH",
                        help="the parameter to size, e.g. gateway.workers (more must never hurt)")
    parser.add_argument("--range", required=True, metavar="LO..HI", help="values to search, e.g. 8..64")
    parser.add_argument("--step", metavar="S", help="grid step (default 1; needed for fractional ranges)")
    parser.add_argument("--confidence", type=float, default=0.95, help="family confidence of the gates (0.95)")
    parser.add_argument("-o", "--out", type=Path, help="evidence JSON (default: results/<scenario name>-plan.json)")


def run(args: argparse.Namespace) -> int:
    judge: Judge = real_judge  # a module global, looked up now: tests stand in for the verdict
    executor = make_executor(args.executor, args.processes)
    values = value_grid(args.range, args.step)
    base, overrides = load_base(args)
    gates = scenario_gates(base, args.file)
    if not gates:
        raise InputError(f"{args.file}: the scenario has no gates, so there is nothing to plan for "
                         "(add e.g. gates: ['huabei_success_rate >= 96%'])")
    ends = [Point(i, ((args.find, str(v)),)) for i, v in enumerate({values[0], values[-1]})]
    load_points(args.file, overrides, ends)  # a bad path or value exits 2 before any replication runs
    console = make_console()
    console.print(f"plan {base.name}: smallest {args.find} in {values[0]}..{values[-1]} ({len(values)} values) "
                  f"with every gate GO; {base.replications} replications per probe, seed {base.seed}")
    plan = bisect(values, lambda value: _probe(args, overrides, gates, executor=executor, judge=judge, value=value))
    for probe in plan.probes:
        console.print(_line(args.find, probe))
    console.print(_table(plan))
    out = write_json_atomic(default_out(base, "plan", args.out), _document(args, base, values, plan))
    _conclude(console, args.find, plan)
    console.print(f"evidence: {out}")
    return plan.exit_code


def _probe(args: argparse.Namespace, overrides: list[str], gates: list[Gate], *, executor: Executor,
           judge: Judge, value: int | float) -> Probe:
    scenario = load_scenario(args.file, [*overrides, f"{args.find}={value}"])
    results, interrupted = run_configurations({str(value): scenario}, args.file, scenario.replications, executor,
                                              label=f"{args.find}={value}")
    if interrupted:
        raise Interrupted
    result = results[str(value)]
    return Probe(value, judge(result, gates, args.confidence), len(result.replications))


def _line(path: str, probe: Probe) -> str:
    return f"  {path}={probe.value}: {probe.verdict.decision.value}"


def _bound(row: GateVerdict) -> str:
    bound = row.lower if row.gate.op in (">=", ">") else row.upper
    return fmt.value(row.gate.metric, bound)


def _table(plan: Plan) -> Table:
    table = Table(title="Evidence: each probe, and each gate's deciding bound", box=box.ASCII,
                  title_justify="left")
    table.add_column("value", justify="right")
    table.add_column("decision")
    gates = [g.gate for g in plan.probes[0].verdict.gates] if plan.probes else []
    for gate in gates:
        table.add_column(gate.text, justify="right")
    for probe in sorted(plan.probes, key=lambda p: p.value):
        cells = [str(probe.value), probe.verdict.decision.value]
        for row in probe.verdict.gates:
            cells.append(f"{fmt.value(row.gate.metric, row.observed)} (bound {_bound(row)}) {row.decision.value}")
        table.add_row(*cells)
    return table


def _conclude(console: Console, path: str, plan: Plan) -> None:
    if plan.status == "found":
        console.print(f"answer: {path}={plan.answer} is the smallest value with every gate GO")
    elif plan.status == "not-found":
        console.print("no answer: even the top of the range is NO-GO; widen --range")
    elif plan.status == "inconclusive":
        console.print("inconclusive: the top of the range is neither GO nor NO-GO; add replications (-n)")
    else:
        console.print("interrupted: the probes so far are written")
    for note in plan.notes:
        console.print(f"note: {note}")


def _document(args: argparse.Namespace, base: Scenario, values: list[int] | list[float],
              plan: Plan) -> dict[str, object]:
    return {"format": "scanrush-plan", "version": 1, "scenario": base.name, "scenario_path": args.file,
            "find": args.find, "range": [values[0], values[-1]], "step": args.step or 1, "seed": base.seed,
            "replications": base.replications, "confidence": args.confidence, "status": plan.status,
            "answer": plan.answer, "notes": plan.notes, "probes": [p.to_dict() for p in plan.probes]}
