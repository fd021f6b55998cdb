"""Logged-in users on the product's own sockets, many at once (picows, one loop).

A *member* is one socket of one user: it sends the hello its page's script
sends (``chat.join`` for a room, ``notifications.hello`` for the bell) and is
*ready* when the answer arrives (``chat.joined``, ``notifications.state``;
``/ws/site/`` is ready when open). ``Crowd`` opens members with at most
``in_flight`` handshakes-and-hellos at once and sorts every failure by kind:
an HTTP refusal, a TCP drop (during the handshake or after it), a close code
before the answer, or no answer in time.
"""

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field

from picows import WSCloseCode, WSListener, WSMsgType, WSTransport, ws_connect
from picows.common import WSHandshakeError

from bench.client import summary
from bench.reconnect import RETRY_HINT, Backoff


@dataclass(frozen=True)
class Endpoint:
    """One of the sockets a page opens, and what its script says first."""

    name: str
    path: str
    hello: bytes | None = None
    ready: str | None = None  # the frame type that answers the hello
    protocols: str | None = None


def chat_endpoint(room: str) -> Endpoint:
    """A room as chat.js opens it: subprotocol offer, then chat.join after 0."""
    return Endpoint(
        "chat",
        f"/ws/chat/{room}/",
        b'{"type":"chat.join","after":0}',
        "chat.joined",
        "superchat",
    )


SITE = Endpoint("site", "/ws/site/")
# A logged-in page's site socket also carries the bell: its hello, its state.
SITE_WITH_BELL = Endpoint(
    "site",
    "/ws/site/",
    b'{"type":"notifications.hello","after":0}',
    "notifications.state",
)
NOTIFICATIONS = Endpoint(
    "notifications",
    "/ws/notifications/",
    b'{"type":"notifications.hello","after":0}',
    "notifications.state",
)


HINTED_TRIES = 30  # attempts a socket makes while told to come back later


class Closed(Exception):
    """The socket closed before its hello was answered."""

    def __init__(self, code, reason: str = ""):
        super().__init__(code)
        self.code = code
        self.reason = reason


def frame_type(payload: bytes) -> str:
    """The ``type`` of a server frame; the server writes it first (compact JSON)."""
    if payload.startswith(b'{"type":"'):
        end = payload.find(b'"', 9)
        if end > 0:
            return payload[9:end].decode()
    try:
        return str(json.loads(payload).get("type"))
    except (ValueError, AttributeError):
        return "?"


class Frames:
    """Counts shared by every member: frames per type, and a sink for messages."""

    def __init__(self):
        self.by_type: Counter = Counter()
        self.on_message = None  # callable(listener, payload) for chat.message
        self.on_presence = None  # callable(payload) for chat.presence


class Member(WSListener):
    """One product socket: count its frames, resolve ``ready`` on the answer."""

    def __init__(self, endpoint: Endpoint, frames: Frames):
        self.endpoint = endpoint
        self.frames = frames
        self.ready = asyncio.get_running_loop().create_future()
        self.close_code = None
        self.close_reason = ""
        self.last_seq = 0
        self.transport: WSTransport | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        if self.endpoint.hello is not None:
            transport.send(WSMsgType.TEXT, self.endpoint.hello)
        elif not self.ready.done():
            self.ready.set_result(time.monotonic())

    def on_ws_frame(self, transport: WSTransport, frame) -> None:
        if frame.msg_type is WSMsgType.CLOSE:
            self.close_code = int(frame.get_close_code())
            self.close_reason = frame.get_close_message().decode("utf-8", "replace")
            transport.disconnect()
            return
        if frame.msg_type is not WSMsgType.TEXT:
            return
        payload = frame.get_payload_as_bytes()
        kind = frame_type(payload)
        self.frames.by_type[kind] += 1
        if kind == "chat.message" and self.frames.on_message is not None:
            self.frames.on_message(self, payload)
        elif kind == "chat.presence" and self.frames.on_presence is not None:
            self.frames.on_presence(payload)
        if kind == self.endpoint.ready and not self.ready.done():
            self.ready.set_result(time.monotonic())

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if not self.ready.done():
            self.ready.set_exception(Closed(self.close_code, self.close_reason))


def failure_kind(exc: BaseException) -> str:
    if isinstance(exc, WSHandshakeError):
        status = getattr(exc.response, "status", None)
        return f"HTTP {int(status)}" if status else "TCP drop in handshake"
    if isinstance(exc, Closed):
        return f"close {exc.code}" if exc.code else "TCP drop after open"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, ConnectionError | EOFError):
        return "TCP drop in handshake"
    return type(exc).__name__


@dataclass
class Stats:
    """One endpoint's figures over a storm."""

    opened: int = 0
    ready: int = 0
    handshakes: list = field(default_factory=list)
    joins: list = field(default_factory=list)  # handshake + hello answered
    failures: Counter = field(default_factory=Counter)
    told_to_wait: int = 0  # 1013 with a retry hint, then tried again

    def as_dict(self, wall: float) -> dict:
        return {
            "opened": self.opened,
            "ready": self.ready,
            "failures": sum(self.failures.values()),
            "failure_kinds": dict(self.failures),
            "told_to_wait": self.told_to_wait,
            "ready_per_s": round(self.ready / wall, 1) if wall else None,
            "handshake": summary(self.handshakes),
            "handshake_and_hello": summary(self.joins),
        }


class Crowd:
    """Open members for many sessions, ``in_flight`` at a time."""

    def __init__(self, server, cookie: str, in_flight: int, answer_s: float = 30.0):
        self.server = server
        self.cookie = cookie
        self.gate = asyncio.Semaphore(in_flight)
        self.answer_s = answer_s
        self.frames = Frames()
        self.members: list[Member] = []
        self.stats: dict[str, Stats] = {}

    async def member(self, session: str, endpoint: Endpoint) -> Member | None:
        """Open one socket, send its hello, wait for the answer (not gated).

        A 1013 with a retry hint (admission control) is not a failure: the
        socket waits the hint times 1 to 2 and tries again, as ``client.js``
        does (bench/reconnect.py), at most ``HINTED_TRIES`` times; its time to
        ready counts from the first try.
        """
        stats = self.stats.setdefault(endpoint.name, Stats())
        started = time.monotonic()
        backoff = Backoff()
        for _ in range(HINTED_TRIES):
            try:
                return await self._try(session, endpoint, stats, started)
            except Closed as closed:
                if closed.code != 1013 or not RETRY_HINT.search(closed.reason):
                    stats.failures[failure_kind(closed)] += 1
                    return None
                stats.told_to_wait += 1
                await asyncio.sleep(backoff.delay(closed.code, closed.reason))
        stats.failures["close 1013, tries used up"] += 1
        return None

    async def _try(self, session, endpoint, stats, started) -> Member | None:
        """One attempt; a hinted 1013 is raised, every other failure counted."""
        headers = {"Origin": self.server.origin, "Cookie": f"{self.cookie}={session}"}
        if endpoint.protocols:
            headers["Sec-WebSocket-Protocol"] = endpoint.protocols
        listener = None
        try:
            _, listener = await ws_connect(
                lambda: Member(endpoint, self.frames),
                self.server.url + endpoint.path,
                extra_headers=headers,
                websocket_handshake_timeout=self.answer_s,
            )
            if listener is None:  # picows' answer to a connection dropped mid-handshake
                raise ConnectionResetError("dropped during the handshake")
            stats.opened += 1
            stats.handshakes.append(time.monotonic() - started)
            answered = await asyncio.wait_for(listener.ready, self.answer_s)
        except Exception as exc:  # every kind is counted, none stops the storm
            if listener is not None and listener.transport is not None:
                listener.transport.disconnect()
            if isinstance(exc, Closed) and exc.code == 1013:
                raise
            stats.failures[failure_kind(exc)] += 1
            return None
        stats.ready += 1
        stats.joins.append(answered - started)
        self.members.append(listener)
        return listener

    async def _gated(self, session: str, endpoints: list[Endpoint]) -> bool:
        async with self.gate:
            opened = await asyncio.gather(*(self.member(session, e) for e in endpoints))
        return all(m is not None for m in opened)

    async def storm(self, sessions: list[str], endpoints: list[Endpoint]):
        """Every session opens ``endpoints`` together (one page); returns the wall
        time and the sessions that did not get all of them."""
        started = time.monotonic()
        done = await asyncio.gather(*(self._gated(s, endpoints) for s in sessions))
        failed = [s for s, ok in zip(sessions, done, strict=True) if not ok]
        return time.monotonic() - started, failed

    async def close_all(self) -> None:
        for member in self.members:
            transport = member.transport
            if transport is not None and not transport.is_disconnected:
                transport.send_close(WSCloseCode.OK)
                transport.disconnect()
        self.members.clear()
        await asyncio.sleep(0.5)


async def quiet(count, gap: float = 0.5, limit: float = 15.0) -> None:
    """Wait until ``count()`` has not changed for ``gap`` seconds."""
    deadline = time.monotonic() + limit
    seen = -1
    while time.monotonic() < deadline:
        now = count()
        if now == seen:
            return
        seen = now
        await asyncio.sleep(gap)
