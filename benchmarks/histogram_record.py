"""How fast is Histogram.record?  Compared with the cheapest possible per-sample loop.

    .venv/bin/python benchmarks/histogram_record.py [--samples 1000000] [--repeat 5]

The baseline is a bare ``list.append`` loop over the same values (what it costs
just to hand each sample to a bound method); the ratio says how much more the
histogram's log, truncation and increment cost.  Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from scanrush.stats.histogram import Histogram


def best_of(repeat: int, values: list[float], make: Callable[[], Callable[[float], object]]) -> float:
    """Best wall time of feeding every value to a fresh sink ``repeat`` times."""
    best = float("inf")
    for _ in range(repeat):
        sink = make()
        start = time.perf_counter()
        for v in values:
            sink(v)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(20261212)
    # Checkout-like durations: mostly seconds to minutes, some exact zeros (no queue).
    values = [float(v) for v in rng.lognormal(2.5, 1.2, args.samples)]
    values[:: 10] = [0.0] * len(values[:: 10])

    def histogram_sink() -> Callable[[float], None]:
        return Histogram().record

    def list_sink() -> Callable[[float], None]:
        sink: list[float] = []
        return sink.append

    hist = best_of(args.repeat, values, histogram_sink)
    bare = best_of(args.repeat, values, list_sink)
    n = len(values)
    print(f"samples            {n:,} (10% exact zeros), best of {args.repeat}")
    print(f"Histogram.record   {n / hist:14,.0f} records/s  {hist / n * 1e9:7.1f} ns/record")
    print(f"list.append        {n / bare:14,.0f} records/s  {bare / n * 1e9:7.1f} ns/record")
    print(f"ratio              {hist / bare:.1f}x the cost of list.append")


if __name__ == "__main__":
    main()
