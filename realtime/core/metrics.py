"""Process metrics in the Prometheus text format, served at ``/metrics``.

Each daphne process counts for itself; Prometheus scrapes every process on its
own port (see docs/deploy.md, "Observability"). No client library: a counter
here is a dict update on the event loop's thread, cheap enough for the
fan-out hot path.

Besides the socket counters: the process' open file descriptors and resident
memory (read from ``/proc/self`` at each scrape, Linux only), and the event
loop's lag, measured by a task that sleeps and notes how late it woke.
"""

import asyncio
import bisect
import math
import os
import resource
import sys
from collections import defaultdict

_registry: dict[str, "Metric"] = {}


def _labels(names: tuple[str, ...], values: tuple) -> str:
    if not names:
        return ""
    pairs = ",".join(
        f'{n}="{_escape(str(v))}"' for n, v in zip(names, values, strict=True)
    )
    return "{" + pairs + "}"


def _by_labels(item: tuple[tuple, object]) -> tuple[str, ...]:
    """Sort key of a series: its label values as text, whatever their types
    (``sorted`` of mixed ints and None raised, and ``/metrics`` answered 500)."""
    return tuple(str(value) for value in item[0])


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = ()):
        self.name = name
        self.help = help_text
        self.label_names = labels
        self.values: dict[tuple, float] = defaultdict(float)
        if not labels:
            self.values[()] = 0.0  # a series from the start, 0 until counted
        _registry[name] = self

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]
        for key, value in sorted(self.values.items(), key=_by_labels):
            lines.append(
                f"{self.name}{_labels(self.label_names, key)} {_number(value)}"
            )
        return lines


class Counter(Metric):
    kind = "counter"

    def inc(self, *labels, amount: float = 1.0) -> None:
        self.values[labels] += amount


class Gauge(Metric):
    kind = "gauge"

    def inc(self, *labels, amount: float = 1.0) -> None:
        self.values[labels] += amount

    def dec(self, *labels, amount: float = 1.0) -> None:
        self.values[labels] -= amount


class Histogram(Metric):
    kind = "histogram"

    def __init__(self, name, help_text, buckets: tuple[float, ...], labels=()):
        super().__init__(name, help_text, labels)
        self.buckets = buckets
        self.counts: dict[tuple, list[int]] = {}
        self.sums: dict[tuple, float] = defaultdict(float)
        if not labels:
            self.counts[()] = [0] * (len(buckets) + 1)

    def observe(self, value: float, *labels) -> None:
        counts = self.counts.get(labels)
        if counts is None:
            counts = self.counts[labels] = [0] * (len(self.buckets) + 1)
        counts[bisect.bisect_left(self.buckets, value)] += 1
        self.sums[labels] += value

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for key, counts in sorted(self.counts.items(), key=_by_labels):
            running = 0
            for bound, count in zip([*self.buckets, math.inf], counts, strict=True):
                running += count
                le = "+Inf" if bound == math.inf else _number(bound)
                names, values = (*self.label_names, "le"), (*key, le)
                lines.append(f"{self.name}_bucket{_labels(names, values)} {running}")
            label_text = _labels(self.label_names, key)
            lines.append(f"{self.name}_sum{label_text} {_number(self.sums[key])}")
            lines.append(f"{self.name}_count{label_text} {running}")
        return lines


class Sampled(Metric):
    """A gauge read when scraped; ``read`` returns None where it cannot be
    read (no ``/proc``), and the metric is then left out."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, read):
        super().__init__(name, help_text)
        self.read = read

    def render(self) -> list[str]:
        value = self.read()
        if value is None:
            return []
        self.values[()] = value
        return super().render()


def _open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _max_fds() -> int | None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def _resident_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


LAG_INTERVAL = 0.5  # seconds between two measures of the event loop's lag


async def watch_loop_lag(interval: float = LAG_INTERVAL) -> None:
    """Sleep ``interval`` again and again; how late each wake-up comes is the
    time other work held the loop (a slow callback, a blocking call)."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(interval)
        loop_lag.observe(max(0.0, loop.time() - started - interval))


def install() -> None:
    """Measure the lag of daphne's event loop from its start (no-op elsewhere)."""
    reactor = sys.modules.get("twisted.internet.reactor")
    loop = getattr(reactor, "_asyncioEventloop", None)
    if loop is not None:
        reactor.callWhenRunning(_start_watching, reactor, loop)


def _start_watching(reactor, loop) -> None:
    task = loop.create_task(watch_loop_lag())
    # Cancelled before the reactor stops its loop, not destroyed pending.
    reactor.addSystemEventTrigger("before", "shutdown", task.cancel)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render() -> str:
    """Every metric of this process, in the Prometheus text format 0.0.4."""
    return "\n".join(line for m in _registry.values() for line in m.render()) + "\n"


def endpoint_of(path: str) -> str:
    """A low-cardinality label for a socket path: ``/ws/chat/lobby/`` -> ``chat``."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "ws":
        return parts[1]
    return parts[0] if parts else "root"


connections = Gauge(
    "duplex_ws_connections", "Open WebSocket connections.", ("endpoint",)
)
connections_total = Counter(
    "duplex_ws_connections_total", "WebSocket connections accepted.", ("endpoint",)
)
closes_total = Counter(
    "duplex_ws_closes_total", "WebSocket closes, by close code.", ("endpoint", "code")
)
messages_in = Counter(
    "duplex_ws_messages_in_total", "Frames received from clients.", ("endpoint",)
)
messages_out = Counter(
    "duplex_ws_messages_out_total", "Frames sent to clients.", ("endpoint",)
)
errors_total = Counter(
    "duplex_ws_errors_total", "Error frames sent, by error code.", ("endpoint", "code")
)
rate_limited = Counter(
    "duplex_ratelimit_hits_total", "Frames refused by flood control.", ("endpoint",)
)
dropped_draining = Counter(
    "duplex_ws_frames_dropped_draining_total",
    "Frames received after SIGTERM on sockets closed with 1012, not handled.",
    ("endpoint",),
)
fanout_deliveries = Counter(
    "duplex_fanout_deliveries_total", "Frames the hub handed to local sockets."
)
fanout_dropped = Counter(
    "duplex_fanout_dropped_total",
    "Frames a slow socket skipped: conflated, ephemeral, sequenced (replayed "
    "later from the store), overflow (the socket was closed).",
    ("kind",),
)
fanout_resyncs = Counter(
    "duplex_fanout_resyncs_total",
    "Times the hub had every reliable stream replay from the store: its channel "
    "layer reconnected or lost messages.",
)
delivery_latency = Histogram(
    "duplex_fanout_delivery_seconds",
    "Time from publish to the hub handing the frame to the sockets.",
    (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
loop_lag = Histogram(
    "duplex_event_loop_lag_seconds",
    f"How late the event loop woke a {LAG_INTERVAL} s sleep: time other work "
    "held the loop.",
    (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
open_fds = Sampled("process_open_fds", "Open file descriptors.", _open_fds)
max_fds = Sampled("process_max_fds", "Limit of open file descriptors.", _max_fds)
resident_memory = Sampled(
    "process_resident_memory_bytes", "Resident memory in bytes.", _resident_bytes
)
