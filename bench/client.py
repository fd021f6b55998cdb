"""The load client: picows sockets on one asyncio loop, latencies in HDR histograms.

Every published message is ``{"type": "bench.tick", "topic", "n", "s", "ts"}``:
``n`` counts per topic (sequence numbers: losses and reordering show),
``s`` is the step it belongs to and ``ts`` the publisher's monotonic clock when
it sent it (client and publisher share this process, so no clock skew).
"""

import asyncio
import json
import time
from collections import Counter

from hdrh.histogram import HdrHistogram
from picows import WSCloseCode, WSListener, WSMsgType, WSTransport, ws_connect
from picows.common import WSHandshakeError

HIGHEST_US = 120_000_000  # two minutes, in microseconds


def histogram(values_s) -> HdrHistogram:
    """An HDR histogram (microsecond units, 3 significant digits) of ``values_s``."""
    hist = HdrHistogram(1, HIGHEST_US, 3)
    for value in values_s:
        hist.record_value(min(HIGHEST_US, max(1, int(value * 1_000_000))))
    return hist


def summary(values_s) -> dict:
    """p50, p99, max in milliseconds (None when nothing was recorded)."""
    if not values_s:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None, "count": 0}
    hist = histogram(values_s)
    return {
        "p50_ms": hist.get_value_at_percentile(50) / 1000,
        "p99_ms": hist.get_value_at_percentile(99) / 1000,
        "max_ms": hist.get_max_value() / 1000,
        "count": len(values_s),
    }


class Tally:
    """What every subscriber received during the current step."""

    def __init__(self):
        self.step = -1
        self.received = 0
        self.late = 0
        self.disorder = 0
        self.latencies: list[float] = []

    def reset(self, step: int) -> None:
        self.step = step
        self.received = 0
        self.late = 0
        self.disorder = 0
        self.latencies = []


class Subscriber(WSListener):
    """Count and time each message; remember the last ``n`` per topic."""

    def __init__(self, tally: Tally, topics=()):
        self.tally = tally
        self.topics = set(topics)
        self.last: dict[str, int] = {}
        self.seen = 0
        self.closed = False

    def on_ws_frame(self, transport: WSTransport, frame) -> None:
        if frame.msg_type is not WSMsgType.TEXT:
            if frame.msg_type is WSMsgType.CLOSE:
                transport.disconnect()
            return
        now = time.monotonic()
        message = json.loads(frame.get_payload_as_bytes())
        self.seen += 1
        tally = self.tally
        if message["s"] != tally.step:
            tally.late += 1
            return
        topic, n = message["topic"], message["n"]
        if n <= self.last.get(topic, -1):
            tally.disorder += 1
        self.last[topic] = n
        tally.received += 1
        tally.latencies.append(now - message["ts"])

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed = True


class Publisher(WSListener):
    """The publishing socket; frames are ``"<mode> <topic> <json>"``."""

    def __init__(self):
        self.counters: Counter = Counter()
        self.transport: WSTransport | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def publish(self, topic: str, step: int, mode: str = "e") -> None:
        n = self.counters[topic]
        self.counters[topic] = n + 1
        event = {"type": "bench.tick", "topic": topic, "n": n, "s": step}
        event["ts"] = time.monotonic()
        text = f"{mode} {topic} {json.dumps(event, separators=(',', ':'))}"
        self.transport.send(WSMsgType.TEXT, text.encode())


class Echoer(WSListener):
    """Closed-loop echo: the next message leaves when the previous one is back."""

    def __init__(self):
        self.waiter: asyncio.Future | None = None

    def on_ws_frame(self, transport: WSTransport, frame) -> None:
        if frame.msg_type is WSMsgType.TEXT and self.waiter and not self.waiter.done():
            self.waiter.set_result(time.monotonic())


class Idle(WSListener):
    """A connection that only answers pings (picows does that by itself)."""


class Connections:
    """Open many sockets with bounded concurrency; record handshakes and failures."""

    def __init__(self, url: str, origin: str, in_flight: int = 200):
        self.url = url
        self.origin = origin
        self.gate = asyncio.Semaphore(in_flight)
        self.transports: list[WSTransport] = []
        self.listeners: list = []
        self.handshakes: list[float] = []
        self.failures: Counter = Counter()

    async def open(self, path: str, factory, handshake_s: float = 30.0):
        async with self.gate:
            started = time.monotonic()
            try:
                transport, listener = await ws_connect(
                    factory,
                    self.url + path,
                    extra_headers={"Origin": self.origin},
                    websocket_handshake_timeout=handshake_s,
                )
            except WSHandshakeError as exc:
                status = getattr(exc.response, "status", None)
                self.failures[f"HTTP {int(status)}" if status else "handshake"] += 1
                return None
            except (TimeoutError, OSError) as exc:
                self.failures[type(exc).__name__] += 1
                return None
            if listener is None:  # picows' answer to a connection dropped mid-handshake
                self.failures["TCP drop in handshake"] += 1
                return None
            self.handshakes.append(time.monotonic() - started)
            self.transports.append(transport)
            self.listeners.append(listener)
            return listener

    async def open_many(self, paths: list[str], factory) -> float:
        """Open one socket per path; returns the wall time it took."""
        started = time.monotonic()
        await asyncio.gather(*(self.open(p, factory) for p in paths))
        return time.monotonic() - started

    async def close_all(self) -> None:
        for transport in self.transports:
            if not transport.is_disconnected:
                transport.send_close(WSCloseCode.OK)
                transport.disconnect()
        self.transports.clear()
        self.listeners.clear()
        await asyncio.sleep(0.2)
