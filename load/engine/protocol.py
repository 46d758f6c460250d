"""What the distributed engine's processes say to each other; plain Python, no Locust.

Between the Locust master and its workers (Locust custom messages over the
master's ZeroMQ socket), in this order:

``scanrush_hello`` worker -> master  its handlers are registered (Locust drops messages it has none for)
``scanrush_plan``  master -> worker  its share of stores (``partition``), the scenario text, the window
``scanrush_ready`` worker -> master  its tills are built and its zones' proxies exist
``scanrush_go``    master -> worker  ``start_at``: the wall time of the window's first instant
``scanrush_result`` worker -> master its exact measurements (a ``ReplicationStats`` as JSON text)
``scanrush_failed`` worker -> master it cannot take part (``error``)
``scanrush_stop``  master -> worker  stop early and send what was measured (Ctrl-C, a failed peer)

Between an engine and the orchestrator that started it (files in its hand-off
directory, written atomically, polled with a deadline by the reader):
:data:`MASTER_FILE`, :data:`START_FILE`, :data:`ERROR_FILE`, :data:`DONE_FILE` from the
master; :data:`PLAN_FILE` from a worker that has no zones yet, answered by :data:`ZONES_FILE`.
"""

from __future__ import annotations

HELLO = "scanrush_hello"
PLAN = "scanrush_plan"
READY = "scanrush_ready"
GO = "scanrush_go"
RESULT = "scanrush_result"
FAILED = "scanrush_failed"
STOP = "scanrush_stop"

MASTER_FILE = "master.json"
"""``{"host", "port"}``: where the master listens (its port read back when bound to 0)."""
START_FILE = "start.json"
"""``{"start_at"}``: every worker is ready; the orchestrator sets the gateway's clock and the faults by it."""
ERROR_FILE = "error.txt"
"""Why an engine gave up (one paragraph for the user)."""
DONE_FILE = "done.json"
"""The master's summary: ``{"parts", "received", "lost": [{"part", "worker", "why"}]}``."""
PLAN_FILE = "plan.json"
"""A remote worker's plan, for its orchestrator to build that host's Toxiproxy proxies."""
ZONES_FILE = "zones.json"
"""The orchestrator's answer: ``{"zones": {zone: {"host", "port"}}, "faults", "packet_loss"}``."""

DEFAULT_MASTER_PORT = 5557
"""Locust's own default master port."""


def part_file(part: int) -> str:
    """The file holding part ``part``'s ``ReplicationStats`` (one per load-generator process)."""
    return f"engine-{part}.json"
