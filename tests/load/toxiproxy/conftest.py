"""Fixtures for the Toxiproxy tests: an embedded server per test and echo upstreams.

Helpers live in ``toxi_support.py`` next to the tests; as in ``tests/sim`` and
``tests/load/gateway``, this conftest puts the directory on ``sys.path``
(``--import-mode=importlib`` does not) so tests ``import toxi_support``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from load.toxiproxy.server import ServerHandle, run_in_thread

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from toxi_support import SEED, EchoServer  # noqa: E402


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture
def eof_replier() -> Iterator[EchoServer]:
    """An upstream that answers only after the client's FIN."""
    server = EchoServer(reply_on_eof=True)
    yield server
    server.close()


@pytest.fixture
def toxi() -> Iterator[ServerHandle]:
    """A fresh embedded server (seeded), with toxiproxy-python pointed at it."""
    from toxiproxy import Toxiproxy

    with run_in_thread(seed=SEED) as handle:
        Toxiproxy().update_api_consumer(handle.host, handle.port)
        yield handle
