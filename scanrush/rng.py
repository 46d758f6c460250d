"""Named, per-purpose random streams from one seed.

Each purpose (arrivals, shoppers, network, ...) gets its own stream, so two
scenarios run with the same seed see the same shoppers arrive at the same
times (common random numbers) even when one of them draws more network or
retry numbers than the other.  The world (merchants, terminals) depends on the
seed alone: one world per seed, shared by every replication, the simulator and
the live path.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

PURPOSES = ("arrivals", "shoppers", "choice", "service", "network", "gateway", "retry")
_WORLD_KEY = 2**31 - 1
_BLOCK = 8192


def world_generator(seed: int, part: str = "") -> np.random.Generator:
    """The world's stream for one part (a zone, by name): a twin that changes one zone's
    stores leaves every other zone's merchants and terminals as they were."""
    key = (_WORLD_KEY, zlib.crc32(part.encode("utf-8"))) if part else (_WORLD_KEY,)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def replication_sequence(seed: int, replication: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(replication,))


LIVE_REPLICATION = 0
"""The replication a live run re-enacts on real sockets.

The live window's shoppers are simulated replication 0's shoppers in that window
(same arrival times, same attributes), so live measurements can be set beside the
simulation with common random numbers, and the gateway stub can recognise every
shopper by the code a terminal scans.
"""


@dataclass(frozen=True)
class ReplicationSeeds:
    """The per-purpose seed sequences of one replication (or live run), in a fixed order.

    The simulator, the live gateway stub and the Locust terminals all take their
    shoppers from ``shoppers`` and their arrival times from ``arrivals``, so the
    stub recognises the very shoppers the terminals bring.
    """

    shoppers: np.random.SeedSequence
    arrivals: np.random.SeedSequence
    network: np.random.SeedSequence
    gateway: np.random.SeedSequence
    retry: np.random.SeedSequence

    @classmethod
    def of(cls, seed: int, replication: int) -> ReplicationSeeds:
        return cls(*replication_sequence(seed, replication).spawn(5))


def replication_streams(seed: int, replication: int) -> dict[str, np.random.Generator]:
    children = replication_sequence(seed, replication).spawn(len(PURPOSES))
    return {name: np.random.default_rng(child) for name, child in zip(PURPOSES, children, strict=True)}


def _blocks(generator: np.random.Generator) -> Iterator[float]:
    while True:
        yield from generator.random(_BLOCK).tolist()


def uniform_source(generator: np.random.Generator) -> Callable[[], float]:
    """A zero-argument callable returning U[0,1) floats, drawn in numpy blocks.

    numpy costs ~450 ns for one scalar but ~40 ns per value in a block
    (simulation.md §2.3), and the hot loop needs hundreds of thousands.
    """
    iterator = _blocks(generator)
    return iterator.__next__
