"""``scanrush load``'s composition root: servers up, faults on, terminals go, audit, tear down.

One :class:`LiveRun` owns everything a live window needs and undoes all of it in
reverse order, also after errors and Ctrl-C: the gateway stub and (unless one is
given) the embedded Toxiproxy as child processes, the fault layer, the Locust
engine process(es).  What was measured is written even when the run is cut short.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from load.engine import protocol
from load.engine.plan import SPAWN_RATE
from load.faults import FaultLayer
from load.packetloss import LossRules, in_private_netns, probe
from load.toxiproxy.client import ToxiproxyClient, ToxiproxyError
from scanrush.errors import InfrastructureError
from scanrush.results import ReplicationStats, merge_replications, write_json_atomic
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import Scenario
from scanrush.window import default_window

READY_TIMEOUT = 30.0
START_DELAY = 3.0
"""Seconds between launching the terminals and the window's first instant (Locust's import and spawn)."""
ENGINE_START = 30.0
"""How long an engine may take to import Locust and write its first hand-off file."""
POLL = 0.1
NAN = float("nan")


@dataclass(frozen=True)
class LiveOptions:
    scenario_path: str
    overrides: Sequence[str] = ()
    window: tuple[float, float] | None = None
    terminals: int | None = None
    compression: float | None = None
    toxiproxy_url: str | None = None
    processes: int = 1
    packet_loss: str = "auto"
    """auto: real drops when possible (needs a private network namespace), else toxics; toxics; off."""
    drain_seconds: float = 120.0
    distributed: Distributed | None = None
    """Locust's master/worker mode (``--master``/``--worker``); ``processes > 1`` implies it on this host."""


@dataclass(frozen=True)
class Distributed:
    """Locust's distributed mode: this host's role and where the master listens."""

    role: str = "master"
    """``master``: the gateway stub and the Locust master here, workers elsewhere (or ``local_workers`` here);
    ``worker``: terminals here, with this host's own Toxiproxy, for the master at ``host``."""
    host: str = "127.0.0.1"
    """master: the address to bind (also the gateway's); worker: the master's address."""
    port: int = protocol.DEFAULT_MASTER_PORT
    """0 (master): any free port, printed."""
    expect_workers: int = 1
    expect_wait: float = 60.0
    """How long the master waits for ``expect_workers`` to connect; a worker, for the master to answer."""
    local_workers: int = 0
    """Workers the master's host runs itself (``--processes N``), sharing its Toxiproxy."""


class ServerProcess:
    """A child server that prints a ready line; its output is kept for error messages."""

    def __init__(self, argv: Sequence[str], ready: str, what: str) -> None:
        self.what = what
        self.lines: deque[str] = deque(maxlen=50)
        # Own process group: a Ctrl-C at the terminal goes to the whole foreground group, and the
        # gateway and Toxiproxy must outlive it (the interrupted run still tears the faults down and
        # audits the ledger); LiveRun stops them itself, in order.
        self.process = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"}, process_group=0)
        try:
            self.url = self._wait_ready(re.compile(ready))
        except BaseException:  # Ctrl-C while it starts: it did not get the SIGINT, so stop it here
            self.stop()
            raise
        threading.Thread(target=self._drain, daemon=True).start()

    def _wait_ready(self, pattern: re.Pattern[str]) -> str:
        assert self.process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT
        ready: list[str] = []

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.lines.append(line.rstrip())
                match = pattern.search(line)
                if match:
                    ready.append(match.group(1))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(max(0.0, deadline - time.monotonic()))
        if not ready:
            self.stop()
            tail = "\n    ".join(self.lines) or "(no output)"
            raise InfrastructureError(f"the {self.what} did not start:\n    {tail}")
        return ready[0]

    def _drain(self) -> None:
        if self.process.stdout is not None:
            for line in self.process.stdout:
                self.lines.append(line.rstrip())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _python(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def _get_json(url: str, body: object | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@dataclass
class LiveRun:
    options: LiveOptions
    scenario: Scenario
    window: tuple[float, float] = (0.0, 0.0)
    compression: float = 1.0
    mechanism: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    lost: list[str] = field(default_factory=list)
    """Distributed parts whose measurements never arrived: the result is partial."""

    def __post_init__(self) -> None:
        self.window = self.options.window or default_window(self.scenario)
        self.compression = self.options.compression or self.scenario.live.time_compression

    @property
    def distributed(self) -> Distributed | None:
        if self.options.distributed is not None:
            return self.options.distributed
        if self.options.processes > 1:  # one host: master + N workers, sharing this host's Toxiproxy
            return Distributed("master", "127.0.0.1", 0, self.options.processes, ENGINE_START,
                               self.options.processes)
        return None

    def run(self, workdir: Path) -> ReplicationStats:
        distributed = self.distributed
        with contextlib.ExitStack() as stack:
            gateway = self._start_gateway(distributed.host if distributed else "127.0.0.1")
            stack.callback(gateway.stop)
            faults = None
            if distributed is None or distributed.local_workers:  # terminals on this host need its Toxiproxy
                faults = self._faults(start_toxiproxy(self.options.toxiproxy_url, stack), gateway.url)
                stack.callback(faults.close)
            else:
                self.mechanism = {"mechanism": "per-worker-host",
                                  "reason": "each worker host's own Toxiproxy: see packet_loss of each of extra.parts"}
            if distributed is None:
                stats = self._run_local(workdir, faults, gateway.url, stack)
            else:
                stats = self._run_distributed(workdir, distributed, faults, gateway.url, stack)
            self._audit(stats, gateway.url)
            if faults is not None:
                stats.extra["faults"] = faults.describe()
            stats.extra["packet_loss"] = self.mechanism
            return stats
        raise AssertionError("unreachable")  # pragma: no cover - ExitStack re-raises

    def _run_local(self, workdir: Path, faults: FaultLayer | None, gateway_url: str,
                   stack: contextlib.ExitStack) -> ReplicationStats:
        assert faults is not None
        tills = self.options.terminals or self.scenario.terminal_count
        start_at = time.time() + START_DELAY + tills / SPAWN_RATE
        engine = self._start_engine(workdir, faults, gateway_url, start_at)
        stack.callback(lambda: self._stop(engine))
        self._start_clock(gateway_url, start_at)
        faults.run_schedule(self.window, self._wall_of(start_at))
        self._wait([engine])
        return self._collect(workdir, 1)

    def _wall_of(self, start_at: float) -> Any:
        return lambda t: start_at + (t - self.window[0]) / self.compression

    def _window_seconds(self) -> float:
        return (self.window[1] - self.window[0]) / self.compression

    # ------------------------------------------------------------------ servers

    def _start_gateway(self, host: str) -> ServerProcess:
        argv = _python("scanrush", "gateway", self.options.scenario_path, "--host", _bindable(host), "--port", "0",
                       "--clock-origin", f"{self.window[0]:g}s", "--compression", f"{self.compression}")
        for override in self.options.overrides:
            argv += ["--set", override]
        return ServerProcess(argv, r"gateway listening on (\S+)", "gateway stub")

    def _faults(self, client: ToxiproxyClient, gateway_url: str) -> FaultLayer:
        layer = open_faults(client, self.scenario, _upstream(gateway_url), self.options, self._loss_rules())
        self.mechanism = layer.loss_mechanism()
        return layer

    def _loss_rules(self) -> tuple[LossRules | None, str]:
        if self.options.packet_loss == "off":
            return None, "packet loss switched off (--packet-loss off)"
        if self.options.packet_loss == "toxics":
            return None, "toxic approximation requested (--packet-loss toxics)"
        if self.options.toxiproxy_url:
            return None, "external Toxiproxy: a private network namespace could not reach it"
        if not in_private_netns():
            capability = probe()
            return None, ("not inside a private network namespace" if capability
                          else capability.reason)
        rules = LossRules()
        rules.open()
        return rules, ""

    def _start_clock(self, gateway_url: str, start_at: float) -> None:
        time.sleep(max(0.0, start_at - time.time()))
        _get_json(_control(gateway_url, "/control/clock"), {"scenario_time": self.window[0],
                                                           "compression": self.compression})

    # ------------------------------------------------------------------ terminals: one local engine

    def _start_engine(self, workdir: Path, faults: FaultLayer, gateway_url: str,
                      start_at: float) -> subprocess.Popen[bytes]:
        config = {
            "scenario": self.options.scenario_path, "overrides": list(self.options.overrides),
            "window": list(self.window), "terminals": self.options.terminals, "partition": [0, 1],
            "zones": _zones_config(faults), "out": str(workdir / protocol.part_file(0)),
            "compression": self.compression, "settle_url": _control(gateway_url, "/control/ledger"),
            "start_at": start_at, "tag": "L0", "drain_seconds": self.options.drain_seconds,
        }
        return start_engine(workdir / "engine-0.config.json", config)

    # ------------------------------------------------------------------ terminals: Locust's distributed mode

    def _run_distributed(self, workdir: Path, distributed: Distributed, faults: FaultLayer | None,
                         gateway_url: str, stack: contextlib.ExitStack) -> ReplicationStats:
        master_dir = workdir / "master"
        master_dir.mkdir()
        master = start_engine(workdir / "master.config.json", {
            "role": "master", "handoff": str(master_dir), "bind_host": distributed.host,
            "bind_port": distributed.port, "expect_workers": distributed.expect_workers,
            "expect_wait": distributed.expect_wait, "scenario_path": self.options.scenario_path,
            "overrides": list(self.options.overrides), "window": list(self.window),
            "terminals": self.options.terminals, "compression": self.compression,
            "drain_seconds": self.options.drain_seconds, "gateway_port": _port_of(gateway_url),
            "gateway_path": "/gateway.do",
        })
        engines = [master]
        stack.callback(lambda: [self._stop(e) for e in engines])
        if distributed.local_workers:  # started at once: they import Locust while the master does
            assert faults is not None
            engines += self._start_local_workers(workdir, distributed.local_workers,
                                                 master_dir / protocol.MASTER_FILE, faults)
        await_file(master_dir / protocol.MASTER_FILE, engines, ENGINE_START, "the Locust master")
        wait = distributed.expect_wait + ENGINE_START + 60.0  # the master's own waits bound this; a margin more
        start = await_file(master_dir / protocol.START_FILE, [master], wait, "the Locust master")
        start_at = float(json.loads(start.read_text())["start_at"])
        self._start_clock(gateway_url, start_at)
        if faults is not None:
            faults.run_schedule(self.window, self._wall_of(start_at))
        self._wait(engines)
        return self._collect_distributed(master_dir)

    def _start_local_workers(self, workdir: Path, count: int, master_file: Path,
                             faults: FaultLayer) -> list[subprocess.Popen[bytes]]:
        workers: list[subprocess.Popen[bytes]] = []
        try:
            for index in range(count):
                handoff = workdir / f"worker-{index}"
                handoff.mkdir()
                workers.append(start_engine(workdir / f"worker-{index}.config.json", {
                    "role": "worker", "handoff": str(handoff), "master_host": "127.0.0.1",
                    "master_port_file": str(master_file),
                    "connect_timeout": ENGINE_START, "plan_timeout": ENGINE_START + 30.0,
                    "zones": _zones_config(faults),
                }))
        except BaseException:  # Ctrl-C between two starts: those already running did not get the SIGINT
            for worker in workers:
                self._stop(worker)
            raise
        return workers

    def _collect_distributed(self, master_dir: Path) -> ReplicationStats:
        done_path = master_dir / protocol.DONE_FILE
        if not done_path.exists():
            raise InfrastructureError(engine_error(master_dir, "the Locust master ended without a result"))
        done = json.loads(done_path.read_text())
        self.lost = [str(lost["why"]) for lost in done["lost"]]
        if not done["received"]:
            raise InfrastructureError("no Locust worker sent its measurements: " + "; ".join(self.lost))
        stats = self._collect(master_dir, int(done["parts"]))
        stats.extra["distributed"] = {"workers": int(done["parts"]), "received": done["received"],
                                      "lost": done["lost"]}
        return stats

    # ------------------------------------------------------------------ waiting and collecting

    def _wait(self, engines: list[subprocess.Popen[bytes]]) -> None:
        self.interrupted = wait_engines(engines) or self.interrupted

    @staticmethod
    def _stop(engine: subprocess.Popen[bytes]) -> None:
        stop_engine(engine)

    def _collect(self, directory: Path, parts: int) -> ReplicationStats:
        found = []
        for part in range(parts):
            path = directory / protocol.part_file(part)
            if path.exists():
                found.append(ReplicationStats.from_dict(json.loads(path.read_text())))
        if not found:
            raise InfrastructureError("the Locust engine wrote no results (see its output above)")
        stats = merge_replications(found) if len(found) > 1 else found[0]
        stats.mechanism = "live"
        stats.extra["complete_parts"] = len(found)
        if len(found) > 1:
            stats.extra.update(summarise_parts([p.extra for p in found]))
        return stats

    def _audit(self, stats: ReplicationStats, gateway_url: str) -> None:
        view = _get_json(_control(gateway_url, "/control/ledger?settle=1"))
        metrics = _get_json(_control(gateway_url, "/control/metrics"))
        stats.ledger = {key: int(value) for key, value in view.get("audit", {}).items()}
        stats.ledger["waiting_at_end"] = max(stats.ledger.get("waiting_at_end", 0), len(view.get("waiting", [])))
        stats.gateway = {key: float(value) for key, value in metrics.items() if isinstance(value, (int, float))}
        stats.gateway["rejected_busy"] = float(metrics.get("busy_rejections", 0))  # the simulator's name
        for key in ("busy_seconds", "utilisation"):  # a stub without them: unknown, not zero
            stats.gateway[key] = _number(metrics.get(key))
        stats.extra["ledger_view"] = {"double_charged_buyers": view.get("double_charged_buyers", {})}


# --------------------------------------------------------------------------- a worker host


@dataclass
class WorkerHost:
    """``scanrush load --worker``: this host's terminals for a master elsewhere, through this host's own
    Toxiproxy (DESIGN: one Toxiproxy per load host), whose proxies point at the master's gateway."""

    options: LiveOptions
    interrupted: bool = False

    def run(self, workdir: Path) -> int:
        distributed = self.options.distributed
        assert distributed is not None
        with contextlib.ExitStack() as stack:
            client = start_toxiproxy(self.options.toxiproxy_url, stack)
            engine = start_engine(workdir / "worker.config.json", {
                "role": "worker", "handoff": str(workdir), "master_host": distributed.host,
                "master_port": distributed.port, "connect_timeout": distributed.expect_wait,
                "plan_timeout": distributed.expect_wait + ENGINE_START + 60.0,
            })
            stack.callback(lambda: stop_engine(engine))
            wait = 2 * distributed.expect_wait + 2 * ENGINE_START + 60.0  # the engine's own waits bound this
            plan = json.loads(await_file(workdir / protocol.PLAN_FILE, [engine], wait, "the worker").read_text())
            scenario_path = workdir / Path(plan["scenario_name"]).name
            scenario_path.write_text(plan["scenario_text"], encoding="utf-8")
            scenario = load_scenario(scenario_path, plan["overrides"])
            faults = open_faults(client, scenario, f"{plan['gateway_host']}:{plan['gateway_port']}",
                                 self.options, (None, self._loss_reason()))
            stack.callback(faults.close)
            write_json_atomic(workdir / protocol.ZONES_FILE, {
                "zones": _zones_config(faults), "faults": faults.describe(), "packet_loss": faults.loss_mechanism()})
            start = await_file(workdir / protocol.START_FILE, [engine], wait, "the worker")
            start_at, window = float(json.loads(start.read_text())["start_at"]), plan["window"]
            faults.run_schedule((window[0], window[1]),
                                lambda t: start_at + (t - window[0]) / float(plan["compression"]))
            self.interrupted = wait_engines([engine])
            if engine.returncode not in (0, 130):
                ended = f"the Locust worker ended with exit {engine.returncode}"
                raise InfrastructureError(engine_error(workdir, ended))
            return int(engine.returncode)
        raise AssertionError("unreachable")  # pragma: no cover - ExitStack re-raises

    def _loss_reason(self) -> str:
        if self.options.packet_loss == "off":
            return "packet loss switched off (--packet-loss off)"
        if self.options.packet_loss == "toxics":
            return "toxic approximation requested (--packet-loss toxics)"
        return "distributed worker: a private network namespace could not reach the master"


# --------------------------------------------------------------------------- shared pieces


def start_toxiproxy(url: str | None, stack: contextlib.ExitStack) -> ToxiproxyClient:
    """The given Toxiproxy (checked), or this host's embedded one (stopped with ``stack``)."""
    if url:
        client = ToxiproxyClient(url)
        try:
            client.wait_until_ready(5.0)
        except ToxiproxyError as exc:
            raise InfrastructureError(f"Toxiproxy at {url} is unreachable: {exc}") from exc
        return client
    server = ServerProcess(_python("scanrush", "toxiproxy", "--port", "0"),
                           r"toxiproxy API ready at (\S+)", "embedded Toxiproxy")
    stack.callback(server.stop)
    return ToxiproxyClient(server.url)


def open_faults(client: ToxiproxyClient, scenario: Scenario, upstream: str, options: LiveOptions,
                loss: tuple[LossRules | None, str]) -> FaultLayer:
    rules, reason = loss
    layer = FaultLayer(client, scenario, upstream, rules=rules, fallback_reason=reason,
                       loss_off=options.packet_loss == "off", shared_server=options.toxiproxy_url is not None)
    try:
        layer.open()
    except BaseException:
        layer.close()
        raise
    return layer


def start_engine(config_path: Path, config: dict[str, Any]) -> subprocess.Popen[bytes]:
    config_path.write_text(json.dumps(config))
    # Own process group: the terminal's Ctrl-C reaches an engine only through _wait, once it can
    # take it (a SIGINT during Locust's import would kill it with a traceback, its results unwritten).
    return subprocess.Popen(_python("load.engine", str(config_path)), env={**os.environ}, process_group=0)


def wait_engines(engines: Sequence[subprocess.Popen[bytes]]) -> bool:
    """Wait for the engines to finish; on Ctrl-C pass one SIGINT to each and let them write. True if interrupted."""
    try:
        for engine in engines:
            engine.wait()
    except KeyboardInterrupt:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # one Ctrl-C is enough: finish writing
        try:
            for engine in engines:
                if engine.poll() is None:
                    engine.send_signal(signal.SIGINT)
            for engine in engines:
                try:
                    engine.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    engine.kill()
                    engine.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
        return True
    return False


def stop_engine(engine: subprocess.Popen[bytes]) -> None:
    if engine.poll() is None:
        engine.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            engine.wait(timeout=30)


def await_file(path: Path, engines: Sequence[subprocess.Popen[bytes]], timeout: float, what: str) -> Path:
    """Wait for an engine's hand-off file; a dead engine or the deadline is an error with its reason."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if any(e.poll() is not None for e in engines):
            raise InfrastructureError(engine_error(path.parent, f"{what} stopped"))
        if time.monotonic() >= deadline:
            raise InfrastructureError(f"{what} did not get as far as {path.name} within {timeout:g} s")
        time.sleep(POLL)
    return path


def engine_error(handoff: Path, fallback: str) -> str:
    error = handoff / protocol.ERROR_FILE
    return error.read_text().strip() if error.exists() else f"{fallback} (see its output above)"


def summarise_parts(parts: Sequence[dict[str, object]]) -> dict[str, object]:
    """The figures one engine records at the top of ``extra``, over all parts (each stays in ``parts``)."""
    def numbers(key: str) -> list[float]:
        return [float(v) for p in parts if isinstance(v := p.get(key), (int, float))]

    first = parts[0]
    return {
        "window": first.get("window"), "compression": first.get("compression"),
        "terminals": int(sum(numbers("terminals"))), "unfinished_shoppers": int(sum(numbers("unfinished_shoppers"))),
        "locust_requests": int(sum(numbers("locust_requests"))),
        "locust_failures": int(sum(numbers("locust_failures"))),
        "interrupted": any(p.get("interrupted") for p in parts),
        "cpu_max_percent": max(numbers("cpu_max_percent"), default=0.0),
        "cpu_saturated": any(p.get("cpu_saturated") for p in parts),
    }


def _zones_config(faults: FaultLayer) -> dict[str, dict[str, Any]]:
    return {str(z): {"host": h, "port": p} for z, (h, p) in faults.endpoints().items()}


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) else NAN


def _bindable(host: str) -> str:
    return "0.0.0.0" if host in ("*", "") else host


def _upstream(gateway_url: str) -> str:
    """``host:port`` of our own gateway as this host reaches it (bound to every interface: over loopback)."""
    host, port = re.sub(r"^https?://([^/]+).*$", r"\1", gateway_url).rsplit(":", 1)
    return f"{'127.0.0.1' if host in ('0.0.0.0', '[::]') else host}:{port}"


def _port_of(gateway_url: str) -> int:
    return int(_upstream(gateway_url).rsplit(":", 1)[1])


def _control(gateway_url: str, path: str) -> str:
    return f"http://{_upstream(gateway_url)}{path}"
