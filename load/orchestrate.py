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

from load.engine.plan import SPAWN_RATE, default_window
from load.faults import FaultLayer
from load.packetloss import LossRules, in_private_netns, probe
from load.toxiproxy.client import ToxiproxyClient, ToxiproxyError
from scanrush.errors import InfrastructureError
from scanrush.results import ReplicationStats, merge_replications
from scanrush.scenario.schema import Scenario

READY_TIMEOUT = 30.0
START_DELAY = 3.0
"""Seconds between launching the terminals and the window's first instant (Locust's import and spawn)."""


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

    def __post_init__(self) -> None:
        self.window = self.options.window or default_window(self.scenario)
        self.compression = self.options.compression or self.scenario.live.time_compression

    def run(self, workdir: Path) -> ReplicationStats:
        with contextlib.ExitStack() as stack:
            gateway = self._start_gateway()
            stack.callback(gateway.stop)
            client = self._toxiproxy(stack)
            faults = self._faults(client, gateway.url)
            stack.callback(faults.close)
            tills = self.options.terminals or self.scenario.terminal_count
            start_at = time.time() + START_DELAY + tills / SPAWN_RATE
            engines = self._start_engines(workdir, faults, gateway.url, start_at)
            stack.callback(lambda: [self._stop(e) for e in engines])
            self._start_clock(gateway.url, start_at)
            faults.run_schedule(self.window, lambda t: start_at + (t - self.window[0]) / self.compression)
            self._wait(engines)
            stats = self._collect(workdir, len(engines))
            self._audit(stats, gateway.url)
            stats.extra["faults"] = faults.describe()
            stats.extra["packet_loss"] = self.mechanism
            return stats
        raise AssertionError("unreachable")  # pragma: no cover - ExitStack re-raises

    # ------------------------------------------------------------------ servers

    def _start_gateway(self) -> ServerProcess:
        argv = _python("scanrush", "gateway", self.options.scenario_path, "--port", "0",
                       "--clock-origin", f"{self.window[0]:g}s", "--compression", f"{self.compression}")
        for override in self.options.overrides:
            argv += ["--set", override]
        return ServerProcess(argv, r"gateway listening on (\S+)", "gateway stub")

    def _toxiproxy(self, stack: contextlib.ExitStack) -> ToxiproxyClient:
        if self.options.toxiproxy_url:
            client = ToxiproxyClient(self.options.toxiproxy_url)
            try:
                client.wait_until_ready(5.0)
            except ToxiproxyError as exc:
                raise InfrastructureError(f"Toxiproxy at {self.options.toxiproxy_url} is unreachable: {exc}") from exc
            return client
        server = ServerProcess(_python("scanrush", "toxiproxy", "--port", "0"),
                               r"toxiproxy API ready at (\S+)", "embedded Toxiproxy")
        stack.callback(server.stop)
        return ToxiproxyClient(server.url)

    def _faults(self, client: ToxiproxyClient, gateway_url: str) -> FaultLayer:
        upstream = re.sub(r"^https?://([^/]+).*$", r"\1", gateway_url)
        rules, reason = self._loss_rules()
        layer = FaultLayer(client, self.scenario, upstream, rules=rules, fallback_reason=reason,
                           loss_off=self.options.packet_loss == "off",
                           shared_server=self.options.toxiproxy_url is not None)
        try:
            layer.open()
        except BaseException:
            layer.close()
            raise
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
        control = gateway_url.replace("/gateway.do", "/control/clock")
        _get_json(control, {"scenario_time": self.window[0], "compression": self.compression})

    # ------------------------------------------------------------------ terminals

    def _start_engines(self, workdir: Path, faults: FaultLayer, gateway_url: str,
                       start_at: float) -> list[subprocess.Popen[bytes]]:
        engines: list[subprocess.Popen[bytes]] = []
        try:
            for part in range(max(1, self.options.processes)):
                engines.append(self._start_engine(workdir, faults, gateway_url, start_at, part))
        except BaseException:  # Ctrl-C between two starts: those already running did not get the SIGINT
            for engine in engines:
                self._stop(engine)
            raise
        return engines

    def _start_engine(self, workdir: Path, faults: FaultLayer, gateway_url: str, start_at: float,
                      part: int) -> subprocess.Popen[bytes]:
        parts = max(1, self.options.processes)
        config = {
            "scenario": self.options.scenario_path, "overrides": list(self.options.overrides),
            "window": list(self.window), "terminals": self.options.terminals, "partition": [part, parts],
            "zones": {str(z): {"host": h, "port": p} for z, (h, p) in faults.endpoints().items()},
            "out": str(workdir / f"engine-{part}.json"), "compression": self.compression,
            "settle_url": gateway_url.replace("/gateway.do", "/control/ledger"),
            "start_at": start_at, "tag": f"L{part}", "drain_seconds": self.options.drain_seconds,
        }
        path = workdir / f"engine-{part}.config.json"
        path.write_text(json.dumps(config))
        # Own process group: the terminal's Ctrl-C reaches an engine only through _wait, once it can
        # take it (a SIGINT during Locust's import would kill it with a traceback, its results unwritten).
        return subprocess.Popen(_python("load.engine", str(path)), env={**os.environ}, process_group=0)

    def _wait(self, engines: list[subprocess.Popen[bytes]]) -> None:
        try:
            for engine in engines:
                engine.wait()
        except KeyboardInterrupt:
            self.interrupted = True
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

    @staticmethod
    def _stop(engine: subprocess.Popen[bytes]) -> None:
        if engine.poll() is None:
            engine.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                engine.wait(timeout=30)

    def _collect(self, workdir: Path, parts: int) -> ReplicationStats:
        found = []
        for part in range(parts):
            path = workdir / f"engine-{part}.json"
            if path.exists():
                found.append(ReplicationStats.from_dict(json.loads(path.read_text())))
        if not found:
            raise InfrastructureError("the Locust engine wrote no results (see its output above)")
        stats = merge_replications(found) if len(found) > 1 else found[0]
        stats.mechanism = "live"
        stats.extra["complete_parts"] = len(found)
        return stats

    def _audit(self, stats: ReplicationStats, gateway_url: str) -> None:
        base = gateway_url.replace("/gateway.do", "")
        view = _get_json(f"{base}/control/ledger?settle=1")
        metrics = _get_json(f"{base}/control/metrics")
        stats.ledger = {key: int(value) for key, value in view.get("audit", {}).items()}
        stats.ledger["waiting_at_end"] = max(stats.ledger.get("waiting_at_end", 0), len(view.get("waiting", [])))
        stats.gateway = {key: float(value) for key, value in metrics.items() if isinstance(value, (int, float))}
        stats.gateway["rejected_busy"] = float(metrics.get("busy_rejections", 0))  # the simulator's name
        stats.extra["ledger_view"] = {"double_charged_buyers": view.get("double_charged_buyers", {})}
