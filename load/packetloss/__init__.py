"""Real packet loss for the live test, where the kernel allows it; a toxic approximation where not.

A zone's ``loss`` becomes kernel packet drops: the live run is re-executed in a private network
namespace (:func:`reexec_in_netns`) and :class:`LossRules` drops packets to and from the zone
proxy's port with nftables.  Where that is impossible (:func:`probe` says why),
:func:`toxic_fallback` gives Toxiproxy toxics that approximate the TCP model's latency under
loss; the caller records which mechanism was used.

Typical use by the live command::

    cap = probe()
    if cap and not in_private_netns():
        sys.exit(reexec_in_netns(current_command(), os.environ, capability=cap))
    if in_private_netns():
        with LossRules() as rules:
            for zone in zones:
                rules.set_loss(zone.proxy_port, zone.loss)
            run()                      # mechanism: rules.describe()
    else:
        toxics = toxic_fallback(zone.loss, zone.rtt)   # mechanism: "toxic-approximation", cap.reason
"""

from __future__ import annotations

from load.packetloss.fallback import toxic_fallback
from load.packetloss.netns import (
    MARKER,
    Capability,
    NotInPrivateNetnsError,
    current_command,
    in_private_netns,
    probe,
    reexec_in_netns,
    require_private_netns,
)
from load.packetloss.rules import LossRules, PortCounters

__all__ = [
    "MARKER",
    "Capability",
    "LossRules",
    "NotInPrivateNetnsError",
    "PortCounters",
    "current_command",
    "in_private_netns",
    "probe",
    "reexec_in_netns",
    "require_private_netns",
    "toxic_fallback",
]
