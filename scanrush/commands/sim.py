"""``scanrush sim FILE [--against TWIN]``: simulate the promotion, write the result file, print a summary."""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from scanrush.commands.options import non_negative, positive
from scanrush.errors import InputError, InterruptedRun
from scanrush.progress import Progress
from scanrush.results import Metadata, RunResult, compare_runs, content_hash, write_result
from scanrush.run import simulate
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import Scenario
from scanrush.summary import make_console, render_summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="scenario file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a scenario value, e.g. --set gateway.workers=24 (repeatable)")
    parser.add_argument("--against", metavar="TWIN",
                        help="also run TWIN with the same seeds and report paired (CRN) differences twin - FILE")
    parser.add_argument("-n", "--replications", type=positive, help="replications (default: the scenario's)")
    parser.add_argument("--seed", type=non_negative, help="seed (default: the scenario's)")
    parser.add_argument("-j", "--processes", type=positive, help="worker processes (default: one per core)")
    parser.add_argument("-o", "--out", type=Path, help="result file (default: results/<scenario name>.json)")
    parser.add_argument("--trace", type=Path, metavar="DIR",
                        help="write one JSON line per shopper to DIR/trace-repNNNN.jsonl (memory stays flat)")


def run(args: argparse.Namespace) -> int:
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.replications is not None:
        overrides.append(f"replications={args.replications}")
    base = load_scenario(args.file, overrides)
    twin = load_scenario(args.against, overrides) if args.against else None
    if twin is not None and twin.seed != base.seed:
        raise InputError(f"{args.against}: seed {twin.seed} differs from {args.file}'s {base.seed}; "
                         "paired comparison needs common random numbers (pass --seed)")
    console = make_console()
    base_result = _simulate(base, args.file, args)
    results = [base_result]
    if twin is not None and not base_result.interrupted:
        twin_result = _simulate(twin, args.against, args)
        if not twin_result.interrupted and not base_result.interrupted:
            twin_result.comparison = compare_runs(base_result, twin_result)
        results.append(twin_result)
    for result in results:
        path = _write(result, args.out if result is base_result else None)
        render_summary(result, console)
        console.print(f"result: {path}", highlight=False, markup=False, soft_wrap=True)
    if any(result.interrupted for result in results):
        raise InterruptedRun("interrupted; the replications that finished were written")
    return 0


def _simulate(scenario: Scenario, file: str, args: argparse.Namespace) -> RunResult:
    indices = list(range(scenario.replications))
    if args.trace is not None:
        args.trace.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with Progress(len(indices), label=f"{scenario.name}: replications") as progress:
        outcome = simulate(scenario, indices, processes=args.processes, trace_dir=args.trace,
                           on_done=lambda _stats: progress.advance())
    resolved = scenario.model_dump(mode="json", by_alias=True)
    metadata = Metadata.create(
        scenario_name=scenario.name, scenario_path=file,
        scenario_hash=content_hash(json.dumps(resolved, sort_keys=True)),
        scenario=resolved, seed=scenario.seed, replications=len(indices),
    )
    result = RunResult(kind="sim", metadata=metadata, replications=outcome.replications,
                       partial=len(outcome.replications) < len(indices), interrupted=outcome.interrupted)
    result.metadata.versions["wall_seconds"] = f"{time.monotonic() - started:.2f}"
    return result


def _write(result: RunResult, out: Path | None) -> Path:
    if out is None:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", result.metadata.scenario_name).strip("-") or "scenario"
        out = Path("results") / f"{slug}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_result(out, result)
