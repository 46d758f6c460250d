"""``scanrush gateway``: serves until interrupted, says where, and a taken port is exit 3."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from harness import WORLD

from load.gateway.signing import write_keys

pytestmark = pytest.mark.live

SCANRUSH = [str(Path(sys.executable).parent / "scanrush")]


def serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*SCANRUSH, "gateway", str(WORLD), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_serves_prints_its_url_and_stops_on_interrupt(tmp_path: Path) -> None:
    write_keys(tmp_path)
    process = serve("--port", "0", "--compression", "0", "--clock-origin", "30m", "--keys", str(tmp_path),
                    "--set", "gateway.workers=2")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"gateway listening on (http://127\.0\.0\.1:\d+)/gateway\.do\n", line)
        assert match, line
        with urllib.request.urlopen(match.group(1) + "/control/health", timeout=5) as response:
            health = json.load(response)
        assert (health["scenario_time"], health["workers"], health["signed"]) == (1800.0, 2, True)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "gateway stopped" in out


def test_a_taken_port_is_an_infrastructure_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*SCANRUSH, "gateway", str(WORLD), "--port", str(port)], capture_output=True,
                                text=True, timeout=30, check=False)
    assert result.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["--keys", "/nonexistent"], ["--port", "70000"], ["--compression", "-1"],
                                  ["--clock-origin", "soon"]])
def test_bad_options_are_input_errors(args: list[str]) -> None:
    result = subprocess.run([*SCANRUSH, "gateway", str(WORLD), *args], capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 2, result.stderr
