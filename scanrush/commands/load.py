"""``scanrush load FILE``: run a window of the promotion live, over real sockets, and write the result.

Starts the gateway stub and the embedded Toxiproxy (or uses ``--toxiproxy-url``),
turns the zones into proxies with their faults, runs the POS terminals as Locust
users, audits the gateway's ledger, writes the same result file as ``scanrush sim``
and prints its summary.  With packet loss in the scenario and the kernel's
permission, the whole run happens inside a private network namespace so that
nftables can drop real packets (``--packet-loss auto``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from scanrush.commands.options import port, positive
from scanrush.errors import InfrastructureError, InputError, InterruptedRun
from scanrush.results import Metadata, RunResult, content_hash, write_result
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import Scenario
from scanrush.summary import make_console, render_summary
from scanrush.units import format_duration, parse_duration

if TYPE_CHECKING:
    from load.orchestrate import Distributed

DEFAULT_DRAIN = 120.0
DEFAULT_WAIT = 60.0
DEFAULT_MASTER_PORT = 5557
"""Locust's (``load.engine.protocol``; not imported here: the CLI stays light)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", nargs="?", help="scenario file (not with --worker: the master's)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a scenario value (repeatable)")
    parser.add_argument("--window", type=_window, metavar="START..END",
                        help="the part of the promotion to run live, e.g. 1h..1h3m "
                             "(default: the scenario's live.window, else 3 minutes at the peak)")
    parser.add_argument("--terminals", type=positive, metavar="N",
                        help="run only N tills (whole stores, spread over the zones); default: all")
    parser.add_argument("--compression", type=float, metavar="C",
                        help="scenario seconds per wall second for arrivals and shoppers' own times "
                             "(never for network timing); default: the scenario's live.time_compression")
    parser.add_argument("--toxiproxy-url", default=os.environ.get("TOXIPROXY_URL"), metavar="URL",
                        help="use this toxiproxy-server instead of the embedded one (env TOXIPROXY_URL)")
    parser.add_argument("--processes", type=positive, default=1, metavar="N",
                        help="load-generator processes on this host: above 1, a Locust master and N workers, "
                             "each serving a disjoint set of whole stores (default 1)")
    parser.add_argument("--packet-loss", choices=("auto", "nftables", "toxics", "off"), default="auto",
                        help="auto: real kernel drops in a private network namespace when allowed, else a "
                             "toxic approximation; nftables: require real drops (exit 3 if impossible)")
    parser.add_argument("--drain", type=parse_duration, metavar="DURATION",
                        help="how long shoppers still at the tills after the window may take (default 2m)")
    parser.add_argument("-o", "--out", type=Path, help="result file (default: results/<scenario name>-live.json)")
    _add_distributed(parser.add_argument_group("Locust's distributed mode (terminals on other hosts)"))


def _add_distributed(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--master", action="store_true",
                       help="run the gateway stub and the Locust master here; the terminals run on --worker hosts")
    group.add_argument("--expect-workers", type=positive, metavar="N",
                       help="with --master: workers to wait for before starting (default 1)")
    group.add_argument("--expect-workers-max-wait", type=parse_duration, metavar="DURATION",
                       help="with --master: how long to wait for them (default 60s; then exit 3)")
    group.add_argument("--master-bind-host", metavar="HOST",
                       help="with --master: the address the master and the gateway stub listen on "
                            "(default 127.0.0.1; * for every interface)")
    group.add_argument("--master-bind-port", type=port, metavar="PORT",
                       help=f"with --master: the master's port (default {DEFAULT_MASTER_PORT}; 0: any free port)")
    group.add_argument("--worker", action="store_true",
                       help="run terminals here, with this host's own Toxiproxy, for the master at --master-host")
    group.add_argument("--master-host", metavar="HOST", help="with --worker: the master's address")
    group.add_argument("--master-port", type=port, metavar="PORT",
                       help=f"with --worker: the master's port (default {DEFAULT_MASTER_PORT})")
    group.add_argument("--master-connect-timeout", type=parse_duration, metavar="DURATION",
                       help="with --worker: how long to try to reach the master (default 60s; then exit 3)")


MASTER_ONLY = ("expect_workers", "expect_workers_max_wait", "master_bind_host", "master_bind_port")
WORKER_ONLY = ("master_host", "master_port", "master_connect_timeout")
FROM_MASTER = ("file", "window", "terminals", "compression", "drain", "out")
"""What a worker takes from the master's plan, never from its own command line."""


def _given(args: argparse.Namespace, names: tuple[str, ...]) -> list[str]:
    """The options among ``names`` on the command line, as the user spelled them."""
    spelled = {"file": "FILE", "overrides": "--set", "out": "-o/--out"}
    return [spelled.get(n, "--" + n.replace("_", "-")) for n in names if getattr(args, n) not in (None, False, [])]


def _check_distributed(args: argparse.Namespace) -> None:
    """Options that make no sense for the role: exit 2, naming them."""
    def given(names: tuple[str, ...]) -> list[str]:
        return _given(args, names)

    if args.master and args.worker:
        raise InputError("--master and --worker exclude each other")
    if not args.master and (wrong := given(MASTER_ONLY)):
        raise InputError(f"{', '.join(wrong)} only with --master")
    if not args.worker and (wrong := given(WORKER_ONLY)):
        raise InputError(f"{', '.join(wrong)} only with --worker")
    if args.worker:
        if wrong := given((*FROM_MASTER, "overrides")):
            raise InputError(f"--worker takes the scenario and the run's shape from the master: "
                             f"drop {', '.join(wrong)}")
        if not args.master_host:
            raise InputError("--worker needs --master-host")
    elif args.file is None:
        raise InputError("a scenario FILE is required (except with --worker)")
    if (args.master or args.worker) and args.processes > 1:
        raise InputError("--processes N runs master and workers on this host; with --master or --worker leave it out "
                         "(start one --worker per load process)")
    if args.master and args.toxiproxy_url:
        raise InputError("--toxiproxy-url belongs on the --worker hosts (the master's host runs no terminals)")
    if (args.master or args.worker) and args.packet_loss == "nftables":
        raise InputError("--packet-loss nftables needs a private network namespace, which cannot reach other hosts; "
                         "in distributed mode loss uses the toxic approximation")


def _window(text: str) -> tuple[float, float]:
    parts = re.split(r"\.\.|,", text)
    if len(parts) != 2:
        raise argparse.ArgumentTypeError("write START..END, e.g. 1h..1h3m")
    try:
        start, end = parse_duration(parts[0].strip()), parse_duration(parts[1].strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if end <= start:
        raise argparse.ArgumentTypeError("the window's end must come after its start")
    return start, end


def run(args: argparse.Namespace) -> int:
    _check_distributed(args)
    if args.worker:
        return _run_worker(args)
    scenario = load_scenario(args.file, args.overrides)
    if args.window is not None and args.window[1] > scenario.duration:
        raise InputError(f"--window ends at {format_duration(args.window[1])}, after the promotion "
                         f"({format_duration(scenario.duration)})")
    reexec = enter_network_namespace(scenario, args)
    if reexec is not None:
        return reexec
    from load.orchestrate import LiveOptions, LiveRun

    options = LiveOptions(args.file, tuple(args.overrides), args.window, args.terminals, args.compression,
                          args.toxiproxy_url, args.processes, args.packet_loss,
                          DEFAULT_DRAIN if args.drain is None else args.drain, _distributed(args))
    live = LiveRun(options, scenario)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scanrush-live-") as workdir:
        stats = live.run(Path(workdir))
    result = live_result(scenario, args.file, stats, live.interrupted, time.monotonic() - started)
    result.partial = result.partial or bool(live.lost)
    path = _write(result, args.out)
    console = make_console()
    render_summary(result, console)
    _print_live_notes(console, stats.extra)
    console.print(f"result: {path}", highlight=False, markup=False, soft_wrap=True)
    if live.interrupted:
        raise InterruptedRun("interrupted; what was measured was written")
    if live.lost:
        raise InfrastructureError(f"{len(live.lost)} load-generator part(s) lost ({'; '.join(live.lost)}); "
                                  f"the partial result was written to {path}")
    return 0


def _distributed(args: argparse.Namespace) -> Distributed | None:
    from load.orchestrate import Distributed

    if args.master:
        return Distributed("master", args.master_bind_host or "127.0.0.1",
                           DEFAULT_MASTER_PORT if args.master_bind_port is None else args.master_bind_port,
                           args.expect_workers or 1, args.expect_workers_max_wait or DEFAULT_WAIT)
    if args.worker:
        return Distributed("worker", args.master_host, args.master_port or DEFAULT_MASTER_PORT,
                           expect_wait=args.master_connect_timeout or DEFAULT_WAIT)
    return None


def _run_worker(args: argparse.Namespace) -> int:
    """``--worker``: terminals for the master; the master writes the result."""
    from load.orchestrate import LiveOptions, WorkerHost

    options = LiveOptions("", toxiproxy_url=args.toxiproxy_url, packet_loss=args.packet_loss,
                          distributed=_distributed(args))
    host = WorkerHost(options)
    with tempfile.TemporaryDirectory(prefix="scanrush-worker-") as workdir:
        host.run(Path(workdir))
    console = make_console()
    if host.interrupted:
        raise InterruptedRun("interrupted; what was measured was sent to the master")
    console.print(f"worker done: its measurements went to the master at {args.master_host}")
    return 0


def _needs_packet_loss(scenario: Scenario) -> bool:
    return any(n.loss > 0 or n.outages for n in scenario.networks.values())


def enter_network_namespace(scenario: Scenario, args: argparse.Namespace) -> int | None:
    """Re-run this command in a private network namespace when real packet loss is wanted and allowed."""
    from load.packetloss import current_command, in_private_netns, probe, reexec_in_netns

    if args.packet_loss in ("toxics", "off") or in_private_netns() or not _needs_packet_loss(scenario):
        return None
    if args.master:  # its gateway must stay reachable from the worker hosts (which realise the loss)
        return None
    if args.toxiproxy_url:
        if args.packet_loss == "nftables":
            raise InputError("--packet-loss nftables needs the embedded Toxiproxy (a private network namespace "
                             "cannot reach an external toxiproxy-server); drop --toxiproxy-url")
        return None
    capability = probe()
    if not capability:
        if args.packet_loss == "nftables":
            raise InfrastructureError(f"real packet loss is not possible here: {capability.reason}")
        return None
    return reexec_in_netns(current_command(), dict(os.environ), capability=capability)


def live_result(scenario: Scenario, file: str, stats: object, interrupted: bool, seconds: float) -> RunResult:
    from scanrush.results import ReplicationStats

    assert isinstance(stats, ReplicationStats)
    resolved = scenario.model_dump(mode="json", by_alias=True)
    metadata = Metadata.create(scenario_name=scenario.name, scenario_path=file,
                               scenario_hash=content_hash(json.dumps(resolved, sort_keys=True)),
                               scenario=resolved, seed=scenario.seed, replications=1)
    metadata.versions["wall_seconds"] = f"{seconds:.1f}"
    return RunResult(kind="live", metadata=metadata, replications=[stats], partial=interrupted,
                     interrupted=interrupted)


def _write(result: RunResult, out: Path | None) -> Path:
    if out is None:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", result.metadata.scenario_name).strip("-") or "scenario"
        out = Path("results") / f"{slug}-live.json"
    return write_result(out, result)


def _print_live_notes(console: object, extra: dict[str, object]) -> None:
    from rich.console import Console

    assert isinstance(console, Console)
    loss = extra.get("packet_loss")
    if isinstance(loss, dict):
        reason = f" ({loss['reason']})" if loss.get("reason") else ""
        console.print(f"packet loss realised by: {loss.get('mechanism')}{reason}")
    parts = extra.get("parts") or [extra]
    if isinstance(parts, list) and any(isinstance(p, dict) and p.get("cpu_saturated") for p in parts):
        console.print("WARNING: the load generator's CPU saturated; its timings are not trustworthy")
