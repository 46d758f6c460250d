"""Simulator throughput against a bare SimPy M/M/c, wall time, peak memory and scaling over cores.

Run: ``.venv/bin/python benchmarks/sim_throughput.py [--quick] [--scenario PATH] [--instructions]``.

Prints, in one run:

* shoppers per second of the full model on one replication of the flagship
  scenario (one process), and customers per second of a bare SimPy M/M/c
  written the plain way (``simpy.Resource``, ``with request()``,
  ``random.expovariate``; c = 10, λ = 8, μ = 1, so ρ = 0.8) over the same
  number of customers, and the ratio of their costs per shopper
  (target ≤ 3×: the full model does much more per shopper, but not much more
  in SimPy events, simulation.md §2.3).  The two are measured alternately,
  three times each, and the best CPU time of each side is compared: other work
  on the machine only ever adds time, and alternating spreads a burst of it
  over both sides;
* the wall time of that flagship replication (target ≤ 10 s) and its peak
  memory (``ru_maxrss``, target < 500 MB);
* 4 replications with ``processes=1`` and with ``processes=2``, and the speedup;
* with ``--instructions`` (and valgrind installed): the same ratio in machine
  instructions (valgrind callgrind), which load on the machine does not move, on
  a reduced run: the first :data:`REDUCED_MINUTES` minutes of the scenario (windows
  that start later dropped) against the bare M/M/c over the same number of
  customers.  Each side's start-up (imports, scenario, world) is measured on its
  own and taken off, so only the simulation is compared.

Every measurement runs in a fresh interpreter (this script re-invoked with
``--child``), so one measurement's peak memory, warmed caches or imported
modules never leak into another's.  ``--quick`` keeps the whole promotion but
1/20 of its shoppers, for a CI smoke run; its numbers are not the targets'.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import simpy

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "scenarios" / "mall_promo.yaml"
QUICK_SHARE = 20
"""``--quick`` keeps one shopper in this many: the whole promotion (every outage, brownout and
risk surge still happens) at 1/20 of the arrival rate."""
SCALING_REPLICATIONS = 4
REPEATS = 3
"""Full model and bare M/M/c are each measured this many times, alternately; the best CPU time counts."""
REDUCED_MINUTES = 30
"""The instruction-count comparison simulates the scenario's first this many minutes (valgrind is ~50x slower)."""

TARGET_RATIO = 3.0
TARGET_SECONDS = 10.0
TARGET_MB = 500.0

MMC_SERVERS = 10
MMC_ARRIVAL_RATE = 8.0
MMC_SERVICE_RATE = 1.0
"""ρ = λ/(cμ) = 0.8, the §2 benchmark's M/M/10; P(wait) = 0.4092 and E[Wq] = 0.2046 as a check."""

Result = dict[str, Any]


def peak_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------------- children


def _load(scenario_path: str, quick: bool, reduced: bool = False) -> Any:
    from scanrush.scenario.loader import load_scenario
    from scanrush.scenario.schema import ArrivalPoint

    scenario = load_scenario(scenario_path)
    if reduced:
        return _first_minutes(scenario, REDUCED_MINUTES * 60.0)
    if not quick:
        return scenario
    # Thinner arrivals rather than a shorter promotion: a shorter one would cut off (and the
    # schema would reject) the windows the scenario declares after its new end.
    shoppers = scenario.shoppers
    thinner = tuple(ArrivalPoint(at=p.at, rate=p.rate / QUICK_SHARE) for p in shoppers.arrivals)
    return scenario.model_copy(update={"shoppers": shoppers.model_copy(update={"arrivals": thinner})})


def _first_minutes(scenario: Any, duration: float) -> Any:
    """The scenario cut to its first ``duration`` seconds; outages, brownouts and surges that start
    later are dropped (the schema rejects windows after the end), and so is a live window past it."""
    def inside(windows: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(w for w in windows if w.at < duration)

    if duration >= scenario.duration:
        return scenario
    gateway = scenario.gateway
    risk = gateway.risk.model_copy(update={"surges": inside(gateway.risk.surges)})
    live = scenario.live
    if live.window is not None and live.window[1] > duration:
        live = live.model_copy(update={"window": None})
    return scenario.model_copy(update={
        "duration": duration,
        "networks": {name: network.model_copy(update={"outages": inside(network.outages)})
                     for name, network in scenario.networks.items()},
        "gateway": gateway.model_copy(update={"brownouts": inside(gateway.brownouts), "risk": risk}),
        "live": live,
    })


def child_full(scenario_path: str, quick: bool, reduced: bool = False, setup_only: bool = False) -> Result:
    """One replication of the full model in this process (``setup_only``: everything but the run)."""
    from scanrush.domain.world import build_world
    from sim.model import Promotion

    scenario = _load(scenario_path, quick, reduced)
    began, cpu = time.perf_counter(), time.process_time()
    promotion = Promotion(scenario, build_world(scenario), 0)  # what scanrush.run.replicate does
    stats = None if setup_only else promotion.run()
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    return {"shoppers": 0 if stats is None else stats.shoppers, "seconds": seconds, "cpu_seconds": cpu_seconds,
            "peak_mb": peak_mb()}


def bare_mmc(customers: int, seed: int = 1) -> tuple[float, float]:
    """The plain SimPy M/M/c; returns (P(wait), E[Wq]) so a broken baseline shows."""
    rng = random.Random(seed)
    env = simpy.Environment()
    tills = simpy.Resource(env, capacity=MMC_SERVERS)
    totals = {"waited": 0, "wait": 0.0}

    def customer() -> Generator[simpy.Event, Any, None]:
        arrived = env.now
        with tills.request() as request:
            yield request
            wait = env.now - arrived
            if wait > 0:
                totals["waited"] += 1
                totals["wait"] += wait
            yield env.timeout(rng.expovariate(MMC_SERVICE_RATE))

    def source() -> Generator[simpy.Event, Any, None]:
        for _ in range(customers):
            yield env.timeout(rng.expovariate(MMC_ARRIVAL_RATE))
            env.process(customer())

    env.process(source())
    env.run()
    return totals["waited"] / max(customers, 1), totals["wait"] / max(customers, 1)


def child_bare(customers: int, setup_only: bool = False) -> Result:
    began, cpu = time.perf_counter(), time.process_time()
    p_wait, mean_wait = bare_mmc(0 if setup_only else customers)
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    return {"customers": customers, "seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak_mb(),
            "p_wait": p_wait, "mean_wait": mean_wait}


def child_scaling(scenario_path: str, quick: bool, processes: int) -> Result:
    from scanrush.run import simulate

    scenario = _load(scenario_path, quick)
    began = time.perf_counter()
    run = simulate(scenario, range(SCALING_REPLICATIONS), processes=processes)
    seconds = time.perf_counter() - began
    assert len(run.replications) == SCALING_REPLICATIONS
    return {"seconds": seconds, "processes": processes, "peak_mb": peak_mb(),
            "shoppers": sum(r.shoppers for r in run.replications)}


def run_child(args: argparse.Namespace) -> Result:
    kind = args.child
    if kind == "full":
        return child_full(args.scenario, args.quick, args.reduced, args.setup_only)
    if kind == "bare":
        return child_bare(args.customers, args.setup_only)
    return child_scaling(args.scenario, args.quick, args.processes)


# --------------------------------------------------------------------------- parent


def _command(kind: str, args: argparse.Namespace, extra: Sequence[str]) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--scenario", args.scenario, *extra]
    if args.quick:
        command.append("--quick")
    return command


def measure(kind: str, args: argparse.Namespace, *extra: str) -> Result:
    """Run one measurement in a fresh interpreter; it prints one JSON line."""
    done = subprocess.run(_command(kind, args, extra), check=True, capture_output=True, text=True, cwd=ROOT)
    result: Result = json.loads(done.stdout.strip().splitlines()[-1])
    return result


_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def instructions(kind: str, args: argparse.Namespace, *extra: str) -> tuple[int, Result]:
    """Machine instructions of one child run under valgrind (callgrind), and its JSON line."""
    with tempfile.TemporaryDirectory() as scratch:
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/callgrind.out",
                   *_command(kind, args, extra)]
        done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    result: Result = json.loads(done.stdout.strip().splitlines()[-1])
    return int(found.group(1)), result


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def _times(results: Sequence[Result], key: str) -> str:
    return ", ".join(f"{r[key]:.2f}" for r in results)


def report(args: argparse.Namespace) -> None:
    load_before = os.getloadavg()[0]
    label = f"{Path(args.scenario).name}{f' --quick (1/{QUICK_SHARE} of the shoppers)' if args.quick else ''}"
    # Alternate the two sides, so that other work on the machine weighs on both alike.
    fulls: list[Result] = []
    bares: list[Result] = []
    for _ in range(REPEATS):
        fulls.append(measure("full", args))
        bares.append(measure("bare", args, "--customers", str(fulls[0]["shoppers"])))
    full = min(fulls, key=lambda r: r["cpu_seconds"])
    bare = min(bares, key=lambda r: r["cpu_seconds"])
    full_rate = full["shoppers"] / full["cpu_seconds"]
    print(f"full model ({label}, 1 replication, 1 process): {full['shoppers']:,} shoppers in "
          f"{full['cpu_seconds']:.2f} s CPU (best of {REPEATS}: {_times(fulls, 'cpu_seconds')}) = "
          f"{full_rate:,.0f} shoppers/s, {1e6 * full['cpu_seconds'] / full['shoppers']:.1f} µs/shopper")
    bare_rate = bare["customers"] / bare["cpu_seconds"]
    print(f"bare SimPy M/M/{MMC_SERVERS} (ρ=0.8): {bare['customers']:,} customers in {bare['cpu_seconds']:.2f} s CPU "
          f"(best of {REPEATS}: {_times(bares, 'cpu_seconds')}) = {bare_rate:,.0f} customers/s, "
          f"{1e6 * bare['cpu_seconds'] / bare['customers']:.1f} µs/customer  [P(wait)={bare['p_wait']:.4f}, "
          f"E[Wq]={bare['mean_wait']:.4f}; theory 0.4092, 0.2046]")

    # Same number of customers on both sides, so the ratio of times is the ratio of costs per
    # shopper.  CPU time is the headline: on a shared machine wall time also counts the waits
    # for a core, which hit the longer run harder.
    ratio = full["cpu_seconds"] / bare["cpu_seconds"]
    wall_ratio = min(r["seconds"] for r in fulls) / min(r["seconds"] for r in bares)
    print(f"ratio: full model costs {ratio:.2f}x bare SimPy per shopper in CPU time ({wall_ratio:.2f}x in wall "
          f"time; target <= {TARGET_RATIO:g}x): {verdict(ratio <= TARGET_RATIO)}")
    best_wall = min(r["seconds"] for r in fulls)
    print(f"flagship replication: {best_wall:.2f} s wall (best of {REPEATS}: {_times(fulls, 'seconds')}; "
          f"target <= {TARGET_SECONDS:g} s): {verdict(best_wall <= TARGET_SECONDS)}")
    peak = max(r["peak_mb"] for r in fulls)
    print(f"peak memory: full model {peak:.0f} MB (target < {TARGET_MB:g} MB): "
          f"{verdict(peak < TARGET_MB)}; bare M/M/c {max(r['peak_mb'] for r in bares):.0f} MB")

    if args.instructions:
        report_instructions(args)

    one = measure("scaling", args, "--processes", "1")
    two = measure("scaling", args, "--processes", "2")
    print(f"scaling: {SCALING_REPLICATIONS} replications, processes=1 {one['seconds']:.2f} s, processes=2 "
          f"{two['seconds']:.2f} s: speedup {one['seconds'] / two['seconds']:.2f}x")
    print(f"machine: {os.cpu_count()} CPUs, 1-minute load average {load_before:.1f} before and "
          f"{os.getloadavg()[0]:.1f} after (other work on the machine inflates wall times)")


def report_instructions(args: argparse.Namespace) -> None:
    """The cost ratio in machine instructions: independent of the machine's load (but not of its caches)."""
    if shutil.which("valgrind") is None:
        print("instructions: valgrind not found; skipped")
        return
    full_total, full = instructions("full", args, "--reduced")
    full_setup, _ = instructions("full", args, "--reduced", "--setup-only")
    customers = str(full["shoppers"])
    bare_total, _ = instructions("bare", args, "--customers", customers)
    bare_setup, _ = instructions("bare", args, "--customers", customers, "--setup-only")
    full_run, bare_run = full_total - full_setup, bare_total - bare_setup
    shoppers = full["shoppers"]
    print(f"instructions ({REDUCED_MINUTES} min of {Path(args.scenario).name}, {shoppers:,} shoppers; start-up "
          f"taken off): full model {full_run / 1e6:,.0f} M = {full_run / shoppers / 1e3:,.1f} k/shopper, bare "
          f"M/M/{MMC_SERVERS} {bare_run / 1e6:,.0f} M = {bare_run / shoppers / 1e3:,.1f} k/customer: ratio "
          f"{full_run / bare_run:.2f}x")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help=f"1/{QUICK_SHARE} of the shoppers (CI smoke)")
    parser.add_argument("--scenario", default=str(FLAGSHIP), help="scenario file (default: the flagship)")
    parser.add_argument("--instructions", action="store_true",
                        help=f"also compare instruction counts under valgrind ({REDUCED_MINUTES} min run; minutes)")
    parser.add_argument("--child", choices=["full", "bare", "scaling"], help=argparse.SUPPRESS)
    parser.add_argument("--reduced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--setup-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=1, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.child:
        print(json.dumps(run_child(args)))
    else:
        report(args)


if __name__ == "__main__":
    main()
