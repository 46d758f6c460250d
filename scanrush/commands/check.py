"""``scanrush check FILE``: GO / NO-GO / INCONCLUSIVE on the scenario's gates, with the exit code to match.

The evidence is the live window (unless ``--sim-only``) and simulated replications added
sequentially: an initial batch, then more batches up to ``--max-replications`` while a
simulated gate is undecided, with the error budget split over every planned look
(scanrush.verdict.judge_sequentially).  The live window runs first because it cannot be
extended: the simulated looks are then judged together with it.

Everything lands in one folder: ``result.json`` (the simulated replications, the live
window nested in it, and the verdict), the HTML report, PNG charts, JUnit XML and CSV.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from scanrush.commands.options import confidence_level, positive
from scanrush.errors import InfrastructureError, InputError, InterruptedRun
from scanrush.gates import Gate
from scanrush.progress import Progress
from scanrush.results import Metadata, ReplicationStats, RunResult, content_hash, write_result
from scanrush.run import simulate
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import Scenario
from scanrush.summary import make_console, render_summary
from scanrush.units import parse_duration
from scanrush.verdict import Decision, Verdict, judge, judge_sequentially, load_generator_saturated

DEFAULT_BUDGET_FACTOR = 3
"""Without ``--max-replications``, sequential looks may run up to this many times the initial batch."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="scenario file (its gates are what is checked)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a scenario value (repeatable)")
    parser.add_argument("--sim-only", action="store_true",
                        help="judge on simulated replications alone (no live window)")
    parser.add_argument("--confidence", type=confidence_level, default=0.95,
                        help="family confidence over all gates (Bonferroni), default 0.95")
    parser.add_argument("-n", "--replications", type=positive, metavar="N",
                        help="initial simulated replications (default: the scenario's)")
    parser.add_argument("--max-replications", type=positive, metavar="N",
                        help=f"budget for sequential replications (default {DEFAULT_BUDGET_FACTOR}x the initial)")
    parser.add_argument("--batch", type=positive, metavar="N",
                        help="replications added per sequential look (default: the initial number)")
    parser.add_argument("--seed", type=int, help="seed (default: the scenario's)")
    parser.add_argument("-j", "--jobs", type=positive, metavar="N",
                        help="simulation processes (default: one per core)")
    parser.add_argument("-o", "--out", type=Path, metavar="DIR",
                        help="folder for result.json and the report (default: results/<scenario>-check)")
    parser.add_argument("--format", default="html,png,junit,csv",
                        help="report files to write: any of html,png,junit,csv (default: all)")
    live = parser.add_argument_group("the live window (see `scanrush load --help`)")
    live.add_argument("--window", metavar="START..END", help="part of the promotion to run live, e.g. 1h..1h3m")
    live.add_argument("--terminals", type=positive, metavar="N", help="run only N tills (whole stores)")
    live.add_argument("--compression", type=float, metavar="C", help="time compression of arrivals (default 1)")
    live.add_argument("--toxiproxy-url", default=os.environ.get("TOXIPROXY_URL"), metavar="URL",
                      help="use this toxiproxy-server instead of the embedded one (env TOXIPROXY_URL)")
    live.add_argument("--processes", type=positive, default=1, metavar="N", help="load-generator processes")
    live.add_argument("--packet-loss", choices=("auto", "nftables", "toxics", "off"), default="auto",
                      help="how zone packet loss is realised (default auto)")
    live.add_argument("--drain", type=parse_duration, default=120.0, metavar="DURATION",
                      help="time for shoppers still at the tills after the window (default 2m)")


def run(args: argparse.Namespace) -> int:
    window = _window(args.window) if args.window else None
    scenario, overrides = _scenario(args, window)
    gates = _gates(scenario, args.file)
    initial, budget, batch = _budget(scenario, args)
    from reports.build import parse_formats

    try:
        formats = parse_formats(args.format)
    except ValueError as exc:
        raise InputError(f"--format: {exc}") from None
    if not args.sim_only:
        reexec = _enter_network_namespace(scenario, args)
        if reexec is not None:
            return reexec
    console = make_console()
    started = time.monotonic()
    live = None if args.sim_only else _run_live(scenario, args, overrides)
    if live is not None and live.interrupted:
        _finish(scenario, args, replications=[], live=live, verdict=None, formats=formats, started=started)
        raise InterruptedRun("interrupted during the live window; what was measured was written")
    runner = _Replications(scenario, args.jobs)
    sequential = judge_sequentially(runner.run_more, gates, initial=initial, budget=budget, batch=batch,
                                    live=live, confidence=args.confidence)
    verdict = _with_saturation(sequential.verdict, live)
    result, out = _finish(scenario, args, replications=list(sequential.replications), live=live,
                          verdict=verdict, formats=formats, started=started, interrupted=runner.interrupted)
    _print(console, result, verdict, out)
    if runner.interrupted:
        raise InterruptedRun("interrupted; the replications that finished and the verdict so far were written")
    return verdict.exit_code


def _gates(scenario: Scenario, file: str) -> list[Gate]:
    gates = scenario.parsed_gates()
    if not gates:
        raise InputError(f"{file}: the scenario has no gates, so there is nothing to check; add e.g.\n"
                         "  gates:\n    - huabei_success_rate >= 97%\n    - double_charges == 0")
    return list(gates)


def _budget(scenario: Scenario, args: argparse.Namespace) -> tuple[int, int, int]:
    initial = args.replications or scenario.replications
    budget = args.max_replications or DEFAULT_BUDGET_FACTOR * initial
    if budget < initial:
        raise InputError(f"--max-replications {budget} is below the initial {initial} replications")
    return initial, budget, args.batch or initial


def _window(text: str) -> tuple[float, float]:
    parts = re.split(r"\.\.|,", text)
    try:
        start, end = (parse_duration(p.strip()) for p in parts) if len(parts) == 2 else (0.0, -1.0)
    except ValueError as exc:
        raise InputError(f"--window {text}: {exc}") from None
    if not 0 <= start < end:
        raise InputError(f"--window {text}: write START..END with START < END, e.g. 1h..1h3m")
    return start, end


def _scenario(args: argparse.Namespace, window: tuple[float, float] | None) -> tuple[Scenario, list[str]]:
    """The scenario with the command line's overrides.

    ``--window`` and ``--terminals`` become ``live.*`` overrides, so the simulation's prediction
    for the live window (``ReplicationStats.window``) covers the same shoppers as the live run.
    """
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if window is not None:
        overrides.append(f"live.window=[{window[0]!r}, {window[1]!r}]")
    if args.terminals is not None:
        overrides.append(f"live.terminals={args.terminals}")
    return load_scenario(args.file, overrides), overrides  # the schema checks the window fits


# --------------------------------------------------------------------------- evidence


class _Replications:
    """``run_more(k)`` for the sequential procedure: the next k replication indices, in parallel."""

    def __init__(self, scenario: Scenario, jobs: int | None) -> None:
        self.scenario = scenario
        self.jobs = jobs
        self.next_index = 0
        self.interrupted = False

    def run_more(self, count: int) -> Sequence[ReplicationStats]:
        if self.interrupted:
            return []
        indices = list(range(self.next_index, self.next_index + count))
        self.next_index += count
        label = f"{self.scenario.name}: replications {indices[0] + 1}-{indices[-1] + 1}"
        with Progress(count, label=label) as progress:
            outcome = simulate(self.scenario, indices, processes=self.jobs, on_done=lambda _s: progress.advance())
        self.interrupted = outcome.interrupted
        return outcome.replications


def _enter_network_namespace(scenario: Scenario, args: argparse.Namespace) -> int | None:
    from scanrush.commands.load import enter_network_namespace as enter

    return enter(scenario, argparse.Namespace(**{**vars(args), "master": False, "worker": False}))


def _run_live(scenario: Scenario, args: argparse.Namespace, overrides: list[str]) -> RunResult:
    from load.orchestrate import LiveOptions, LiveRun
    from scanrush.commands.load import live_result

    options = LiveOptions(args.file, tuple(overrides), scenario.live.window, args.terminals, args.compression,
                          args.toxiproxy_url, args.processes, args.packet_loss, args.drain)
    live = LiveRun(options, scenario)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scanrush-check-") as workdir:
        stats = live.run(Path(workdir))
    result = live_result(scenario, args.file, stats, live.interrupted, time.monotonic() - started)
    lost = getattr(live, "lost", ())
    if lost:
        raise InfrastructureError(f"{len(lost)} load-generator part(s) lost ({'; '.join(lost)}); "
                                  "the live evidence is incomplete")
    return result


def _with_saturation(verdict: Verdict, live: RunResult | None) -> Verdict:
    """DESIGN.md: a saturated load generator makes the check INCONCLUSIVE (exit 4), whatever else it says.

    Its timings are not trustworthy, and a release gate must not pass or fail on them.
    """
    if live is None or not load_generator_saturated(live) or verdict.decision is Decision.INCONCLUSIVE:
        return verdict
    note = "the load generator's CPU saturated during the live window: its measurements cannot decide"
    return Verdict(Decision.INCONCLUSIVE, verdict.gates, verdict.confidence, verdict.replications,
                   (*verdict.notes, note), verdict.looks)


# --------------------------------------------------------------------------- outputs


def _finish(scenario: Scenario, args: argparse.Namespace, *, replications: list[ReplicationStats],
            live: RunResult | None, verdict: Verdict | None, formats: Sequence[str], started: float,
            interrupted: bool = False) -> tuple[RunResult, Path]:
    """Write result.json (sim replications, the live window nested, the verdict) and the report."""
    resolved = scenario.model_dump(mode="json", by_alias=True)
    metadata = Metadata.create(scenario_name=scenario.name, scenario_path=args.file,
                               scenario_hash=content_hash(json.dumps(resolved, sort_keys=True)),
                               scenario=resolved, seed=scenario.seed, replications=len(replications))
    metadata.versions["wall_seconds"] = f"{time.monotonic() - started:.1f}"
    if verdict is None and live is not None:
        verdict = judge(None, scenario.parsed_gates(), live=live, confidence=args.confidence)
    result = RunResult(kind="sim", metadata=metadata, replications=replications,
                       partial=interrupted or verdict is None, interrupted=interrupted or verdict is None,
                       confidence=args.confidence)
    result.live = live
    result.verdict = None if verdict is None else verdict.to_dict()
    out: Path = args.out or Path("results") / f"{_slug(scenario.name)}-check"
    out.mkdir(parents=True, exist_ok=True)
    write_result(out / "result.json", result)
    from reports.build import write_report

    write_report(result, out, formats)
    return result, out


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "scenario"


def _print(console: object, result: RunResult, verdict: Verdict, out: Path) -> None:
    from rich.console import Console

    from scanrush.summary import render_verdict

    assert isinstance(console, Console)
    render_summary(result, console)
    render_verdict(verdict, console)
    console.print(f"report: {out / 'report.html'}", highlight=False, markup=False, soft_wrap=True)
    console.print(f"{verdict.decision.value} (exit {verdict.exit_code})")


__all__ = ["add_arguments", "run"]
