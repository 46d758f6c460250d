"""Simulator throughput against a bare SimPy M/M/c, wall time, peak memory and scaling over cores.

Run: ``.venv/bin/python benchmarks/sim_throughput.py [--quick] [--scenario PATH]``.

Prints, in one run:

* shoppers per second of the full model on one replication of the flagship
  scenario (one process), and customers per second of a bare SimPy M/M/c
  written the plain way (``simpy.Resource``, ``with request()``,
  ``random.expovariate``; c = 10, λ = 8, μ = 1, so ρ = 0.8) over the same
  number of customers, and the ratio of their costs per shopper
  (target ≤ 3×: the full model does much more per shopper, but not much more
  in SimPy events, simulation.md §2.3);
* the wall time of that flagship replication (target ≤ 10 s) and its peak
  memory (``ru_maxrss``, target < 500 MB);
* 4 replications with ``processes=1`` and with ``processes=2``, and the speedup.

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
import resource
import subprocess
import sys
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


def _load(scenario_path: str, quick: bool) -> Any:
    from scanrush.scenario.loader import load_scenario
    from scanrush.scenario.schema import ArrivalPoint

    scenario = load_scenario(scenario_path)
    if not quick:
        return scenario
    # Thinner arrivals rather than a shorter promotion: a shorter one would cut off (and the
    # schema would reject) the windows the scenario declares after its new end.
    shoppers = scenario.shoppers
    thinner = tuple(ArrivalPoint(at=p.at, rate=p.rate / QUICK_SHARE) for p in shoppers.arrivals)
    return scenario.model_copy(update={"shoppers": shoppers.model_copy(update={"arrivals": thinner})})


def child_full(scenario_path: str, quick: bool) -> Result:
    """One replication of the full model in this process."""
    from scanrush.run import replicate

    scenario = _load(scenario_path, quick)
    began, cpu = time.perf_counter(), time.process_time()
    stats = replicate(scenario, 0)
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    return {"shoppers": stats.shoppers, "seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak_mb()}


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
    return totals["waited"] / customers, totals["wait"] / customers


def child_bare(customers: int) -> Result:
    began, cpu = time.perf_counter(), time.process_time()
    p_wait, mean_wait = bare_mmc(customers)
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
        return child_full(args.scenario, args.quick)
    if kind == "bare":
        return child_bare(args.customers)
    return child_scaling(args.scenario, args.quick, args.processes)


# --------------------------------------------------------------------------- parent


def measure(kind: str, args: argparse.Namespace, *extra: str) -> Result:
    """Run one measurement in a fresh interpreter; it prints one JSON line."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--scenario", args.scenario, *extra]
    if args.quick:
        command.append("--quick")
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    result: Result = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def report(args: argparse.Namespace) -> None:
    load_before = os.getloadavg()[0]
    label = f"{Path(args.scenario).name}{f' --quick (1/{QUICK_SHARE} of the shoppers)' if args.quick else ''}"
    full = measure("full", args)
    full_rate = full["shoppers"] / full["seconds"]
    print(f"full model ({label}, 1 replication, 1 process): {full['shoppers']:,} shoppers in "
          f"{full['seconds']:.2f} s = {full_rate:,.0f} shoppers/s ({full['cpu_seconds']:.2f} s CPU)")

    bare = measure("bare", args, "--customers", str(full["shoppers"]))
    bare_rate = bare["customers"] / bare["seconds"]
    print(f"bare SimPy M/M/{MMC_SERVERS} (ρ=0.8): {bare['customers']:,} customers in {bare['seconds']:.2f} s = "
          f"{bare_rate:,.0f} customers/s ({bare['cpu_seconds']:.2f} s CPU)  [P(wait)={bare['p_wait']:.4f}, "
          f"E[Wq]={bare['mean_wait']:.4f}; theory 0.4092, 0.2046]")

    # Same number of customers on both sides, so the ratio of times is the ratio of costs per
    # shopper.  CPU time is the headline: on a shared machine wall time also counts the waits
    # for a core, which hit the longer run harder.
    ratio = full["cpu_seconds"] / bare["cpu_seconds"]
    wall_ratio = full["seconds"] / bare["seconds"]
    print(f"ratio: full model costs {ratio:.2f}x bare SimPy per shopper in CPU time ({wall_ratio:.2f}x in wall "
          f"time; target <= {TARGET_RATIO:g}x): {verdict(ratio <= TARGET_RATIO)}")
    print(f"flagship replication: {full['seconds']:.2f} s (target <= {TARGET_SECONDS:g} s): "
          f"{verdict(full['seconds'] <= TARGET_SECONDS)}")
    print(f"peak memory: full model {full['peak_mb']:.0f} MB (target < {TARGET_MB:g} MB): "
          f"{verdict(full['peak_mb'] < TARGET_MB)}; bare M/M/c {bare['peak_mb']:.0f} MB")

    one = measure("scaling", args, "--processes", "1")
    two = measure("scaling", args, "--processes", "2")
    print(f"scaling: {SCALING_REPLICATIONS} replications, processes=1 {one['seconds']:.2f} s, processes=2 "
          f"{two['seconds']:.2f} s: speedup {one['seconds'] / two['seconds']:.2f}x")
    print(f"machine: {os.cpu_count()} CPUs, 1-minute load average {load_before:.1f} before and "
          f"{os.getloadavg()[0]:.1f} after (other work on the machine inflates wall times)")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help=f"1/{QUICK_SHARE} of the shoppers (CI smoke)")
    parser.add_argument("--scenario", default=str(FLAGSHIP), help="scenario file (default: the flagship)")
    parser.add_argument("--child", choices=["full", "bare", "scaling"], help=argparse.SUPPRESS)
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
