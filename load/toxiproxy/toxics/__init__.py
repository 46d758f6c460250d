"""Every toxic type of Toxiproxy 2.12, one module each, registered by API name."""

from __future__ import annotations

from load.toxiproxy.toxics.bandwidth import BandwidthToxic
from load.toxiproxy.toxics.base import REGISTRY, Chunk, Interrupted, Stub, TimedOut, Toxic
from load.toxiproxy.toxics.latency import LatencyToxic
from load.toxiproxy.toxics.limit_data import LimitDataToxic
from load.toxiproxy.toxics.noop import NoopToxic
from load.toxiproxy.toxics.reset_peer import ResetPeerToxic
from load.toxiproxy.toxics.slicer import SlicerToxic
from load.toxiproxy.toxics.slow_close import SlowCloseToxic
from load.toxiproxy.toxics.timeout import TimeoutToxic

__all__ = [
    "REGISTRY",
    "BandwidthToxic",
    "Chunk",
    "Interrupted",
    "LatencyToxic",
    "LimitDataToxic",
    "NoopToxic",
    "ResetPeerToxic",
    "SlicerToxic",
    "SlowCloseToxic",
    "Stub",
    "TimedOut",
    "TimeoutToxic",
    "Toxic",
]
