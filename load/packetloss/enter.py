"""Entry point inside a fresh network namespace: bring ``lo`` up, then exec the real command.

Run by :func:`load.packetloss.netns.reexec_in_netns` as
``unshare -n -- python -m load.packetloss.enter ARGV...``; not meant to be run by hand.
"""

from __future__ import annotations

import os
import sys

from load.packetloss.netns import MARKER, bring_loopback_up


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m load.packetloss.enter COMMAND [ARG...]", file=sys.stderr)
        return 2
    if MARKER not in os.environ:
        print(f"{MARKER} is not set: start this through reexec_in_netns", file=sys.stderr)
        return 2
    bring_loopback_up()
    os.execvp(argv[0], argv)
    return 127  # not reached: execvp replaces this process or raises


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
