"""Real packet loss: private namespaces, nftables drop rules, real TCP against the model, the fallback.

Everything that drops packets runs in a child process inside a fresh network namespace
(``reexec_in_netns``); this process only reads results.  Tests that need that are skipped, with
:func:`probe`'s reason (what is missing), where the kernel or the machine does not allow it.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from load.packetloss import (
    MARKER,
    Capability,
    LossRules,
    NotInPrivateNetnsError,
    in_private_netns,
    probe,
    reexec_in_netns,
    toxic_fallback,
)
from load.packetloss import netns as netns_module
from load.packetloss.echo import empirical_cdf
from load.packetloss.fallback import toxics_cdf
from load.packetloss.netns import find_tool, netns_inode
from scanrush.errors import InfrastructureError
from scanrush.network import tcp

pytestmark = pytest.mark.live

CHILD_TIMEOUT = 90.0
"""Hard stop for any child; the echo experiment bounds itself well inside this (45 s + 10 s)."""


@pytest.fixture(scope="module")
def capability() -> Capability:
    cap = probe()
    if not cap:
        pytest.skip(f"real packet loss unavailable here: {cap.reason}")
    return cap


def run_in_netns(cap: Capability, argv: list[str]) -> int:
    return reexec_in_netns(argv, dict(os.environ), capability=cap, timeout=CHILD_TIMEOUT)


def echo_experiment(cap: Capability, out: Path, loss: float, requests: int, timeout: float = 10.0) -> dict[str, Any]:
    argv = [sys.executable, "-m", "load.packetloss.echo", str(out), "--loss", str(loss),
            "--requests", str(requests), "--concurrency", "32", "--timeout", str(timeout)]
    assert run_in_netns(cap, argv) == 0
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


# --------------------------------------------------------------------------- probe


def test_probe_is_fast_and_leaves_the_ruleset_alone() -> None:
    nft = find_tool("nft")
    before = _ruleset(nft)
    started = time.monotonic()
    cap = probe()
    assert time.monotonic() - started < 1.0
    assert cap.ok == (cap.reason == "")
    assert _ruleset(nft) == before  # the probe's table lived and died in its own namespace


def _ruleset(nft: str | None) -> str | None:
    if nft is None:
        return None
    done = subprocess.run([nft, "list", "ruleset"], capture_output=True, text=True, check=False, timeout=10)
    return done.stdout if done.returncode == 0 else None


def test_probe_names_the_missing_nft(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns_module, "find_tool", lambda name: None if name == "nft" else "/usr/bin/" + name)
    cap = probe()
    assert not cap
    assert "nft not found" in cap.reason
    assert "nftables" in cap.reason  # says what to install
    assert cap.mechanism == "unavailable"


def test_probe_names_a_refused_unshare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    refusing = tmp_path / "unshare"
    refusing.write_text("#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n")
    refusing.chmod(0o755)
    monkeypatch.setattr(netns_module, "find_tool", lambda name: str(refusing) if name == "unshare" else "/bin/true")
    cap = probe()
    assert not cap
    assert "cannot create a network namespace" in cap.reason
    assert "Operation not permitted" in cap.reason


# --------------------------------------------------------------------------- refusing the root namespace


def test_this_process_is_not_in_a_private_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    if in_private_netns():
        pytest.skip("the test run itself was started inside a scanrush namespace")
    # A marker leaked into an ordinary process does not make it private: the namespace must differ.
    monkeypatch.setenv(MARKER, str(netns_inode()))
    assert not in_private_netns()


@pytest.mark.parametrize("marker", [None, "own-inode", "garbage"])
def test_loss_rules_refuse_outside_a_private_namespace(monkeypatch: pytest.MonkeyPatch, marker: str | None) -> None:
    if in_private_netns():
        pytest.skip("the test run itself was started inside a scanrush namespace")
    if marker is None:
        monkeypatch.delenv(MARKER, raising=False)
    else:
        monkeypatch.setenv(MARKER, str(netns_inode()) if marker == "own-inode" else marker)
    # A bogus nft path: had the guard let us through, nft would fail with a plain InfrastructureError.
    rules = LossRules(nft="/nonexistent/nft")
    with pytest.raises(NotInPrivateNetnsError, match="refusing"):
        rules.open()
    with pytest.raises(NotInPrivateNetnsError), LossRules(nft="/nonexistent/nft"):
        pass


# --------------------------------------------------------------------------- the namespace


CHILD_CHECKS = """
import json, socket, sys
from load.packetloss.netns import in_private_netns, netns_inode
server = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(server.getsockname(), timeout=2)
json.dump({"private": in_private_netns(), "inode": netns_inode(), "loopback_works": True,
           "interfaces": sorted(name for _, name in socket.if_nameindex())}, open(sys.argv[1], "w"))
sys.exit(7)
"""


def test_reexec_runs_the_command_in_a_fresh_namespace_with_lo_up(capability: Capability, tmp_path: Path) -> None:
    out = tmp_path / "child.json"
    rc = run_in_netns(capability, [sys.executable, "-c", CHILD_CHECKS, str(out)])
    assert rc == 7  # the child's exit status comes back
    child = json.loads(out.read_text())
    assert child["private"] is True
    assert child["inode"] != netns_inode()
    assert child["loopback_works"] is True
    assert child["interfaces"] == ["lo"]  # nothing else is reachable from inside (/sys/class/net would lie)


def test_reexec_kills_a_child_that_runs_over(capability: Capability) -> None:
    started = time.monotonic()
    with pytest.raises(InfrastructureError, match="ran over"):
        reexec_in_netns(["sleep", "30"], dict(os.environ), capability=capability, timeout=0.5)
    assert time.monotonic() - started < 5.0


RULES_LIFECYCLE = """
import json, socket, subprocess, sys
from load.packetloss import LossRules
from load.packetloss.netns import find_tool

def tables():
    out = subprocess.run([find_tool("nft"), "-j", "list", "tables"], capture_output=True, text=True, check=True)
    return [t["table"]["name"] for t in json.loads(out.stdout)["nftables"] if "table" in t]

report = {}
try:
    with LossRules() as rules:
        report["created"] = "scanrush" in tables()
        rules.set_loss(8001, 0.0)
        server = socket.create_server(("127.0.0.1", 8001))
        client = socket.create_connection(("127.0.0.1", 8001), timeout=5)
        client.sendall(b"ping")
        report["counted"] = rules.counters()[8001].seen
        rules.set_loss(8001, 0.25)  # a change keeps the counts
        report["kept"] = rules.counters()[8001].seen
        rules.set_loss(8002, 1.0)
        report["listing"] = subprocess.run([find_tool("nft"), "list", "table", "inet", "scanrush"],
                                           capture_output=True, text=True, check=True).stdout
        rules.set_loss(8001, 0.5)
        report["loss"] = {str(k): v for k, v in rules.loss.items()}
        rules.remove(8002)
        report["after_remove"] = sorted(rules.counters())
        rules.clear()
        report["after_clear"] = sorted(rules.counters())
        raise RuntimeError("boom")
except RuntimeError:
    report["raised"] = True
report["after_exit"] = tables()
json.dump(report, open(sys.argv[1], "w"))
"""


def test_rules_are_created_updated_and_removed_even_on_exceptions(capability: Capability, tmp_path: Path) -> None:
    out = tmp_path / "rules.json"
    assert run_in_netns(capability, [sys.executable, "-c", RULES_LIFECYCLE, str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["created"] is True
    assert report["kept"] >= report["counted"] >= 4  # SYN, ACK, data to the port; SYN-ACK from it
    listing = report["listing"]
    assert "hook input priority raw" in listing
    for port, threshold in ((8001, "< 2500"), (8002, "<= 9999")):
        assert f"tcp dport {port} counter name \"p{port}_to_seen\" numgen random mod 10000 {threshold}" in listing
        assert f"tcp sport {port} counter name \"p{port}_from_seen\" numgen random mod 10000 {threshold}" in listing
    assert report["loss"] == {"8001": 0.5, "8002": 1.0}
    assert report["after_remove"] == [8001]
    assert report["after_clear"] == []
    assert report["raised"] is True
    assert "scanrush" not in report["after_exit"]


def test_counters_count_real_drops_in_both_directions(capability: Capability, tmp_path: Path) -> None:
    # Only the counters matter here: a short timeout cuts the long handshake tail of 30 % loss.
    result = echo_experiment(capability, tmp_path / "echo.json", loss=0.3, requests=150, timeout=2.0)
    assert result["in_private_netns"] is True
    assert result["table_left_after_exit"] is False
    c = result["counters"]
    assert c["to_seen"] > 150  # SYN, ACK, request, FIN per exchange to the port ...
    assert c["from_seen"] > 150  # ... SYN-ACK, reply, ACKs from it
    assert c["to_dropped"] > 0
    assert c["from_dropped"] > 0
    seen, dropped = c["to_seen"] + c["from_seen"], c["to_dropped"] + c["from_dropped"]
    assert abs(dropped / seen - 0.3) <= 4 * math.sqrt(0.3 * 0.7 / seen)


def test_no_loss_drops_nothing(capability: Capability, tmp_path: Path) -> None:
    result = echo_experiment(capability, tmp_path / "echo.json", loss=0.0, requests=300)
    c = result["counters"]
    assert c["to_seen"] > 0
    assert c["from_seen"] > 0
    assert c["to_dropped"] == c["from_dropped"] == 0
    times = result["times"]
    assert all(t is not None and t < 0.1 for t in times)  # no retransmission timer ever fired


# --------------------------------------------------------------------------- real TCP against the model

CHECKPOINTS = (0.1, 0.3, 1.1, 1.6, 2.2)
"""simulation.md §4.3's points, minus 3.2 s and 5.2 s where a timer lands right on the point."""
TIMER_SLOP = 1.1
"""Linux timers fire up to ~10 % late, never early (§4.1): the kernel's CDF at t lies between the
model's at t/1.1 and at t.  So the allowed shortfall is widened by F(t) − F(t/1.1), the model's
mass that a late timer can push past t; at these points that is 0 except near 1.1 s (the 1 s
SYN resend, fired at 1.01 s) and 2.2 s (the 2 s SYN resend, 2.04 s)."""


def test_real_tcp_under_real_loss_matches_the_model(capability: Capability, tmp_path: Path) -> None:
    loss, n = 0.10, 1000
    result = echo_experiment(capability, tmp_path / "echo.json", loss=loss, requests=n)
    times = result["times"]
    assert len(times) == n
    assert sum(t is None for t in times) <= 5  # only the rare > 10 s requests; the deadline cut none short
    misses = []
    for t in CHECKPOINTS:
        model = tcp.cdf(t, loss, 0.0)
        sigma = math.sqrt(model * (1.0 - model) / n)
        slop = model - tcp.cdf(t / TIMER_SLOP, loss, 0.0)
        measured = empirical_cdf(times, t)
        if not -(4 * sigma + slop) <= measured - model <= 4 * sigma:
            misses.append(f"P(T<={t})={measured:.4f}, model {model:.4f}, 4σ={4 * sigma:.4f}, slop={slop:.4f}")
    assert not misses, misses


# --------------------------------------------------------------------------- fallback


FALLBACK_BOUNDS = {0.01: 0.001, 0.03: 0.002, 0.05: 0.005, 0.10: 0.02, 0.20: 0.05}
"""The fallback's measured error (fallback.py's docstring), rounded up: what the docstring promises."""


@pytest.mark.parametrize("rtt", [0.0, 0.02, 0.15])
@pytest.mark.parametrize("loss", sorted(FALLBACK_BOUNDS))
def test_fallback_follows_the_model_within_its_stated_error(loss: float, rtt: float) -> None:
    toxics = toxic_fallback(loss, rtt)
    for x in (0.1, 0.3, 0.6, 1.1, 1.6, 2.2, 3.2, 5.2, 10.0):
        t = 2 * rtt + x
        error = toxics_cdf(t, toxics, 2 * rtt) - tcp.cdf(t, loss, rtt)
        assert abs(error) <= FALLBACK_BOUNDS[loss], (x, error)


def test_fallback_keeps_the_no_delay_share_exact() -> None:
    toxics = toxic_fallback(0.05, 0.1)
    untouched = math.prod(1.0 - toxic["toxicity"] for toxic in toxics)
    assert untouched == pytest.approx(0.95**4, abs=1e-5)  # toxicity is rounded to 6 places


def test_fallback_toxics_are_valid_toxiproxy_bodies() -> None:
    toxics = toxic_fallback(0.03, 0.12)
    assert [t["name"] for t in toxics] == ["loss_handshake", "loss_request", "loss_response", "loss_tail"]
    for toxic in toxics:
        assert toxic["type"] == "latency"
        assert toxic["stream"] in ("upstream", "downstream")
        assert 0.0 < toxic["toxicity"] < 1.0
        assert set(toxic["attributes"]) == {"latency", "jitter"}
        assert all(isinstance(v, int) and v >= 0 for v in toxic["attributes"].values())  # whole ms, as the API wants
    assert toxics[1]["attributes"]["latency"] == 360  # the PTO: min(2·120 + 200 ms, RTO = 120 + 240 ms)


def test_fallback_edges() -> None:
    assert toxic_fallback(0.0, 0.1) == []
    (blackhole,) = toxic_fallback(1.0, 0.1)
    assert blackhole["type"] == "timeout"
    assert blackhole["attributes"] == {"timeout": 0}
    with pytest.raises(ValueError, match="loss"):
        toxic_fallback(1.5, 0.1)
    with pytest.raises(ValueError, match="rtt"):
        toxic_fallback(0.1, -1.0)
