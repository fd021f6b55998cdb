"""The one way to publish, and the per-process hub that hands events to sockets.

    publish(topic, event) --layer--> one Hub per process --> each local Outbox

* A topic's group on the channel layer has the *hubs* as members, not the
  sockets: a publish costs one layer message per process with subscribers,
  however many sockets follow the topic.
* The hub encodes and frames a message once per wire format, then writes the
  same bytes to every local socket (under daphne: autobahn's PreparedMessage).
* Delivery never waits on a slow socket. Every frame to a socket, the
  consumer's own included, goes through its Outbox, in order. While the
  socket's buffer is above HIGH_WATER the outbox holds frames, by kind:
  - keyed (``key=``; conflated: quotes, scores): only the newest per key;
  - sequenced (``"seq"`` in the event; reliable: chat, notifications, game):
    up to MAX_PENDING per topic, then they are dropped and, once the socket
    drains, the consumer replays the gap from its store (``on_gap``);
  - neither (ephemeral: typing, presence hints): dropped while behind.
* Control events (``publish_control``) are not sent to sockets: each local
  subscriber's ``on_control`` hook receives them (bans, closes, kicks).
"""

import asyncio
import json
import logging
import re
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from realtime.core import metrics
from realtime.core.envelope import encode
from realtime.core.transport import SCOPE_KEY, prepare

log = logging.getLogger(__name__)

TOPIC_RE = re.compile(r"[a-zA-Z0-9._-]{1,90}")
GROUP_PREFIX = "fanout."
LAYER_TYPE = "fanout.message"
HIGH_WATER = 256 * 1024  # bytes waiting in a socket before its outbox holds frames
MAX_PENDING = 500  # sequenced frames held per topic before falling back to replay
SEQ_WINDOW = 1024  # out-of-order sequence numbers remembered per stream
DRAIN_INTERVAL = 0.05
# Layer operations (group_add/discard) a hub runs at once: channels-redis'
# connection pool holds 100 connections, and a connect storm must not take them.
LAYER_CONCURRENCY = 16

Event = dict[str, Any]
_background: set[asyncio.Future] = set()


def _spawn(coro) -> asyncio.Future:
    """Run ``coro`` in the background, holding a reference until it ends."""
    task = asyncio.ensure_future(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


Renderer = Callable[[Event], str | None]
_formats: dict[str, Renderer] = {}


def register_format(name: str, render: Renderer) -> None:
    """Add a wire format besides JSON; ``render`` returns None to skip an event."""
    _formats[name] = render


def check_topic(topic: str) -> str:
    if not TOPIC_RE.fullmatch(topic):
        raise ValueError(f"Invalid topic {topic!r}: use [a-zA-Z0-9._-], at most 90.")
    return topic


def _layer_message(topic: str, event: Event, key, control: bool) -> dict:
    check_topic(topic)
    message = {"type": LAYER_TYPE, "topic": topic, "ts": time.time()}
    if control:
        message["control"] = event
    else:
        message["text"] = encode(event)
        if key is not None:
            message["key"] = str(key)
        if event.get("seq") is not None:
            message["seq"] = event["seq"]
    return message


async def apublish(topic: str, event: Event, *, key=None) -> None:
    """Send ``event`` to every socket following ``topic``, in every process."""
    message = _layer_message(topic, event, key, control=False)
    await get_channel_layer().group_send(GROUP_PREFIX + topic, message)


async def apublish_control(topic: str, event: Event) -> None:
    """Hand ``event`` to the ``on_control`` hook of every subscriber of ``topic``."""
    message = _layer_message(topic, event, None, control=True)
    await get_channel_layer().group_send(GROUP_PREFIX + topic, message)


def publish(topic: str, event: Event, *, key=None) -> None:
    """Synchronous ``apublish``, for views, admin actions, signals and commands."""
    async_to_sync(apublish)(topic, event, key=key)


def publish_control(topic: str, event: Event) -> None:
    async_to_sync(apublish_control)(topic, event)


def publish_on_commit(topic: str, event: Event, *, key=None, using=None) -> None:
    """Publish once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(publish, topic, event, key=key), using=using)


def publish_control_on_commit(topic: str, event: Event, *, using=None) -> None:
    transaction.on_commit(partial(publish_control, topic, event), using=using)


class Frame:
    """One published message, encoded and framed at most once per format."""

    __slots__ = ("_event", "_prepared", "_texts", "key", "seq", "text", "topic", "ts")

    def __init__(self, message: dict):
        self.topic = message["topic"]
        self.text = message["text"]
        self.key = message.get("key")
        self.seq = message.get("seq")
        self.ts = message.get("ts", 0.0)
        self._event = None
        self._texts: dict[str, str | None] = {"json": self.text}
        self._prepared: dict[str, Any] = {}

    def text_for(self, fmt: str) -> str | None:
        try:
            return self._texts[fmt]
        except KeyError:
            if self._event is None:
                self._event = json.loads(self.text)
            text = self._texts[fmt] = _formats[fmt](self._event)
            return text

    def prepared_for(self, fmt: str):
        prepared = self._prepared.get(fmt)
        if prepared is None:
            text = self.text_for(fmt)
            prepared = self._prepared[fmt] = None if text is None else prepare(text)
        return prepared


class SeqWindow:
    """Which sequence numbers of one stream a socket has been sent."""

    __slots__ = ("above", "floor")

    def __init__(self, floor: int):
        self.floor = floor  # every seq <= floor was sent (or predates the socket)
        self.above: set[int] = set()

    def add(self, seq: int) -> bool:
        """Record ``seq``; False when it was already sent (a duplicate)."""
        if seq <= self.floor or seq in self.above:
            return False
        self.above.add(seq)
        while self.floor + 1 in self.above:
            self.floor += 1
            self.above.remove(self.floor)
        if len(self.above) > SEQ_WINDOW:  # a hole that will not fill: move on
            self.floor = min(self.above)
            self.above.discard(self.floor)
        return True


class Outbox:
    """The single writer of one socket: consumer frames and hub frames, in order."""

    def __init__(
        self,
        scope: dict,
        send: Callable[[dict], Awaitable[None]],
        *,
        fmt: str = "json",
        on_gap: Callable[[str, int], Awaitable[None]] | None = None,
        on_control: Callable[[str, Event], Awaitable[None]] | None = None,
    ):
        self.socket = scope.get(SCOPE_KEY)
        self.send = send
        self.fmt = fmt
        self.on_gap = on_gap
        self.on_control = on_control
        self.queue: deque = deque()
        self.latest: dict[str, Frame] = {}
        self.held: dict[str, int] = {}  # topic -> sequenced frames in the queue
        self.windows: dict[str, SeqWindow] = {}
        self.gaps: set[str] = set()
        self.replaying = False
        self._replayed = 0  # frames put_replayed has queued during this replay
        self.closed = False
        self.dropped = 0
        self._wake = asyncio.Event()
        self._writer: asyncio.Task | None = None

    # What the consumer calls.

    def put_text(self, text: str) -> None:
        """Queue one of the consumer's own frames (never dropped)."""
        self._put(("text", text))

    def start_stream(self, topic: str, floor: int) -> None:
        """Mark ``topic`` sequenced; the socket already has everything <= floor."""
        self.windows[topic] = SeqWindow(floor)

    @asynccontextmanager
    async def holding(self):
        """Hold live frames while the consumer reads its store for a reply.

        Frames queued with ``put_replayed`` meanwhile go out first, in order; the
        held live frames follow, and the stream windows drop those the reply
        already covered. Waits for a slow-socket replay that is under way.
        """
        while self.replaying:  # noqa: ASYNC110 (the replay clears it when done)
            await asyncio.sleep(0.02)
        self.replaying = True
        self._replayed = 0
        try:
            yield self
        finally:
            self.replaying = False
            self._kick()

    def put_replayed(self, topic: str, seq: int | None, text: str) -> None:
        """Queue a frame read back from the store; skipped if already sent.

        ``seq`` None: a frame of the reply outside the stream (a header, a
        snapshot), always queued. During ``holding`` or a gap replay the frames
        go ahead of the held live ones, in the order they are put.
        """
        window = self.windows.get(topic) if seq is not None else None
        if window is None or window.add(seq):
            if self.replaying:  # ahead of live frames that arrived meanwhile, in order
                self.queue.insert(self._replayed, ("text", text))
                self._replayed += 1
            else:
                self._put(("text", text))

    async def close_socket(self, code: int, reason: str | None = None) -> None:
        """Close the socket after the frames already queued for it."""
        message = {"type": "websocket.close", "code": int(code)}
        if reason:
            message["reason"] = reason
        if self.socket is None and not self.closed:
            self._put(("close", message))
            return
        if self.socket is not None and self.socket.is_open:
            # daphne drops the reason of an ASGI close; autobahn sends it.
            self._flush_daphne()
            self.socket.close(code, reason)
            return
        await self.send(message)

    def close(self) -> None:
        self.closed = True
        self.queue.clear()
        self.latest.clear()
        if self._writer is not None:
            self._writer.cancel()

    # What the hub calls.

    def deliver(self, frame: Frame) -> None:
        """Write ``frame`` now if the socket keeps up, else hold or drop it by kind."""
        if self.closed:
            return
        key = frame.key
        if key is not None:
            if key in self.latest:
                self.latest[key] = frame  # conflate: the queued slot gets it
                return
            if not self.queue and self._write_frame(frame):
                return
            self.latest[key] = frame
            self._put(("key", key))
        elif frame.seq is not None:
            topic = frame.topic
            if topic in self.gaps:
                return  # the replay after the gap will read it from the store
            if not self.queue and not self.replaying and self._can_write():
                self._write_sequenced(frame)
                return
            held = self.held.get(topic, 0) + 1
            if held > MAX_PENDING:
                self._overflow(topic)
                return
            self.held[topic] = held
            self._put(("seq", frame))
        elif self.queue or not self._write_frame(frame):
            self.dropped += 1  # ephemeral: worthless once late

    # Internals.

    def _put(self, item) -> None:
        if self.closed:
            return
        self.queue.append(item)
        self._kick()

    def _kick(self) -> None:
        if self.socket is not None:
            if self._can_write() and not self.replaying:
                self._flush_daphne()
            if self.queue or self.gaps:
                get_hub().backlog(self)
        else:
            if self._writer is None:
                self._writer = asyncio.ensure_future(self._asgi_writer())
            self._wake.set()

    def _can_write(self) -> bool:
        return self.socket is None or self.socket.buffered_bytes() < HIGH_WATER

    def _overflow(self, topic: str) -> None:
        self.queue = deque(
            item
            for item in self.queue
            if not (item[0] == "seq" and item[1].topic == topic)
        )
        self.dropped += self.held.pop(topic, 0)
        self.gaps.add(topic)
        if self.socket is not None:
            get_hub().backlog(self)

    def _next_text(self):
        """Pop the next queued item as (text, frame or None); None when empty."""
        while self.queue:
            kind, value = self.queue.popleft()
            if kind in ("text", "close"):
                return value, None
            if kind == "key":
                frame = self.latest.pop(value)
            else:
                frame = value
                self.held[frame.topic] -= 1
                window = self.windows.get(frame.topic)
                if window is not None and not window.add(frame.seq):
                    continue
            text = frame.text_for(self.fmt)
            if text is not None:
                return text, frame
        return None

    def _write_frame(self, frame: Frame) -> bool:
        """Write a hub frame now if the socket can take it; True when handled."""
        socket = self.socket
        if socket is None:
            text = frame.text_for(self.fmt)
            if text is not None:
                self._put(("text", text))
            return True
        prepared = frame.prepared_for(self.fmt)
        return prepared is None or socket.offer(prepared, HIGH_WATER)

    def _write_sequenced(self, frame: Frame) -> None:
        window = self.windows.get(frame.topic)
        if window is None or window.add(frame.seq):
            self._write_frame(frame)

    def _flush_daphne(self) -> None:
        socket = self.socket
        while self.queue and socket.buffered_bytes() < HIGH_WATER:
            item = self._next_text()
            if item is None:
                break
            text, frame = item
            if frame is not None:
                socket.send_prepared(frame.prepared_for(self.fmt))
            elif isinstance(text, dict):  # a close queued before the socket slowed
                socket.close(text["code"], text.get("reason"))
            else:
                socket.send_message(text.encode(), False)

    def drain(self) -> bool:
        """Called by the hub's drain loop; True once nothing is held any more."""
        if self.closed:
            return True
        if not socket_open(self.socket):
            self.close()
            return True
        if self.replaying or not self._can_write():
            return False
        self._flush_daphne()
        if self.queue:
            return False
        if self.gaps:
            self._start_replay()
            return False
        return True

    def _start_replay(self) -> None:
        topics, self.gaps = self.gaps, set()
        self.replaying = True
        self._replayed = 0
        _spawn(self._replay(topics))

    async def _replay(self, topics) -> None:
        try:
            for topic in topics:
                window = self.windows.get(topic)
                if self.on_gap is not None:
                    await self.on_gap(topic, window.floor if window else 0)
        except Exception:
            log.exception("Replay after a slow-socket gap failed")
        finally:
            self.replaying = False
            self._kick()

    async def _asgi_writer(self) -> None:
        """Plain ASGI servers (and the test communicator): await each send."""
        while not self.closed:
            await self._wake.wait()
            self._wake.clear()
            while not self.replaying:
                item = self._next_text()
                if item is None:
                    break
                payload = item[0]
                if isinstance(payload, dict):  # a queued close
                    await self.send(payload)
                    self.closed = True
                    return
                await self.send({"type": "websocket.send", "text": payload})
            if self.gaps and not self.replaying:
                self._start_replay()


def socket_open(socket) -> bool:
    return socket is None or socket.is_open


class Hub:
    """One per process (per event loop): joins topic groups and feeds outboxes."""

    def __init__(self):
        self.layer = get_channel_layer()
        self.topics: dict[str, set[Outbox]] = {}
        self.channel: str | None = None
        self.joined: set[str] = set()  # topics whose group has this hub's channel
        self._syncing: dict[str, asyncio.Future] = {}  # a layer call in flight
        self._failed: set[str] = set()  # wanted topics whose group_add failed
        self._slots = asyncio.Semaphore(LAYER_CONCURRENCY)
        self.backlogged: set[Outbox] = set()
        self.delivered = 0
        self._ready = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self._drainer: asyncio.Task | None = None

    async def _start(self) -> None:
        async with self._ready:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self._tasks = [
                    asyncio.ensure_future(self._receive_loop()),
                    asyncio.ensure_future(self._rejoin_loop()),
                ]

    async def join(self, topic: str, outbox: Outbox) -> None:
        """Subscribe ``outbox`` to ``topic`` (the process joins the group once).

        Only the first local follower of a topic costs a layer round trip;
        followers arriving while it is in flight wait for that same one, so a
        socket's handshake completes only once its topic is joined.
        """
        check_topic(topic)
        if self.channel is None:
            await self._start()
        subscribers = self.topics.get(topic)
        if subscribers is None:
            subscribers = self.topics[topic] = set()
        subscribers.add(outbox)
        if topic not in self.joined or topic in self._syncing:
            await self._sync(topic)

    async def leave(self, topic: str, outbox: Outbox) -> None:
        subscribers = self.topics.get(topic)
        if subscribers is None:
            return
        subscribers.discard(outbox)
        if not subscribers:
            del self.topics[topic]
            await self._sync(topic)

    async def leave_all(self, outbox: Outbox, topics) -> None:
        for topic in list(topics):
            await self.leave(topic, outbox)
        self.backlogged.discard(outbox)

    async def _sync(self, topic: str) -> None:
        """Make the topic's group membership match local interest.

        One layer call per topic at a time (others wait for it, then look
        again), at most LAYER_CONCURRENCY per hub. The caller makes the call
        itself: with the in-memory layer nothing yields, so a socket that
        follows a topic is subscribed by the time ``follow`` returns.
        """
        while (pending := self._syncing.get(topic)) is not None:
            await asyncio.shield(pending)
        wanted = topic in self.topics
        if wanted == (topic in self.joined):
            return
        done = self._syncing[topic] = asyncio.get_running_loop().create_future()
        group = GROUP_PREFIX + topic
        try:
            async with self._slots:
                if wanted:
                    await self.layer.group_add(group, self.channel)
                    self.joined.add(topic)
                    self._failed.discard(topic)
                else:
                    self.joined.discard(topic)
                    await self.layer.group_discard(group, self.channel)
        except Exception as exc:
            # A stale membership only costs ignored messages; a missing one is
            # retried by the rejoin loop within a second.
            log.warning("Could not update %s on the layer (%s)", topic, exc)
            if wanted:
                self._failed.add(topic)
        finally:
            del self._syncing[topic]
            done.set_result(None)

    def local_count(self, topic: str) -> int:
        return len(self.topics.get(topic, ()))

    def dispatch(self, message: dict) -> None:
        """Hand one layer message to every local subscriber of its topic."""
        subscribers = self.topics.get(message.get("topic"))
        if not subscribers:
            return
        if "control" in message:
            for outbox in list(subscribers):
                if outbox.on_control is not None:
                    _spawn(
                        _guarded(
                            outbox.on_control(message["topic"], message["control"])
                        )
                    )
            return
        frame = Frame(message)
        for outbox in tuple(subscribers):
            outbox.deliver(frame)
        self.delivered += len(subscribers)
        metrics.fanout_deliveries.inc(amount=len(subscribers))
        metrics.delivery_latency.observe(max(0.0, time.time() - frame.ts))

    def backlog(self, outbox: Outbox) -> None:
        self.backlogged.add(outbox)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.ensure_future(self._drain_loop())

    async def _drain_loop(self) -> None:
        while self.backlogged:
            await asyncio.sleep(DRAIN_INTERVAL)
            for outbox in list(self.backlogged):
                if outbox.drain():
                    self.backlogged.discard(outbox)

    async def _receive_loop(self) -> None:
        delay = 0.1
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("Channel layer receive failed (%s); retrying", exc)
                # A layer whose receive fails may have lost its groups (a
                # list-based layer on a Redis that restarted empty): join every
                # topic again, retried each second until it holds. The pub/sub
                # layer never fails here: its reader resubscribes by itself.
                self.joined.clear()
                self._failed.update(self.topics)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.1
            try:
                self.dispatch(message)
            except Exception:
                log.exception("Fan-out dispatch failed")

    async def _rejoin_loop(self) -> None:
        """Retry failed joins each second until they hold."""
        while True:
            await asyncio.sleep(1.0)
            for topic in list(self._failed):
                self._failed.discard(topic)
                await self._sync(topic)

    def stop(self) -> None:
        for task in [*self._tasks, self._drainer]:
            if task is not None:
                task.cancel()


async def _guarded(coro) -> None:
    try:
        await coro
    except Exception:
        log.exception("A fan-out control handler failed")


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = (
    weakref.WeakKeyDictionary()
)


def get_hub() -> Hub:
    """The hub of the running event loop (one per process under daphne)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub()
    return hub


def reset_hubs() -> None:
    """Forget every hub (tests switch channel layers between event loops)."""
    for hub in list(_hubs.values()):
        hub.stop()
    _hubs.clear()
