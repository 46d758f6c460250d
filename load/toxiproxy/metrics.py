"""``/metrics`` in the Prometheus text format, as toxiproxy ``-proxy-metrics``/``-runtime-metrics``.

Proxy metrics are Toxiproxy's two counters, labelled (alphabetically, as Go's client
library prints them) ``direction, listener, proxy, upstream`` and added to only when a
link ends, i.e. when its connection closes. Runtime metrics are this process's: a
Python server has no ``go_*`` collectors, so it exports ``python_info`` and the usual
``process_*`` gauges instead.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_RECEIVED = "toxiproxy_proxy_received_bytes_total"
_SENT = "toxiproxy_proxy_sent_bytes_total"
_HELP = {
    _RECEIVED: "The total bytes received from a proxy link's source",
    _SENT: "The total bytes sent to a proxy link's destination",
}
_Labels = tuple[str, str, str, str]  # direction, listener, proxy, upstream


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass
class Metrics:
    """Counters for ``/metrics``; which families exist depends on the two flags."""

    proxy_metrics: bool = False
    runtime_metrics: bool = False
    _counters: dict[str, dict[_Labels, int]] = field(default_factory=lambda: {_RECEIVED: {}, _SENT: {}})
    _started: float = field(default_factory=time.time)

    @property
    def enabled(self) -> bool:
        return self.proxy_metrics or self.runtime_metrics

    def link_ended(self, *, direction: str, proxy: str, listener: str, upstream: str, received: int, sent: int) -> None:
        if not self.proxy_metrics:
            return
        labels = (direction, listener, proxy, upstream)
        for name, value in ((_RECEIVED, received), (_SENT, sent)):
            self._counters[name][labels] = self._counters[name].get(labels, 0) + value

    def render(self) -> str:
        lines: list[str] = []
        if self.proxy_metrics:
            lines += self._proxy_lines()
        if self.runtime_metrics:
            lines += self._runtime_lines()
        return "".join(line + "\n" for line in lines)

    def _proxy_lines(self) -> Iterable[str]:
        for name, series in self._counters.items():
            if not series:
                continue  # like an unused CounterVec: no HELP/TYPE until a sample exists
            yield f"# HELP {name} {_HELP[name]}"
            yield f"# TYPE {name} counter"
            for (direction, listener, proxy, upstream), value in sorted(series.items()):
                labels = (f'direction="{_escape(direction)}",listener="{_escape(listener)}",'
                          f'proxy="{_escape(proxy)}",upstream="{_escape(upstream)}"')
                yield f"{name}{{{labels}}} {value}"

    def _runtime_lines(self) -> Iterable[str]:
        major, minor, patch = platform.python_version_tuple()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        gauges = [
            ("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
             usage.ru_utime + usage.ru_stime),
            ("process_max_resident_memory_bytes", "gauge", "Peak resident memory size in bytes.",
             usage.ru_maxrss * 1024),
            ("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
             self._started),
        ]
        if os.path.isdir("/proc/self/fd"):
            gauges.append(("process_open_fds", "gauge", "Number of open file descriptors.",
                           len(os.listdir("/proc/self/fd"))))
        yield "# HELP python_info Python platform information"
        yield "# TYPE python_info gauge"
        yield (f'python_info{{implementation="{platform.python_implementation()}",major="{major}",'
               f'minor="{minor}",patchlevel="{patch}",version="{platform.python_version()}"}} 1')
        for name, kind, text, value in gauges:
            yield f"# HELP {name} {text}"
            yield f"# TYPE {name} {kind}"
            yield f"{name} {_number(value)}"
