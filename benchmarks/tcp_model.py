"""Cost of one simulated request over the TCP model, against a bare ``random.random()`` call.

Run: ``.venv/bin/python benchmarks/tcp_model.py [draws]``.  Prints µs per request_leg +
response_leg pair for a few zone profiles and the ratio to one bare uniform draw.
"""

from __future__ import annotations

import random
import sys
import time

from scanrush.network.link import ZoneLink
from scanrush.network.tcp import LossAt, Uniform, request_leg, response_leg
from scanrush.scenario.schema import Network, Pos


def bare_draws(uniform: Uniform, n: int) -> float:
    began = time.perf_counter()
    for _ in range(n):
        uniform()
    return time.perf_counter() - began


def leg_pairs(uniform: Uniform, loss_at: LossAt, rtt: float, n: int) -> float:
    began = time.perf_counter()
    for k in range(n):
        start = 0.01 * k
        leg = request_leg(start, rtt, loss_at, uniform, connect_timeout=3.0, extra_delay=0.0048)
        if leg.arrives_at < 1e300:
            response_leg(leg.arrives_at + 0.08, rtt, loss_at, uniform, extra_delay=0.006)
    return time.perf_counter() - began


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400_000
    uniform = random.Random(20261212).random
    bare = bare_draws(uniform, n) / n
    print(f"bare random.random(): {bare * 1e9:.0f} ns per draw")
    profiles = {
        "no loss": {"rtt": 0.12, "loss": 0.0},
        "p=0.03": {"rtt": 0.12, "loss": 0.03},
        "p=0.03 + outages": {"rtt": 0.12, "loss": 0.03, "outages": [{"at": 5_000, "for": 60}, {"at": 9_000, "for": 5}]},
    }
    for name, declared in profiles.items():
        zone = ZoneLink(Network.model_validate(declared), Pos())
        loss_at = zone.loss_at(zone.loss)
        per_pair = leg_pairs(uniform, loss_at, zone.rtt, n) / n
        ratio = per_pair / bare
        print(f"{name:>18}: {per_pair * 1e6:.2f} µs per request_leg + response_leg ({ratio:.1f}x a bare draw)")


if __name__ == "__main__":
    main()
