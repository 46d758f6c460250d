"""Locust's distributed mode: one MasterRunner, any number of WorkerRunners, on one host or many.

The master runs no terminals.  Once ``expect_workers`` workers have connected it
splits the window's stores among them (``LivePlan`` partition: whole stores, so
a store's line stays on one worker), sends each its plan, waits for all to be
ready, gives one start time, and collects each worker's exact measurements (the
shared collector's ``ReplicationStats``) over Locust's own connection.  Each
worker spawns exactly as many users as its share has tills: Locust's even
dispatcher would split terminals across workers without regard to stores, and
re-dispatch (killing users mid-checkout) whenever a worker joins or goes missing.

Every wait has a deadline; a worker that never connects, fails, or dies is
reported (the master's ``done.json``/``error.txt``), never waited for forever.
Imported only by ``load/engine/__main__.py``, after ``import locust``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event

from load.engine import protocol
from load.engine.terminals import (
    CpuWatch,
    RequestCounter,
    TillsSpec,
    attach,
    build_tills,
    new_environment,
    part_stats,
    serve_window,
)
from scanrush.results import write_json_atomic, write_text_atomic

START_MARGIN = 2.0
"""Seconds from "all ready" to the window's first instant: the go message and the gateway clock must arrive."""
READY_TIMEOUT = 45.0
"""How long the master waits for every worker to build its tills (and, remote, its host's proxies)."""
HANDOFF_TIMEOUT = 30.0
"""How long a remote worker waits for its orchestrator's zone proxies."""
RESULT_GRACE = 30.0
"""Seconds after the drain ends that the master still waits for a result (a worker's last checkouts, the send)."""
STOP_GRACE = 20.0
"""After a stop (Ctrl-C), how long the master waits for the workers' results."""
LOST_AFTER = 10.0
"""Seconds a worker may miss heartbeats (a starved CPU) before its part counts as lost."""
QUIT_WAIT = 30.0
"""How long a worker that sent its result waits for the master's quit before leaving on its own."""
POLL = 0.1
MISSING = "missing"
"""Locust's ``STATE_MISSING``."""


def _fail(handoff: Path, message: str) -> int:
    write_text_atomic(handoff / protocol.ERROR_FILE, message + "\n")
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 3


def _wait_until(done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() >= deadline:
            return False
        gevent.sleep(POLL)
    return True


# --------------------------------------------------------------------------- master


@dataclass
class Part:
    index: int
    worker: str
    ready: bool = False
    result: bool = False
    lost: str | None = None
    missing_since: float | None = None


@dataclass
class Master:
    runner: Any
    config: dict[str, Any]
    handoff: Path
    parts: dict[str, Part] = field(default_factory=dict)
    greeted: set[str] = field(default_factory=set)
    failures: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.runner.register_message(protocol.HELLO, self._on_hello)
        self.runner.register_message(protocol.READY, self._on_ready)
        self.runner.register_message(protocol.RESULT, self._on_result)
        self.runner.register_message(protocol.FAILED, self._on_failed)

    # -- messages (handled in the runner's listener greenlet: no blocking here)

    def _on_hello(self, environment: Any, msg: Any) -> None:
        self.greeted.add(msg.node_id)

    def _on_ready(self, environment: Any, msg: Any) -> None:
        if msg.node_id in self.parts:
            self.parts[msg.node_id].ready = True

    def _on_result(self, environment: Any, msg: Any) -> None:
        part = self.parts.get(msg.node_id)
        if part is None or part.result:
            return
        stats = json.loads(msg.data["stats"])  # JSON text: NaN survives, msgpack never sees odd floats
        write_json_atomic(self.handoff / protocol.part_file(part.index), stats)
        part.result = True

    def _on_failed(self, environment: Any, msg: Any) -> None:
        self.failures[msg.node_id] = str(msg.data.get("error", "failed"))
        if msg.node_id in self.parts:
            self.parts[msg.node_id].lost = f"worker {msg.node_id} failed: {self.failures[msg.node_id]}"

    # -- phases

    def connected(self) -> list[str]:
        """Workers that are connected and can take a plan (they said hello once their handlers were in place)."""
        return sorted(c.id for c in self.runner.clients.values() if c.state != MISSING and c.id in self.greeted)

    def wait_for_workers(self, expect: int, wait: float, stopping: Callable[[], bool]) -> list[str] | None:
        def enough() -> bool:
            return len(self.connected()) >= expect

        _wait_until(lambda: enough() or stopping(), wait)
        return self.connected() if enough() and not stopping() else None

    def send_plans(self, workers: list[str]) -> None:
        config = self.config
        scenario = Path(config["scenario_path"])
        for index, worker in enumerate(workers):
            self.parts[worker] = Part(index, worker)
            self.runner.send_message(protocol.PLAN, {
                "partition": [index, len(workers)], "tag": f"L{index}",
                "scenario_name": scenario.name, "scenario_text": scenario.read_text(encoding="utf-8"),
                "overrides": config["overrides"], "window": config["window"], "terminals": config["terminals"],
                "compression": config["compression"], "drain_seconds": config["drain_seconds"],
                "gateway_port": config["gateway_port"], "gateway_path": config["gateway_path"],
            }, client_id=worker)

    def wait_ready(self) -> str | None:
        """None when every worker is ready, else why not."""
        def settled() -> bool:
            self._track_missing()
            return all(p.ready or p.lost for p in self.parts.values())

        if not _wait_until(settled, READY_TIMEOUT):
            late = [p.worker for p in self.parts.values() if not p.ready]
            return f"worker(s) {', '.join(late)} did not get ready within {READY_TIMEOUT:g} s"
        lost = [p.lost for p in self.parts.values() if p.lost]
        return "; ".join(lost) if lost else None

    def go(self) -> float:
        start_at = time.time() + START_MARGIN
        self.runner.send_message(protocol.GO, {"start_at": start_at})
        write_json_atomic(self.handoff / protocol.START_FILE, {"start_at": start_at})
        return start_at

    def collect(self, deadline: float, stopping: Callable[[], bool]) -> bool:
        """Wait for every part's result or its loss; True if stopped early (Ctrl-C)."""
        stopped = False
        while not all(p.result or p.lost for p in self.parts.values()):
            if stopping() and not stopped:
                stopped = True
                self.runner.send_message(protocol.STOP, {"reason": "interrupted"})
                deadline = min(deadline, time.monotonic() + STOP_GRACE)
            self._track_missing()
            if time.monotonic() >= deadline:
                for part in self.parts.values():
                    if not part.result and not part.lost:
                        part.lost = f"worker {part.worker} sent no result in time"
                break
            gevent.sleep(POLL)
        return stopped

    def _track_missing(self) -> None:
        now = time.monotonic()
        for part in self.parts.values():
            if part.result or part.lost:
                continue
            client = self.runner.clients.get(part.worker)
            if client is None:
                part.lost = f"worker {part.worker} quit before sending its result"
            elif client.state == MISSING:
                part.missing_since = part.missing_since or now
                if now - part.missing_since >= LOST_AFTER:
                    part.lost = f"worker {part.worker} stopped answering (no heartbeat for {LOST_AFTER:g} s)"
            else:
                part.missing_since = None

    def write_done(self) -> None:
        write_json_atomic(self.handoff / protocol.DONE_FILE, {
            "parts": len(self.parts),
            "received": sorted(p.index for p in self.parts.values() if p.result),
            "lost": [{"part": p.index, "worker": p.worker, "why": p.lost}
                     for p in sorted(self.parts.values(), key=lambda p: p.index) if not p.result],
        })


def _bind(environment: Any, host: str, port: int) -> Any:
    try:
        return environment.create_master_runner(host, port)
    except SystemExit:  # Locust exits on "address in use" (after logging it)
        raise OSError(f"address in use: {host}:{port}") from None


def run_master(config: dict[str, Any], stopping: Callable[[], bool]) -> int:
    handoff = Path(config["handoff"])
    host, expect, wait = str(config["bind_host"]), int(config["expect_workers"]), float(config["expect_wait"])
    environment = new_environment()
    try:
        runner = _bind(environment, host, int(config["bind_port"]))
    except Exception as exc:  # zmq and Locust raise their own kinds; any of them means: cannot listen
        return _fail(handoff, f"the Locust master cannot listen on {host}:{config['bind_port']}: {exc}")
    port = int(runner.server.port)
    write_json_atomic(handoff / protocol.MASTER_FILE, {"host": host, "port": port})
    print(f"Locust master listening on {host}:{port}, waiting for {expect} worker(s)", flush=True)
    master = Master(runner, config, handoff)
    try:
        return _run_master(master, expect, wait, port, stopping)
    finally:
        runner.quit()  # tells every worker to quit


def _run_master(master: Master, expect: int, wait: float, port: int, stopping: Callable[[], bool]) -> int:
    config, handoff = master.config, master.handoff
    workers = master.wait_for_workers(expect, wait, stopping)
    if workers is None:
        master.runner.send_message(protocol.STOP, {"reason": "not enough workers"})
        if stopping():
            return 130
        return _fail(handoff, f"only {len(master.connected())} of {expect} Locust worker(s) connected to the master "
                              f"on port {port} within {wait:g} s; start each with "
                              f"`scanrush load --worker --master-host HOST --master-port {port}`")
    master.send_plans(workers)
    problem = master.wait_ready()
    if problem is not None or stopping():
        master.runner.send_message(protocol.STOP, {"reason": problem or "interrupted"})
        return 130 if problem is None else _fail(handoff, f"the distributed run cannot start: {problem}")
    start_at = master.go()
    window = (config["window"][1] - config["window"][0]) / config["compression"]
    deadline = time.monotonic() + (start_at - time.time()) + window + config["drain_seconds"] + RESULT_GRACE
    interrupted = master.collect(deadline, stopping)
    master.write_done()
    if interrupted:
        return 130
    return 3 if any(p.lost for p in master.parts.values()) else 0


# --------------------------------------------------------------------------- worker


@dataclass
class Inbox:
    """What the master told this worker; set by the runner's listener greenlet."""

    plan: dict[str, Any] | None = None
    start_at: float | None = None
    stop: str | None = None
    arrived: Event = field(default_factory=Event)

    def on_plan(self, environment: Any, msg: Any) -> None:
        self.plan = dict(msg.data)
        self.arrived.set()

    def on_go(self, environment: Any, msg: Any) -> None:
        self.start_at = float(msg.data["start_at"])
        self.arrived.set()

    def on_stop(self, environment: Any, msg: Any) -> None:
        self.stop = str(msg.data.get("reason", "stopped by the master"))
        self.arrived.set()


def _master_port(config: dict[str, Any], timeout: float) -> int | None:
    """The master's port: given, or (a worker started alongside its master) read from the master's file."""
    if "master_port" in config:
        return int(config["master_port"])
    where = Path(config["master_port_file"])
    if not _wait_until(where.exists, timeout):
        return None
    return int(json.loads(where.read_text())["port"])


def _connect(environment: Any, host: str, port: int, timeout: float) -> Any:
    """The WorkerRunner once the master acknowledged it, or None after ``timeout`` (Locust alone retries ~5 min)."""
    with gevent.Timeout(timeout, False):
        return environment.create_worker_runner(host, port)
    return None


def run_worker(config: dict[str, Any], stopping: Callable[[], bool]) -> int:
    handoff = Path(config["handoff"])
    host, timeout = str(config["master_host"]), float(config["connect_timeout"])
    port = _master_port(config, timeout)
    if port is None:
        return _fail(handoff, f"the Locust master on this host did not start listening within {timeout:g} s")
    runner = _connect(new_environment(), host, port, timeout)
    if runner is None:
        return _fail(handoff, f"could not reach the Locust master at {host}:{port} within {timeout:g} s")
    inbox = Inbox()
    for kind, handler in ((protocol.PLAN, inbox.on_plan), (protocol.GO, inbox.on_go), (protocol.STOP, inbox.on_stop)):
        runner.register_message(kind, handler)
    runner.send_message(protocol.HELLO)  # only now may the master send the plan: Locust drops unknown messages
    print(f"connected to the Locust master at {host}:{port} as {runner.client_id}", flush=True)
    try:
        return _run_worker(runner, config, inbox, stopping)
    finally:
        runner.greenlet.kill(block=False)


def _failed(runner: Any, handoff: Path, message: str) -> int:
    runner.send_message(protocol.FAILED, {"error": message})
    gevent.sleep(0.2)  # let the message leave before the process does
    return _fail(handoff, message)


def _await(inbox: Inbox, ready: Callable[[], bool], timeout: float, stopping: Callable[[], bool]) -> bool:
    return _wait_until(lambda: ready() or inbox.stop is not None or stopping(), timeout) and ready()


def _run_worker(runner: Any, config: dict[str, Any], inbox: Inbox, stopping: Callable[[], bool]) -> int:
    handoff = Path(config["handoff"])
    environment = runner.environment
    counter = RequestCounter(environment)
    if not _await(inbox, lambda: inbox.plan is not None, float(config["plan_timeout"]), stopping):
        return 130 if stopping() else _fail(handoff, f"no plan from the master: {inbox.stop or 'timed out'}")
    assert inbox.plan is not None
    zones = _zones(config, inbox.plan, handoff, inbox, stopping)
    if zones is None:
        return _failed(runner, handoff, "this host's zone proxies were not set up")
    tills = build_tills(_spec(config, inbox.plan, zones, handoff), counter)
    attach(tills, environment)
    watch = CpuWatch()
    gevent.spawn(watch.run)
    runner.start_worker({"PosTerminal": len(tills.plan.terminal_ids)})  # exactly this share's tills
    runner.send_message(protocol.READY, {"terminals": len(tills.plan.terminal_ids)})
    if not _await(inbox, lambda: inbox.start_at is not None, READY_TIMEOUT + 2 * START_MARGIN, stopping):
        return 130 if stopping() else _fail(handoff, f"no start from the master: {inbox.stop or 'timed out'}")
    assert inbox.start_at is not None
    write_json_atomic(handoff / protocol.START_FILE, {"start_at": inbox.start_at})
    serve_window(tills, inbox.start_at, float(inbox.plan["drain_seconds"]),
                 lambda: stopping() or inbox.stop is not None)
    runner.stop()
    interrupted = stopping() or inbox.stop is not None
    stats = part_stats(tills, watch, counter, interrupted)
    stats.extra.update({"worker": runner.client_id, **zones.extra})
    runner.send_message(protocol.RESULT, {"stats": json.dumps(stats.to_dict())})
    runner.greenlet.join(timeout=QUIT_WAIT)  # the master's quit ends it
    return 130 if stopping() else 0


@dataclass(frozen=True)
class Zones:
    endpoints: dict[str, Any]
    extra: dict[str, Any]


def _zones(config: dict[str, Any], plan: dict[str, Any], handoff: Path, inbox: Inbox,
           stopping: Callable[[], bool]) -> Zones | None:
    """This host's zone proxies: given up front (a worker on the master's host) or built by this host's
    orchestrator from the plan (a remote worker: one Toxiproxy per load host)."""
    if config.get("zones"):
        return Zones(config["zones"], {})
    write_json_atomic(handoff / protocol.PLAN_FILE, {**plan, "gateway_host": config["master_host"]})
    answer = handoff / protocol.ZONES_FILE
    if not _await(inbox, answer.exists, HANDOFF_TIMEOUT, stopping):
        return None
    data = json.loads(answer.read_text())
    return Zones(data["zones"], {k: data[k] for k in ("faults", "packet_loss") if k in data})


def _spec(config: dict[str, Any], plan: dict[str, Any], zones: Zones, handoff: Path) -> TillsSpec:
    scenario = handoff / Path(plan["scenario_name"]).name  # the master's scenario, byte for byte
    scenario.write_text(plan["scenario_text"], encoding="utf-8")
    gateway = f"http://{config['master_host']}:{plan['gateway_port']}"
    terminals = plan["terminals"]
    return TillsSpec(str(scenario), list(plan["overrides"]), (float(plan["window"][0]), float(plan["window"][1])),
                     None if terminals is None else int(terminals), (int(plan["partition"][0]),
                     int(plan["partition"][1])), TillsSpec.zones_of(zones.endpoints), float(plan["compression"]),
                     f"{gateway}/control/ledger", str(plan["tag"]))
