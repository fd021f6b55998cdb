"""The per-process hub: joins topic groups on the layer and feeds outboxes.

A topic's group on the channel layer has the *hubs* as members, not the
sockets: a publish costs one layer message per process with subscribers,
however many sockets follow the topic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from channels.layers import get_channel_layer

from realtime.core import metrics
from realtime.core.fanout.frame import Frame
from realtime.core.fanout.liveness import PING, Liveness
from realtime.core.fanout.publish import GROUP_PREFIX, check_topic
from realtime.core.perloop import PerLoop

if TYPE_CHECKING:
    from realtime.core.fanout.outbox import Outbox

log = logging.getLogger(__name__)

DRAIN_INTERVAL = 0.05
# Seconds the receive loop may hold the event loop before it gives it back.
# A layer's queue that holds messages hands them out without a pause
# (``asyncio.Queue.get``), and a room's message to thousands of sockets takes
# tens of milliseconds: without a yield, a backlog of them starved every
# handshake, client frame and the SIGTERM handler until it was all written.
HOLD = 0.005
# Layer operations (group_add/discard) a hub runs at once: channels-redis'
# connection pool holds 100 connections, and a connect storm must not take them.
LAYER_CONCURRENCY = 16

_background: set[asyncio.Future] = set()


def spawn(coro) -> asyncio.Future:
    """Run ``coro`` in the background, holding a reference until it ends."""
    task = asyncio.ensure_future(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


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
        self.liveness = Liveness(self)

    async def _start(self) -> None:
        async with self._ready:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.liveness.watch()
                self._tasks = [
                    asyncio.ensure_future(self._receive_loop()),
                    asyncio.ensure_future(self._rejoin_loop()),
                    asyncio.ensure_future(self.liveness.run()),
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
                    self.liveness.watch()  # a new shard may have connected
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

    def rejoining(self) -> bool:
        """True while a wanted topic's group is not joined (a retry is due)."""
        return bool(self._failed)

    def resync(self) -> None:
        """The layer may have lost frames: every local reliable stream replays
        from the store after the last seq its socket was sent."""
        streams = 0
        for topic, subscribers in list(self.topics.items()):
            for outbox in list(subscribers):
                # Duck-typed subscribers (the session watcher) hold no stream.
                resync = getattr(outbox, "resync", None)
                streams += resync is not None and resync(topic)
        metrics.fanout_resyncs.inc()
        log.warning(
            "Channel layer heard again: %d reliable streams replay from the store",
            streams,
        )

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
                    spawn(
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
        held_since = time.monotonic()
        while True:
            if time.monotonic() - held_since >= HOLD:
                await asyncio.sleep(0)  # let the rest of the process run
                held_since = time.monotonic()
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
                self.liveness.lost(f"the channel layer receive failed ({exc})")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.1
            try:
                if message.get("type") == PING:
                    if self.liveness.heard_ping(message.get("n", 0)):
                        self.resync()
                else:
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


_hubs = PerLoop(Hub)


def get_hub() -> Hub:
    """The hub of the running event loop (one per process under daphne)."""
    return _hubs.get()


def reset_hubs() -> None:
    """Forget every hub (tests switch channel layers between event loops)."""
    for hub in _hubs.all():
        hub.stop()
    _hubs.clear()
