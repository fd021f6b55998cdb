"""The single writer of one socket: the consumer's frames and the hub's, in order.

Delivery never waits on a slow socket. While the socket's buffer is above
HIGH_WATER the outbox holds frames, by kind:

- keyed (``key=``; conflated: quotes, scores): only the newest per key;
- sequenced (``"seq"`` in the event; reliable: chat, notifications, game):
  up to MAX_PENDING per topic, then they are dropped and, once the socket
  drains, the consumer replays the gap from its store (``on_gap``);
- neither (ephemeral: typing, presence hints): dropped while behind.

The consumer's own frames (replies, replays) are never dropped, so they are
what a client that asks and never reads would pile up: past ``max_queued``
bytes of them the socket is closed with 1008 and its queue freed.

A writer (``writers``) puts the queue on the wire: straight into daphne's
protocol, or through ASGI ``send``.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from realtime.core import metrics
from realtime.core.fanout.frame import Frame
from realtime.core.fanout.hub import spawn
from realtime.core.fanout.items import Closing, Item, Keyed, Sequenced, SeqWindow, Text
from realtime.core.fanout.writers import HIGH_WATER, AsgiWriter, DaphneWriter
from realtime.core.transport import SCOPE_KEY

log = logging.getLogger(__name__)

MAX_PENDING = 500  # sequenced frames held per topic before falling back to replay
MAX_QUEUED = 4 * 1024 * 1024  # bytes of the consumer's own frames a socket may owe
TOO_FAR_BEHIND = 1008  # policy violation: the client stopped reading

Event = dict[str, Any]


class Outbox:
    """What one socket is owed, in order, and what it may skip when slow."""

    def __init__(
        self,
        scope: dict,
        send: Callable[[dict], Awaitable[None]],
        *,
        fmt: str = "json",
        on_gap: Callable[[str, int], Awaitable[None]] | None = None,
        on_control: Callable[[str, Event], Awaitable[None]] | None = None,
        max_queued: int = MAX_QUEUED,
    ):
        self.socket = scope.get(SCOPE_KEY)
        self.send = send
        self.fmt = fmt
        self.on_gap = on_gap
        self.on_control = on_control
        self.queue: deque[Item] = deque()
        self.latest: dict[str, Frame] = {}
        self.held: dict[str, int] = {}  # topic -> sequenced frames in the queue
        self.windows: dict[str, SeqWindow] = {}
        self.gaps: set[str] = set()
        self.replaying = False
        self.replay_since = 0.0  # time.monotonic() when the last gap replay began
        self._replayed = 0  # frames put_replayed has queued during this replay
        self.closed = False
        self.dropped = 0
        self.max_queued = max_queued
        self.queued_bytes = 0  # UTF-8 bytes of the Text items in the queue
        self.overflowed = False
        self.writer = (
            AsgiWriter(self) if self.socket is None else DaphneWriter(self, self.socket)
        )

    # What the consumer calls.

    def put_text(self, text: str) -> None:
        """Queue one of the consumer's own frames (never dropped, but bounded)."""
        self._put_text(Text(text))

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
            self.writer.kick()

    def put_replayed(self, topic: str, seq: int | None, text: str) -> None:
        """Queue a frame read back from the store; skipped if already sent.

        ``seq`` None: a frame of the reply outside the stream (a header, a
        snapshot), always queued. During ``holding`` or a gap replay the frames
        go ahead of the held live ones, in the order they are put.
        """
        window = self.windows.get(topic) if seq is not None else None
        if window is None or window.add(seq):
            self._put_text(Text(text), ahead=self.replaying)

    async def close_socket(self, code: int, reason: str | None = None) -> None:
        """Close the socket after the frames already queued for it."""
        await self.writer.close(int(code), reason)

    def close(self) -> None:
        self.closed = True
        self._forget()
        self.writer.stop()

    # What the hub calls.

    def deliver(self, frame: Frame) -> None:
        """Write ``frame`` now if the socket keeps up, else hold or drop it by kind."""
        if self.closed:
            return
        key = frame.key
        if key is not None:
            if key in self.latest:
                self.latest[key] = frame  # conflate: the queued slot gets it
                metrics.fanout_dropped.inc("conflated")
                return
            if not self.queue and self.writer.offer(frame):
                return
            self.latest[key] = frame
            self._put(Keyed(key))
        elif frame.seq is not None:
            topic = frame.topic
            if topic in self.gaps:
                return  # the replay after the gap will read it from the store
            if not self.queue and not self.replaying and self.writer.can_write():
                self._write_sequenced(frame)
                return
            held = self.held.get(topic, 0) + 1
            if held > MAX_PENDING:
                self._gap(topic)
                return
            self.held[topic] = held
            self._put(Sequenced(frame))
        elif self.queue or not self.writer.offer(frame):
            self.dropped += 1  # ephemeral: worthless once late
            metrics.fanout_dropped.inc("ephemeral")

    def resync(self, topic: str) -> bool:
        """The layer may have lost frames of ``topic``: if it is a reliable
        stream, replay it from the store (``on_gap``) after what was sent."""
        if self.closed or self.overflowed or self.on_gap is None:
            return False
        if topic in self.windows and topic not in self.gaps:
            self._gap(topic)
        return topic in self.windows

    def drain(self) -> bool:
        """Called by the hub's drain loop; True once nothing is held any more."""
        return self.writer.drain()

    # Internals shared by both writers.

    def _put(self, item: Item) -> None:
        if self.closed or self.overflowed:
            return
        self.queue.append(item)
        self.writer.kick()

    def _put_text(self, item: Text, ahead: bool = False) -> None:
        """Queue a consumer frame; ``ahead``: before the live frames held meanwhile
        (during ``holding`` or a gap replay), in the order they are put."""
        if self.closed or self.overflowed:
            return
        self.queued_bytes += item.size
        if self.queued_bytes > self.max_queued:
            self._too_far_behind()
        elif ahead:
            self.queue.insert(self._replayed, item)
            self._replayed += 1
        else:
            self._put(item)

    def _too_far_behind(self) -> None:
        """The client asks and does not read: free what it is owed, and close."""
        log.warning(
            "Closing a socket owed %d bytes of frames it does not read",
            self.queued_bytes,
        )
        metrics.fanout_dropped.inc("overflow", amount=len(self.queue))
        self.overflowed = True
        self._forget()
        self.writer.abort(TOO_FAR_BEHIND, "Too many unread frames.")

    def _forget(self) -> None:
        self.queue.clear()
        self.latest.clear()
        self.held.clear()
        self.gaps.clear()
        self.queued_bytes = 0

    def _gap(self, topic: str) -> None:
        """Stop sending ``topic`` live; replay it from the store once drained.

        Either the socket fell MAX_PENDING frames behind, or a frame came after
        a hole: a publish that never arrived (the layer lost it in a Redis
        restart, or Redis dropped this process' subscription). Sending on past
        the hole would lose the missing frames for good.
        """
        self.queue = deque(
            item
            for item in self.queue
            if not (isinstance(item, Sequenced) and item.frame.topic == topic)
        )
        held = self.held.pop(topic, 0)
        if held:
            self.dropped += held
            metrics.fanout_dropped.inc("sequenced", amount=held)
        self.gaps.add(topic)
        self.writer.gap()

    def next_item(self) -> Text | Frame | Closing | None:
        """Pop what goes on the wire next: a text, a hub frame or a close."""
        while self.queue:
            item = self.queue.popleft()
            if isinstance(item, Text):
                self.queued_bytes -= item.size
                return item
            if isinstance(item, Closing):
                return item
            if isinstance(item, Keyed):
                frame = self.latest.pop(item.key)
            else:
                frame = item.frame
                self.held[frame.topic] -= 1
                window = self.windows.get(frame.topic)
                if window is not None:
                    if window.missing_before(frame.seq):
                        self._gap(frame.topic)
                        continue
                    if not window.add(frame.seq):
                        continue
            if frame.text_for(self.fmt) is not None:
                return frame
        return None

    def _write_sequenced(self, frame: Frame) -> None:
        window = self.windows.get(frame.topic)
        if window is not None and window.missing_before(frame.seq):
            self._gap(frame.topic)
        elif window is None or window.add(frame.seq):
            self.writer.offer(frame)

    def start_replay(self) -> None:
        topics, self.gaps = self.gaps, set()
        # From now on live frames are held, not dropped: a store read started
        # since misses none of them (``SharedReads``' ``not_before``).
        self.replay_since = time.monotonic()
        self.replaying = True
        self._replayed = 0
        spawn(self._replay(topics))

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
            self.writer.kick()


__all__ = ["HIGH_WATER", "MAX_PENDING", "Outbox"]
