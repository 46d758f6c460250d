"""``scanrush load`` end to end: real gateway stub, Toxiproxy, packet loss and Locust terminals on loopback.

Every run is the real command in a child process (``python -m scanrush load``), in its own
session so that a Ctrl-C can be sent the way a terminal sends it (to the foreground process
group), watched by a thread that records the processes it starts (gateway, Toxiproxy, engine)
and kills everything if it overruns.  This process never imports Locust.

A live window takes ~45 s of wall time, so the long runs are started together, in the
background, when the first test of this file runs (only those the selected tests need; under
pytest-xdist each worker starts a run when a test asks for it).  The quick tests (exit codes,
Ctrl-C) come first and run while the long ones proceed; the whole file takes under a minute
on two cores (about two and a half under ``pytest -n 2``, where the runs start one by one).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from load.packetloss import probe
from load.packetloss.netns import find_tool
from load.toxiproxy.client import ToxiproxyClient
from scanrush.results import ReplicationStats, RunResult, read_result

pytestmark = pytest.mark.live

DATA = Path(__file__).parent / "data"
CLEAN = DATA / "live_clean.yaml"
"""Nothing can fail a payment: every failure or timeout would be the harness's own."""
FAULTS = DATA / "live_faults.yaml"
"""Lossy networks and an 8 s outage at 8 s into the 35 s window."""
DRAIN = "20s"
RUN_TIMEOUT = 150.0
"""A run is a 35 s window + at most 20 s of drain + ~10 s of start and stop; this only stops a hung one."""
QUICK_TIMEOUT = 60.0
SIGINT_AFTER = 10.0
"""Seconds into the live window at which the Ctrl-C test interrupts (shoppers have finished by then)."""
SERVER_READY_TIMEOUT = 20.0
POLL = 0.25
HARNESS_FAILURES = ("timeout", "connect_failed")
"""Attempt results that mean the terminal never got an answer (``pay:timeout``, ``query:connect_failed``)."""
ORCHESTRATED = ("gateway", "toxiproxy", "engine")


# --------------------------------------------------------------------------- processes


def child_kind(cmdline: list[str]) -> str | None:
    """Which of the run's servers a command line is: ``python -m scanrush gateway ...`` -> "gateway"."""
    if "load.engine" in cmdline:
        return "engine"
    for kind in ("gateway", "toxiproxy"):
        if any(a == "scanrush" and b == kind for a, b in itertools.pairwise(cmdline)):
            return kind
    return None


@dataclass(frozen=True, slots=True)
class Seen:
    pid: int
    created: float
    kind: str
    cmdline: tuple[str, ...]

    def alive(self) -> bool:
        """Still running (and not merely a zombie waiting to be reaped); pid reuse is told apart by start time."""
        try:
            process = psutil.Process(self.pid)
            return bool(process.create_time() == self.created and process.status() != psutil.STATUS_ZOMBIE)
        except psutil.Error:
            return False

    def kill(self) -> None:
        if self.alive():
            with contextlib.suppress(psutil.Error):
                psutil.Process(self.pid).kill()


@dataclass
class CliRun:
    """``python -m scanrush ARGS`` in its own session, watched until it exits or overruns ``timeout``."""

    args: list[str]
    log: Path
    timeout: float
    process: subprocess.Popen[bytes] = field(init=False)
    seen: dict[int, Seen] = field(default_factory=dict)
    returncode: int | None = None
    wall: float = 0.0
    _done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._started = time.monotonic()
        with self.log.open("wb") as sink:  # a file, not a pipe: nothing blocks however much it prints
            self.process = subprocess.Popen([sys.executable, "-m", "scanrush", *self.args], stdout=sink,
                                            stderr=subprocess.STDOUT, start_new_session=True,
                                            cwd=self.log.parent)
        threading.Thread(target=self._watch, name=f"watch-{self.process.pid}", daemon=True).start()

    def _watch(self) -> None:
        deadline = self._started + self.timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._record_descendants()
            time.sleep(POLL)
        if self.process.poll() is None:  # overran: take everything down, the test reports the timeout
            self.kill()
        self.returncode = self.process.wait()
        self.wall = time.monotonic() - self._started
        self._done.set()

    def _record_descendants(self) -> None:
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.process.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if child.pid not in self.seen and (kind := child_kind(child.cmdline())):
                        self.seen[child.pid] = Seen(child.pid, child.create_time(), kind, tuple(child.cmdline()))

    def wait(self) -> CliRun:
        self._done.wait(self.timeout + 30.0)
        assert self.returncode is not None, f"the watcher of {self.args} never finished"
        return self

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert self.process.poll() is None, f"exited early:\n{self.explain()}"
            assert time.monotonic() < deadline, f"not reached in {timeout} s:\n{self.explain()}"
            time.sleep(POLL)

    def interrupt(self) -> None:
        """Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def kill(self) -> None:
        # The gateway, Toxiproxy and engines have process groups of their own: kill them one by one.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._record_descendants()
        for seen in self.seen.values():
            seen.kill()

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def explain(self) -> str:
        tail = "\n".join(self.output.splitlines()[-40:])
        return f"scanrush {' '.join(self.args)}\nexit {self.returncode} after {self.wall:.1f} s; output:\n{tail}"

    def kinds(self) -> set[str]:
        return {s.kind for s in self.seen.values()}

    def leftovers(self, grace: float = 10.0) -> list[Seen]:
        """Servers this run started that outlive it (given ``grace`` seconds to finish exiting)."""
        deadline = time.monotonic() + grace
        while (alive := [s for s in self.seen.values() if s.alive()]) and time.monotonic() < deadline:
            time.sleep(POLL)
        return alive


def load_args(scenario: Path, out: Path, *extra: str) -> list[str]:
    return ["load", str(scenario), "--drain", DRAIN, "-o", str(out), *extra]


def result_of(run: CliRun, out: Path) -> tuple[RunResult, ReplicationStats]:
    assert out.exists(), f"no result file\n{run.explain()}"
    result = read_result(out)
    assert result.kind == "live"
    assert len(result.replications) == 1
    return result, result.replications[0]


def free_port() -> int:
    """A port nothing listens on (bound, then released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_clean_exit(run: CliRun) -> None:
    assert "Traceback" not in run.output, run.explain()
    left = run.leftovers()
    assert not left, f"still running after the command exited: {[' '.join(s.cmdline) for s in left]}"


def assert_ledger_closed(stats: ReplicationStats, run: CliRun) -> None:
    assert stats.ledger["double_charges"] == 0, f"{stats.ledger} {stats.extra.get('ledger_view')}\n{run.explain()}"
    assert stats.ledger["waiting_at_end"] == 0, f"{stats.ledger}\n{run.explain()}"


def network_trouble(stats: ReplicationStats) -> int:
    """Shoppers failed by the network plus attempts that timed out or never connected."""
    timeouts = sum(n for key, n in stats.attempt_results.items() if key.endswith(HARNESS_FAILURES))
    return stats.failures_by_cause["network"] + timeouts


# --------------------------------------------------------------------------- external Toxiproxy servers


class ToxiproxyServer:
    """A Toxiproxy server this test starts and passes via ``--toxiproxy-url``: the embedded or the real one."""

    def __init__(self, kind: str, log: Path) -> None:
        self.log = log
        if kind == "embedded":
            argv = [sys.executable, "-m", "scanrush", "toxiproxy", "--port", "0"]
            port = None
        else:  # the real binary cannot be told port 0 and then asked which: pick a free one
            port = free_port()
            argv = [shutil.which("toxiproxy-server") or "toxiproxy-server", "-host", "127.0.0.1", "-port", str(port)]
        with log.open("wb") as sink:
            self.process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = self._ready_url(port)
        ToxiproxyClient(self.url).wait_until_ready(SERVER_READY_TIMEOUT)

    def _ready_url(self, port: int | None) -> str:
        if port is not None:
            return f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_READY_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            match = re.search(r"toxiproxy API ready at (\S+)", self.log.read_text(errors="replace"))
            if match:
                return match.group(1)
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"the embedded Toxiproxy did not start: {self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --------------------------------------------------------------------------- the long runs


@dataclass(frozen=True, slots=True)
class RunSpec:
    scenario: Path
    options: tuple[str, ...] = ()
    toxiproxy: str | None = None
    """Start this Toxiproxy ("embedded" or "toxiproxy-server") and pass it with ``--toxiproxy-url``."""

    def unavailable(self) -> str | None:
        """Why this run cannot happen here (the consuming test skips with it), or None."""
        if self.toxiproxy == "toxiproxy-server" and shutil.which("toxiproxy-server") is None:
            return "toxiproxy-server not installed"
        if "auto" in self.options and not (capability := probe()):
            return f"real packet loss unavailable here: {capability.reason}"
        return None


RUNS: dict[str, RunSpec] = {
    "clean": RunSpec(CLEAN),
    "nftables": RunSpec(FAULTS, ("--packet-loss", "auto")),
    "toxics": RunSpec(FAULTS, ("--packet-loss", "toxics")),
    "external-embedded": RunSpec(FAULTS, toxiproxy="embedded"),
    "external-toxiproxy-server": RunSpec(FAULTS, toxiproxy="toxiproxy-server"),
}


def runs_wanted_by(item: pytest.Item) -> list[str]:
    """The long runs a collected test of this file will ask for."""
    name = getattr(item, "originalname", item.name)
    if name == "test_external_toxiproxy":
        return [f"external-{item.callspec.params['server']}"]  # type: ignore[attr-defined]
    return {"test_clean_profile": ["clean"], "test_faults_with_real_packet_loss": ["nftables"],
            "test_toxic_fallback": ["toxics"]}.get(name, [])


class LongRuns:
    """The long runs, started together in the background, each consumed by one test."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.runs: dict[str, CliRun] = {}
        self.servers: dict[str, ToxiproxyServer] = {}
        self._lock = threading.Lock()

    def start(self, name: str) -> CliRun:
        with self._lock:
            if name not in self.runs:
                spec = RUNS[name]
                extra = list(spec.options)
                if spec.toxiproxy is not None:
                    server = ToxiproxyServer(spec.toxiproxy, self.base / f"{name}.toxiproxy.log")
                    self.servers[name] = server
                    extra += ["--toxiproxy-url", server.url]
                args = load_args(spec.scenario, self.out(name), *extra)
                self.runs[name] = CliRun(args, self.base / f"{name}.log", RUN_TIMEOUT)
            return self.runs[name]

    def out(self, name: str) -> Path:
        return self.base / f"{name}.json"

    def get(self, name: str) -> CliRun:
        reason = RUNS[name].unavailable()
        if reason:
            pytest.skip(reason)
        return self.start(name).wait()

    def close(self) -> None:
        for run in self.runs.values():
            if run.process.poll() is None:
                run.kill()
            run.wait()
        for server in self.servers.values():
            server.stop()


@pytest.fixture(scope="module", autouse=True)
def long_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LongRuns]:
    runs = LongRuns(tmp_path_factory.mktemp("live"))
    if "PYTEST_XDIST_WORKER" not in os.environ:  # a worker runs only some of these tests: start on demand there
        here = Path(__file__).resolve()
        wanted = {name for item in request.session.items if Path(item.path).resolve() == here
                  for name in runs_wanted_by(item)}
        for name in sorted(wanted):
            if RUNS[name].unavailable() is None:
                runs.start(name)
    yield runs
    runs.close()


# --------------------------------------------------------------------------- quick: exit codes


def test_unreachable_toxiproxy_is_exit_3(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    run = CliRun(load_args(CLEAN, tmp_path / "r.json", "--toxiproxy-url", url), tmp_path / "log", QUICK_TIMEOUT).wait()
    assert run.returncode == 3, run.explain()
    assert f"error: Toxiproxy at {url} is unreachable" in run.output, run.explain()
    assert not (tmp_path / "r.json").exists()
    assert_clean_exit(run)  # the gateway it had started is gone too
    assert "gateway" in run.kinds()


def test_bad_scenario_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CLEAN.read_text().replace("rtt: 20ms", "rtt: fast"), encoding="utf-8")
    run = CliRun(load_args(bad, tmp_path / "r.json"), tmp_path / "log", QUICK_TIMEOUT).wait()
    assert run.returncode == 2, run.explain()
    assert re.search(r"bad\.yaml:\d+:\d+: networks\.shop-lan\.rtt = 'fast'", run.output), run.explain()
    assert_clean_exit(run)
    assert not run.seen  # nothing was started for a scenario that does not load


def test_window_past_the_promotion_is_exit_2(tmp_path: Path) -> None:
    run = CliRun(load_args(CLEAN, tmp_path / "r.json", "--window", "1m..3m"), tmp_path / "log", QUICK_TIMEOUT).wait()
    assert run.returncode == 2, run.explain()
    assert "error: --window ends at 3m" in run.output, run.explain()
    assert "after the promotion (2m)" in run.output, run.explain()
    assert_clean_exit(run)
    assert not run.seen


# --------------------------------------------------------------------------- Ctrl-C


def engine_start_at(run: CliRun) -> float | None:
    """The wall time the live window starts, from the engine's config (its command line names the file)."""
    for seen in run.seen.values():
        if seen.kind == "engine":
            with contextlib.suppress(OSError, ValueError, KeyError):
                return float(json.loads(Path(seen.cmdline[-1]).read_text())["start_at"])
    return None


def test_ctrl_c_writes_an_interrupted_result(tmp_path: Path) -> None:
    # The faulty scenario, so that where real loss is possible the Ctrl-C also crosses the
    # network-namespace re-exec (the launcher waits while the command inside writes its result).
    out = tmp_path / "r.json"
    run = CliRun(load_args(FAULTS, out), tmp_path / "log", RUN_TIMEOUT)
    try:
        run.wait_for(lambda: engine_start_at(run) is not None, timeout=60.0)
        start_at = engine_start_at(run)
        assert start_at is not None
        run.wait_for(lambda: time.time() >= start_at + SIGINT_AFTER, timeout=60.0)
        interrupted_at = time.monotonic()
        run.interrupt()
        run.wait()
    except BaseException:
        run.kill()  # only on failure: after a normal exit, what is still alive is the finding below
        raise
    assert run.returncode == 130, run.explain()
    assert time.monotonic() - interrupted_at < 30.0, "stopping took longer than the window had left"
    assert "interrupted; what was measured was written" in run.output, run.explain()
    result, stats = result_of(run, out)
    assert result.interrupted
    assert result.partial
    assert stats.extra["interrupted"] is True
    assert stats.shoppers > 0
    assert sum(stats.outcomes.values()) > 0, f"no shopper finished: {stats.outcomes}"
    assert stats.ledger["trades"] > 0  # the ledger was still audited: the gateway outlived the Ctrl-C
    assert set(ORCHESTRATED) <= run.kinds(), run.seen
    assert_clean_exit(run)


# --------------------------------------------------------------------------- long runs


def test_clean_profile(long_runs: LongRuns) -> None:
    run = long_runs.get("clean")
    assert run.returncode == 0, run.explain()
    result, stats = result_of(run, long_runs.out("clean"))
    assert not result.partial
    assert not result.interrupted
    assert stats.shoppers >= 15, f"too few shoppers to mean anything: {stats.shoppers}"
    assert stats.extra["unfinished_shoppers"] == 0
    huabei = stats.huabei_checkouts()
    assert huabei > 0
    assert stats.outcomes["paid_huabei"] == huabei, stats.outcomes
    assert stats.huabei_success_rate() == 1.0
    assert all(n == 0 for n in stats.failures_by_cause.values()), stats.failures_by_cause
    assert stats.outcomes["abandoned_queue"] == 0
    harness = {k: n for k, n in stats.attempt_results.items() if k.endswith(HARNESS_FAILURES)}
    assert not harness, f"the harness failed requests on a clean network: {stats.attempt_results}"
    assert stats.attempt_results == {"pay:10000": huabei}
    assert stats.extra["locust_failures"] == 0
    assert_ledger_closed(stats, run)
    assert stats.ledger["paid"] == stats.ledger["trades"] == huabei, stats.ledger
    assert set(ORCHESTRATED) <= run.kinds()
    assert_clean_exit(run)


def test_faults_with_real_packet_loss(long_runs: LongRuns) -> None:
    run = long_runs.get("nftables")
    assert run.returncode == 0, run.explain()
    _, stats = result_of(run, long_runs.out("nftables"))
    loss = stats.extra["packet_loss"]
    assert isinstance(loss, dict)
    assert loss["mechanism"] == probe().mechanism, loss
    faults = stats.extra["faults"]
    assert isinstance(faults, dict)
    assert any(int(n) > 0 for n in faults["dropped"].values()), f"no packet was dropped: {faults['dropped']}"
    assert [c["outage"] for c in faults["schedule"]] == ["start", "end"], faults["schedule"]
    assert network_trouble(stats) > 0, f"loss and an outage, yet no trouble: {stats.attempt_results}"
    assert stats.outcomes["paid_huabei"] > 0
    assert_ledger_closed(stats, run)
    assert_clean_exit(run)
    assert "scanrush" not in _host_nft_tables()  # the drop rules lived and died in the run's namespace


def _host_nft_tables() -> str:
    nft = find_tool("nft")
    if nft is None:
        return ""
    done = subprocess.run([nft, "list", "tables"], capture_output=True, text=True, check=False, timeout=10)
    return done.stdout


def test_toxic_fallback(long_runs: LongRuns) -> None:
    run = long_runs.get("toxics")
    assert run.returncode == 0, run.explain()
    _, stats = result_of(run, long_runs.out("toxics"))
    assert stats.extra["packet_loss"] == {"mechanism": "toxic-approximation",
                                          "reason": "toxic approximation requested (--packet-loss toxics)"}
    assert "packet loss realised by: toxic-approximation (toxic approximation requested" in run.output
    faults = stats.extra["faults"]
    assert isinstance(faults, dict)
    for zone in faults["zones"]:
        assert zone["loss_mechanism"].startswith("toxic-approximation"), zone
        assert len(zone["toxics"]) > 2, f"no loss toxics on top of the latency ones: {zone}"
    assert {c["how"] for c in faults["schedule"]} == {"timeout toxic (requests swallowed)", "timeout toxic removed"}
    assert network_trouble(stats) > 0, stats.attempt_results
    assert_ledger_closed(stats, run)
    assert_clean_exit(run)


@pytest.mark.parametrize("server", ["toxiproxy-server", "embedded"])
def test_external_toxiproxy(long_runs: LongRuns, server: str) -> None:
    """``--toxiproxy-url``: the fault layer drives a server it did not start, through the API alone."""
    name = f"external-{server}"
    run = long_runs.get(name)
    assert run.returncode == 0, run.explain()
    _, stats = result_of(run, long_runs.out(name))
    assert "toxiproxy" not in run.kinds(), "started its own Toxiproxy despite --toxiproxy-url"
    loss = stats.extra["packet_loss"]
    assert isinstance(loss, dict)
    assert loss["mechanism"] == "toxic-approximation", loss
    assert loss["reason"], loss
    faults = stats.extra["faults"]
    assert isinstance(faults, dict)
    assert [c["outage"] for c in faults["schedule"]] == ["start", "end"], faults["schedule"]
    assert stats.outcomes["paid_huabei"] > 0
    assert network_trouble(stats) > 0, stats.attempt_results
    assert_ledger_closed(stats, run)
    assert_clean_exit(run)
    left = [p for p in ToxiproxyClient(long_runs.servers[name].url).proxies() if p.startswith("scanrush-")]
    assert not left, f"proxies left on the server: {left}"
