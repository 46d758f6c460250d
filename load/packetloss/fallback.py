"""When real packet drops are impossible: Toxiproxy toxics that approximate TCP latency under loss.

Toxiproxy works on the byte stream, not packets, so it cannot lose a packet.  What loss does to
a one-request-one-response payment is add delay, set by the kernel's timers
(``scanrush.network.tcp``, ``simulation.md`` §4).  :func:`toxic_fallback` reproduces the model's
*extra* delay (on top of the zone's base RTT, which the zone's own latency toxic provides) with
four ``latency`` toxics, each applied to a share of connections (``toxicity``):

============  ==========  ===========================================  ==============================
toxic         stream      delay                                        toxicity (share of connections)
============  ==========  ===========================================  ==============================
handshake     upstream    1 s (the SYN / SYN-ACK resend)               ``a``: see below
request       upstream    PTO = min(2R + 0.2, RTO): the tail-loss probe ``p``: the request was lost
response      downstream  PTO                                          ``p``: the response was lost
tail          upstream    uniform [c, 2·m − c): ``m`` the model's       ``e`` = P(extra delay > c)
                          mean extra delay beyond ``c`` = 1 + 2·PTO +
                          0.1 s (what the other three can add up to)
============  ==========  ===========================================  ==============================

``a`` is chosen so that the share of connections with no delay at all is the model's
(1 − p)⁴: (1 − a)(1 − e)(1 − p)² = (1 − p)⁴.  The toxics are independent per connection, as
Toxiproxy draws each toxic's toxicity separately (toxiproxy.md §3.2).

Error against ``tcp.cdf`` (fallback − model, P(T ≤ 2R + x), measured with :func:`toxics_cdf`;
reproduced by ``tests/load/test_packetloss.py``)::

    R      p      x=0.1    0.3      0.6      1.1      1.6      2.2      3.2      5.2
    0      0.01   +.0000   +.0002   +.0000   -.0001   +.0000   -.0001   -.0000   +.0000
    0      0.03   -.0000   +.0016   +.0001   -.0008   +.0001   -.0008   -.0004   +.0000
    0      0.10   -.0000   +.0146   +.0017   -.0074   +.0006   -.0105   -.0081   +.0012
    0      0.20   +.0000   +.0410   +.0109   -.0208   -.0010   -.0410   -.0462   +.0035
    0.15   0.03   +.0000   +.0000   +.0016   +.0008   +.0018   +.0001   +.0002   +.0000
    0.15   0.10   +.0000   +.0000   +.0146   +.0073   +.0171   +.0006   -.0004   -.0009

Worst case over R in {0, 0.02, 0.15} s and x up to 10 s: 0.0018 at 3 % loss, 0.0047 at 5 %,
0.017 at 10 %, 0.050 at 20 % (all at x = 1.6 s, R = 0.15 s).  The misses
are sequences of losses (one segment lost twice: PTO + RTO; a lost handshake and then a lost
request), which the fallback either folds into one PTO or spreads over the uniform tail toxic.

What is lost against real drops — record ``"toxic-approximation"`` as the mechanism:

* **Per connection, not per packet.** A connection is slow or not for its whole life; on a
  keep-alive connection every request repeats the first one's luck, while real loss draws
  afresh per packet.
* **No connect failures or connect delay.** The proxy accepts at once; the handshake's delay is
  moved onto the request, so ``connect_timeout`` never fires (a real blackholed handshake fails
  ``connect`` after the timeout) and the read timeout sees that delay instead.
* **No retransmission ordering.** The SYN-ACK-echo rule (a lost SYN-ACK makes a later request
  loss cost 2.2 s) and multi-loss sequences only appear through the tail toxic's uniform spread.
* The fit is for the model's Linux peer with a fixed RTT; jitter and congestion are the zone's
  base toxics' business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import product
from typing import Any

from scanrush.network import tcp

__all__ = ["toxic_fallback", "toxics_cdf"]

_HANDSHAKE = 1.0
"""The first SYN (and SYN-ACK) resend, 1 s after the first send on Linux."""
_RTO_MIN = 0.2
_TAIL_MARGIN = 0.1
_EDGE = 1e-9
"""Whole-ms delays summed in floats land a hair either side of a check point."""
# The tail's conditional mean: integrate the model's survival function on a grid, fine near c
# where the mass is and coarse beyond (the model has < 1e-4 of mass past 70 s for p <= 0.3).
_FINE, _FINE_SPAN, _COARSE, _COARSE_END = 0.05, 8.0, 0.5, 70.0


def _pto(rtt: float) -> float:
    """Linux tail-loss probe time with one RTT sample (``tcp.data_send_offsets``' first gap)."""
    return tcp.data_send_offsets(rtt)[1]


def _tail_mean(p: float, rtt: float, cut: float, mass: float) -> float:
    """E[extra delay | extra delay > cut] under the model: cut + ∫ P(D > x) dx / P(D > cut)."""
    fine = [(cut + _FINE * (k + 0.5), _FINE) for k in range(int(_FINE_SPAN / _FINE))]
    start = cut + _FINE_SPAN
    coarse = [(start + _COARSE * (k + 0.5), _COARSE) for k in range(int((_COARSE_END - start) / _COARSE))]
    area = sum((1.0 - tcp.cdf(2.0 * rtt + x, p, rtt)) * dx for x, dx in fine + coarse)
    return cut + area / mass


def _latency(name: str, stream: str, toxicity: float, delay: float, jitter: float = 0.0) -> dict[str, Any]:
    """One Toxiproxy toxic, as POSTed to ``/proxies/{proxy}/toxics`` (latency/jitter in whole ms)."""
    return {
        "name": f"loss_{name}",
        "type": "latency",
        "stream": stream,
        "toxicity": round(toxicity, 6),
        "attributes": {"latency": round(delay * 1000), "jitter": round(jitter * 1000)},
    }


@lru_cache(maxsize=256)
def _fit(loss: float, rtt: float) -> tuple[tuple[str, str, float, float, float], ...]:
    pto = _pto(rtt)
    cut = _HANDSHAKE + 2.0 * pto + _TAIL_MARGIN
    tail = 1.0 - tcp.cdf(2.0 * rtt + cut, loss, rtt)
    handshake = min(1.0, max(0.0, 1.0 - (1.0 - loss) ** 2 / (1.0 - tail)))
    fitted = [
        ("handshake", "upstream", handshake, _HANDSHAKE, 0.0),
        ("request", "upstream", loss, pto, 0.0),
        ("response", "downstream", loss, pto, 0.0),
    ]
    if tail > 0.0:
        mean = _tail_mean(loss, rtt, cut, tail)
        fitted.append(("tail", "upstream", tail, mean, mean - cut))
    return tuple(fitted)


def toxic_fallback(loss: float, rtt: float) -> list[dict[str, Any]]:
    """Toxiproxy toxics approximating the extra latency that packet loss ``loss`` causes at ``rtt``.

    Add them to the zone's proxy next to its base latency toxic.  ``loss`` 0 gives no toxics;
    ``loss`` 1 (nothing ever gets through) gives a ``timeout`` toxic that swallows the requests.
    See the module docstring for the construction, its measured error and what it cannot do.
    """
    if not 0.0 <= loss <= 1.0:
        raise ValueError(f"loss {loss!r} must lie in [0, 1]")
    if rtt < 0.0:
        raise ValueError(f"rtt {rtt!r} cannot be negative")
    if loss == 0.0:
        return []
    if loss >= 1.0:
        return [{"name": "loss_blackhole", "type": "timeout", "stream": "upstream", "toxicity": 1.0,
                 "attributes": {"timeout": 0}}]
    return [_latency(*spec) for spec in _fit(loss, rtt)]


def toxics_cdf(t: float, toxics: Sequence[Mapping[str, Any]], base: float = 0.0) -> float:
    """P(base + the toxics' total delay <= t) for one connection, toxics independent as in Toxiproxy.

    Exact for ``latency`` toxics with at most one of them jittered (jitter is uniform, taken as
    continuous); what :func:`toxic_fallback` returns.  Used to measure the fallback's error.
    """
    specs = [_delay_spec(toxic) for toxic in toxics]
    if sum(1 for *_, jitter in specs if jitter > 0.0) > 1:
        raise ValueError("toxics_cdf handles at most one jittered latency toxic")
    return sum(_subset_cdf(t - base, specs, chosen) for chosen in product((False, True), repeat=len(specs)))


def _delay_spec(toxic: Mapping[str, Any]) -> tuple[float, float, float]:
    if toxic.get("type") != "latency":
        raise ValueError(f"toxics_cdf handles latency toxics only, not {toxic.get('type')!r}")
    attributes = toxic.get("attributes", {})
    toxicity = float(toxic.get("toxicity", 1.0))
    return min(1.0, max(0.0, toxicity)), attributes.get("latency", 0) / 1000, attributes.get("jitter", 0) / 1000


def _subset_cdf(budget: float, specs: Iterable[tuple[float, float, float]], chosen: Iterable[bool]) -> float:
    """P(exactly the ``chosen`` toxics apply) · P(their delays sum to <= budget)."""
    mass, delay, jitter = 1.0, 0.0, 0.0
    for (toxicity, latency, spread), on in zip(specs, chosen, strict=True):
        mass *= toxicity if on else 1.0 - toxicity
        if on:
            delay, jitter = delay + latency, jitter + spread
    if jitter > 0.0:
        return mass * min(1.0, max(0.0, (budget - delay + jitter) / (2.0 * jitter)))
    return mass if delay <= budget + _EDGE else 0.0
