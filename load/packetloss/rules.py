"""nftables rules that drop a zone's packets with probability ``loss``, inside a private namespace.

One table, ``inet scanrush`` (IPv4 and IPv6), one base chain on the **input** hook.  Per zone
port two rules, one per direction::

    tcp dport PORT counter name "pPORT_to_seen"   numgen random mod 10000 < N counter name "pPORT_to_dropped"   drop
    tcp sport PORT counter name "pPORT_from_seen" numgen random mod 10000 < N counter name "pPORT_from_dropped" drop

with N = round(loss · 10000): i.i.d. per-packet loss, resolution 0.01 %.

Why the input hook.  On loopback a packet passes the output hook once (sender) and the input
hook once (receiver), so either sees each packet exactly once.  Dropping on *input* happens after
the sender has fully transmitted the packet, so its timers (SYN resends, TLP, RTO) run exactly as
for a packet lost on a wire, and a capture on ``lo`` still sees every send; this is how
``simulation.md`` §4.1/§4.3 injected loss to validate the TCP model.  Dropping on *output* is not
wire loss: netfilter's verdict comes back to the sending TCP as a local error, and Linux handles
a segment it failed to send on other paths than one lost in flight.  Measured here (p = 0.10,
1000 fresh-connection exchanges, ``load.packetloss.echo``): P(T <= 0.3 s) / P(T <= 1.1 s) was
0.789 / 0.944 with input-hook drops and 0.748 / 0.926 with output-hook drops, model 0.787 / 0.947.
Priority ``raw`` (-300) runs before conntrack, so a dropped packet
leaves no connection-tracking state behind.

Counters are named objects, so changing a port's loss (flush the chain, add the rules again,
one nft transaction) keeps its counts.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from load.packetloss.netns import find_tool, require_private_netns
from scanrush.errors import InfrastructureError

__all__ = ["LossRules", "PortCounters"]

TABLE = "scanrush"
_FAMILY = "inet"
_SCALE = 10_000
"""numgen draws 0..9999: loss is set in steps of 0.01 %."""
_DIRECTIONS = (("to", "dport"), ("from", "sport"))
_NFT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class PortCounters:
    """Packets to and from one port that reached the drop rules, and how many were dropped."""

    port: int
    to_seen: int
    to_dropped: int
    from_seen: int
    from_dropped: int

    @property
    def seen(self) -> int:
        return self.to_seen + self.from_seen

    @property
    def dropped(self) -> int:
        return self.to_dropped + self.from_dropped

    @property
    def drop_rate(self) -> float:
        """Observed share of packets dropped: compare with the configured loss."""
        return self.dropped / self.seen if self.seen else 0.0


def _threshold(loss: float) -> int:
    if not 0.0 <= loss <= 1.0:
        raise ValueError(f"loss {loss!r} must lie in [0, 1]")
    return round(loss * _SCALE)


def _below(loss: float) -> str:
    """The numgen comparison: ``< N``, except that nft rejects 10000 as out of range for loss 1."""
    threshold = _threshold(loss)
    return f"<= {_SCALE - 1}" if threshold == _SCALE else f"< {threshold}"


def _check_port(port: int) -> None:
    if not 0 < port < 65536:
        raise ValueError(f"port {port!r} must lie in 1..65535")


def _counter(port: int, direction: str, what: str) -> str:
    return f"p{port}_{direction}_{what}"


def _port_script(port: int, loss: float) -> list[str]:
    lines = []
    for direction, field in _DIRECTIONS:
        seen, dropped = _counter(port, direction, "seen"), _counter(port, direction, "dropped")
        lines += [f"add counter {_FAMILY} {TABLE} {seen}", f"add counter {_FAMILY} {TABLE} {dropped}"]
        lines.append(
            f'add rule {_FAMILY} {TABLE} input tcp {field} {port} counter name "{seen}" '
            f'numgen random mod {_SCALE} {_below(loss)} counter name "{dropped}" drop'
        )
    return lines


_CREATE = f"""\
add table {_FAMILY} {TABLE}
delete table {_FAMILY} {TABLE}
table {_FAMILY} {TABLE} {{
  chain input {{ type filter hook input priority raw; policy accept; }}
}}
"""


class LossRules:
    """Install, change and remove per-port drop rules in the current *private* namespace.

    Use as a context manager; the table is deleted on exit, exceptions included.  (It would also
    vanish with the namespace, which is the backstop for ``kill -9``.)  Every method that changes
    rules first checks :func:`~load.packetloss.netns.in_private_netns` and refuses otherwise, so
    the machine's real network stack is never touched.

    >>> with LossRules() as rules:          # doctest: +SKIP
    ...     rules.set_loss(proxy_port, 0.03)
    ...     run_the_test()
    ...     rules.counters()[proxy_port].drop_rate
    """

    def __init__(self, *, nft: str | None = None) -> None:
        self._nft_path = nft or find_tool("nft") or "nft"
        self._loss: dict[int, float] = {}
        self._open = False

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> None:
        """Create the table afresh (a leftover one from a crashed run is replaced)."""
        require_private_netns()
        self._nft_script(_CREATE)
        self._open = True

    def close(self) -> None:
        """Delete the table; safe to call twice."""
        if not self._open:
            return
        self._open = False
        self._loss.clear()
        require_private_netns()
        self._nft_script(f"add table {_FAMILY} {TABLE}\ndelete table {_FAMILY} {TABLE}\n")

    # ------------------------------------------------------------------ rules

    @property
    def loss(self) -> dict[int, float]:
        """Configured loss per port."""
        return dict(self._loss)

    def set_loss(self, port: int, loss: float) -> None:
        """Drop packets to and from ``port`` with probability ``loss`` (0 keeps counting, drops none)."""
        _check_port(port)
        _threshold(loss)
        self._require_open()
        self._apply({**self._loss, port: loss})

    def remove(self, port: int) -> None:
        """Stop dropping and counting for ``port``; its counters are deleted."""
        self._require_open()
        rest = {p: loss for p, loss in self._loss.items() if p != port}
        self._apply(rest, deleted=[port] if port in self._loss else [])

    def clear(self) -> None:
        """Remove every port's rules and counters; the (empty) table stays until :meth:`close`."""
        self._require_open()
        self._apply({}, deleted=list(self._loss))

    def _apply(self, loss: dict[int, float], deleted: list[int] | None = None) -> None:
        require_private_netns()
        lines = [f"flush chain {_FAMILY} {TABLE} input"]
        for port, p in sorted(loss.items()):
            lines += _port_script(port, p)
        for port in deleted or []:
            lines += [
                f"delete counter {_FAMILY} {TABLE} {_counter(port, direction, what)}"
                for direction, _ in _DIRECTIONS
                for what in ("seen", "dropped")
            ]
        self._nft_script("\n".join(lines) + "\n")
        self._loss = loss

    # ------------------------------------------------------------------ counters

    def counters(self) -> dict[int, PortCounters]:
        """Packets seen and dropped per port, read back with ``nft -j list table``."""
        self._require_open()
        packets = _counter_packets(self._nft_json("list", "table", _FAMILY, TABLE))
        return {
            port: PortCounters(
                port,
                packets.get(_counter(port, "to", "seen"), 0),
                packets.get(_counter(port, "to", "dropped"), 0),
                packets.get(_counter(port, "from", "seen"), 0),
                packets.get(_counter(port, "from", "dropped"), 0),
            )
            for port in sorted(self._loss)
        }

    def describe(self) -> dict[str, object]:
        """What realises the loss, for the result file's metadata."""
        return {
            "mechanism": "nftables-netns-rootless" if _in_user_namespace() else "nftables-netns",
            "table": f"{_FAMILY} {TABLE}",
            "hook": "input, priority raw (-300): after the sender's transmit, like loss on a wire",
            "rule": f"tcp dport|sport PORT numgen random mod {_SCALE} < round(loss*{_SCALE}) drop",
            "loss": {str(port): p for port, p in sorted(self._loss.items())},
        }

    # ------------------------------------------------------------------ nft

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError("LossRules is not open: use it as a context manager or call open()")

    def _nft_script(self, script: str) -> None:
        self._nft(["-f", "-"], script)

    def _nft_json(self, *args: str) -> Any:
        return json.loads(self._nft(["-j", *args], ""))

    def _nft(self, args: list[str], stdin: str) -> str:
        try:
            done = subprocess.run(
                [self._nft_path, *args], input=stdin, capture_output=True, text=True, timeout=_NFT_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InfrastructureError(f"nft {' '.join(args)} failed: {exc}") from exc
        if done.returncode != 0:
            raise InfrastructureError(f"nft {' '.join(args)} failed: {done.stderr.strip() or done.returncode}")
        return done.stdout


def _in_user_namespace() -> bool:
    """True under ``unshare -r``: our uid 0 maps to some other uid outside, not the identity map."""
    try:
        with open("/proc/self/uid_map", encoding="ascii") as f:
            first = f.read().split()
    except OSError:
        return False
    return first[:3] != ["0", "0", "4294967295"]


def _counter_packets(listing: Any) -> dict[str, int]:
    """Named counter -> packets, from ``nft -j`` output."""
    found: dict[str, int] = {}
    for item in listing.get("nftables", []):
        counter = item.get("counter")
        if isinstance(counter, dict):
            found[str(counter["name"])] = int(counter["packets"])
    return found
