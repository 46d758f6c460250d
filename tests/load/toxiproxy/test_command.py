"""``scanrush toxiproxy``: starts, prints its URL, answers /version, stops on signals, exit 3 on a busy port."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from toxi_support import EchoServer, connect, request, round_trip

from load.toxiproxy.client import ToxiproxyClient
from scanrush.cli import run

pytestmark = pytest.mark.live

_URL = re.compile(r"http://127\.0\.0\.1:\d+")


def _command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from scanrush.cli import main; main()", "toxiproxy", *args]


@contextmanager
def serving(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start the command; yield it and the URL it printed (read with a deadline, not a sleep)."""
    process = subprocess.Popen(_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or ()], daemon=True)
    reader.start()
    try:
        first = lines.get(timeout=30)
        found = _URL.search(first)
        assert found, first
        yield process, found.group()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)
        reader.join(5)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serves_and_stops_cleanly(stop: signal.Signals) -> None:
    with serving("--port", "0", "--seed", "7") as (process, url):
        client = ToxiproxyClient(url)
        assert client.wait_until_ready(timeout=10) == "2.12.0"
        process.send_signal(stop)
        assert process.wait(timeout=10) == 0


def test_config_file_creates_proxies(tmp_path: Path, echo: EchoServer) -> None:
    config = tmp_path / "proxies.json"
    config.write_text(json.dumps([{"name": "wired", "upstream": echo.address, "listen": "127.0.0.1:0"}]))
    with serving("--port", "0", "--config", str(config), "--proxy-metrics") as (process, url):
        client = ToxiproxyClient(url)
        proxy = client.get_proxy("wired")
        with connect(proxy.port) as sock:
            round_trip(sock)
        assert request(int(url.rsplit(":", 1)[1]), "GET", "/metrics").status == 200  # --proxy-metrics honoured
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_busy_port_is_exit_3() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        result = subprocess.run(_command("--port", port), capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 3
    assert "address already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_input_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["toxiproxy", "--port", "70000"]) == 2
    assert run(["toxiproxy", "--config", str(tmp_path / "missing.json"), "--port", "0"]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('[{"upstream": "127.0.0.1:1"}]')
    assert run(["toxiproxy", "--config", str(bad), "--port", "0"]) == 2
    assert "missing required field: name at proxy 1" in capsys.readouterr().err
