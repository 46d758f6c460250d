"""Private network namespaces: can we make one, are we in one, re-run a command inside one.

The live test's real packet loss is nftables drop rules, and those must never touch the
machine's own network stack.  So the whole live run moves into a fresh network namespace
(``unshare -n``; rootless ``unshare -r -n`` where the kernel allows user namespaces): it has
only a loopback device, nothing else is reachable, and every rule installed there dies with it,
even on ``kill -9``.  All live traffic (gateway stub, zone proxies, Locust terminals) is on
127.0.0.1, so nothing is lost by the move.

``reexec_in_netns`` marks the child with :data:`MARKER`, set to the *launcher's* namespace inode.
:func:`in_private_netns` trusts the marker only if the current namespace differs from the
launcher's, from PID 1's (when readable) and from the kernel's initial namespace, so a marker
leaked into an ordinary process does not make it look private.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from scanrush.errors import InfrastructureError

__all__ = [
    "MARKER",
    "Capability",
    "NotInPrivateNetnsError",
    "bring_loopback_up",
    "current_command",
    "find_tool",
    "in_private_netns",
    "netns_inode",
    "probe",
    "reexec_in_netns",
    "require_private_netns",
]

MARKER = "SCANRUSH_PRIVATE_NETNS"
"""Set in the re-executed child to the launcher's network namespace inode."""

# The initial network namespace has a fixed proc inode (PROC_NET_INIT_INO, include/linux/proc_ns.h),
# so it is recognisable even where /proc/1/ns/net cannot be read (as on this VM: PID 1 is not dumpable).
INIT_NET_INODE = 0xEFFFFFF9

# Where Debian puts nft and ip; a non-root PATH often lacks the sbin directories.
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
_PROBE_TIMEOUT = 3.0

# A table like the one LossRules installs, with a numgen drop rule: proves nf_tables, numgen and
# counters all work in a fresh namespace.  The namespace (and the table) dies when nft exits.
_PROBE_RULESET = """\
table inet scanrush_probe {
  chain input {
    type filter hook input priority raw; policy accept;
    tcp dport 9 counter numgen random mod 10000 < 5000 counter drop
  }
}
"""

# <linux/sockios.h>, <linux/if.h>: get/set interface flags; struct ifreq is 40 bytes on 64-bit.
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ = "16sH22x"


class NotInPrivateNetnsError(InfrastructureError):
    """Refused: drop rules are only ever installed in a namespace scanrush created."""


@dataclass(frozen=True, slots=True)
class Capability:
    """Whether real packet loss is possible here, and how to get into a namespace for it."""

    ok: bool
    reason: str
    """Empty when ``ok``; otherwise names what is missing (for skip messages and the result file)."""
    unshare: tuple[str, ...] = ()
    """The command prefix that enters a fresh network namespace, e.g. ``("/usr/bin/unshare", "-n")``."""
    nft: str = ""
    """Absolute path of the nft binary."""

    @property
    def rootless(self) -> bool:
        return "-r" in self.unshare

    @property
    def mechanism(self) -> str:
        """How loss is realised, for the result file."""
        if not self.ok:
            return "unavailable"
        return "nftables-netns-rootless" if self.rootless else "nftables-netns"

    def __bool__(self) -> bool:
        return self.ok


def find_tool(name: str) -> str | None:
    """``name`` on PATH, or in the sbin directories a non-root PATH tends to leave out."""
    found = shutil.which(name)
    if found is not None:
        return found
    return next((path for d in _SBIN if os.access(path := os.path.join(d, name), os.X_OK)), None)


def _unshare_candidates(unshare: str) -> list[tuple[str, ...]]:
    # Root gets a plain network namespace.  Without root (or where a container denies
    # CAP_SYS_ADMIN) a user namespace maps us to root inside, which grants CAP_NET_ADMIN there.
    plain = (unshare, "-n")
    rootless = (unshare, "-r", "-n")
    return [plain, rootless] if os.geteuid() == 0 else [rootless]


def _run(cmd: Sequence[str], stdin: str = "") -> tuple[int, str]:
    try:
        done = subprocess.run(
            list(cmd), input=stdin, capture_output=True, text=True, timeout=_PROBE_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return -1, str(exc)
    return done.returncode, done.stderr.strip()


def probe() -> Capability:
    """Can this process create a private network namespace and drop packets in it with nftables?

    Three checks, each in a throwaway namespace that vanishes with its process (nothing left
    behind): ``nft`` and ``unshare`` exist; ``unshare -n`` (or rootless ``-r -n``) is allowed;
    a table with a ``numgen`` drop rule can be created inside.  Takes a few tens of ms.
    """
    nft = find_tool("nft")
    unshare = find_tool("unshare")
    if nft is None:
        return Capability(False, "nft not found on PATH or in /usr/sbin, /sbin (apt-get install nftables)")
    if unshare is None:
        return Capability(False, "unshare not found (apt-get install util-linux)")
    refusals: list[str] = []
    for prefix in _unshare_candidates(unshare):
        rc, err = _run([*prefix, "--", "true"])
        if rc != 0:
            refusals.append(f"`{' '.join(prefix[1:])}` refused: {err or f'exit {rc}'}")
            continue
        rc, err = _run([*prefix, "--", nft, "-f", "-"], _PROBE_RULESET)
        if rc != 0:
            return Capability(False, f"nft cannot create a drop rule in a private namespace: {err or f'exit {rc}'}")
        return Capability(True, "", prefix, nft)
    return Capability(False, "cannot create a network namespace: " + "; ".join(refusals))


def netns_inode(pid: int | str = "self") -> int | None:
    """Inode of a process's network namespace; None where /proc will not tell us."""
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


def in_private_netns() -> bool:
    """True only in a namespace scanrush created (:func:`reexec_in_netns`), never the machine's own."""
    marker = os.environ.get(MARKER, "")
    here = netns_inode()
    if not marker.isdigit() or here is None:
        return False
    if here in (int(marker), INIT_NET_INODE):
        return False
    return here != netns_inode(1)


def require_private_netns() -> None:
    """Raise unless :func:`in_private_netns`: the guard in front of every rule change."""
    if not in_private_netns():
        raise NotInPrivateNetnsError(
            "refusing to install packet-drop rules outside a private network namespace; "
            "run the live test through reexec_in_netns (scanrush load does this when probe() allows)"
        )


def bring_loopback_up() -> None:
    """``ip link set lo up`` without iproute2: a fresh namespace's ``lo`` starts down.

    Two ioctls (SIOCGIFFLAGS, SIOCSIFFLAGS) on any socket; needs CAP_NET_ADMIN in the namespace,
    which ``unshare -n`` (as root) and ``unshare -r -n`` (user namespace) both give.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack(_IFREQ, b"lo", 0)
        _, flags = struct.unpack(_IFREQ, fcntl.ioctl(sock, _SIOCGIFFLAGS, request))
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))


def current_command() -> list[str]:
    """The command line that started this process, interpreter included: what to re-run inside."""
    return list(sys.orig_argv)


def reexec_in_netns(
    argv: Sequence[str], env: Mapping[str, str], *, capability: Capability | None = None, timeout: float | None = None
) -> int:
    """Run ``argv`` in a fresh network namespace with ``lo`` up; return its exit status.

    The child is ``unshare -n -- python -m load.packetloss.enter ARGV...``: the entry module
    brings ``lo`` up and execs ARGV with :data:`MARKER` set.  A child killed by signal N
    returns 128+N, like a shell.  The child runs in its own process group, so a Ctrl-C at the
    terminal reaches only us; SIGINT and SIGTERM are passed on exactly once, and we wait for
    the child to finish writing its results.
    With ``timeout`` (seconds) a child still running then is killed and InfrastructureError raised.
    """
    cap = capability if capability is not None else probe()
    if not cap.ok:
        raise InfrastructureError(f"cannot run in a private network namespace: {cap.reason}")
    child_env = {**env, MARKER: str(netns_inode() or 0)}
    cmd = [*cap.unshare, "--", sys.executable, "-m", "load.packetloss.enter", *argv]
    with subprocess.Popen(cmd, env=child_env, process_group=0) as child:
        previous = _forward_sigterm(child)
        try:
            rc = _wait(child, timeout)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    return 128 - rc if rc < 0 else rc


def _wait(child: subprocess.Popen[bytes], timeout: float | None) -> int:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            return child.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        except KeyboardInterrupt:
            child.send_signal(signal.SIGINT)  # its own process group: only we got the Ctrl-C
            continue
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise InfrastructureError(f"command in the private network namespace ran over {timeout} s") from None


# What signal.signal returns and accepts (typeshed's private _HANDLER).
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


def _forward_sigterm(child: subprocess.Popen[bytes]) -> _Handler:
    if threading.current_thread() is not threading.main_thread():
        return None  # handlers can only be set from the main thread; the caller's stays

    def forward(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)

    return signal.signal(signal.SIGTERM, forward)
