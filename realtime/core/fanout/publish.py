"""The one way to publish: a layer message per publish, once per process.

Coroutines ``apublish``; synchronous code (a database thread, a view, a
command) calls ``publish``, which on the Redis pub/sub layer publishes from
its own thread (``realtime.core.fanout.direct``) and otherwise waits for the
event loop's ``group_send``. Either way it returns once the layer has the
message, so what the caller does next comes after it.
"""

import asyncio
import re
import time
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from realtime.core.envelope import encode
from realtime.core.fanout.direct import redis_publisher

TOPIC_RE = re.compile(r"[a-zA-Z0-9._-]{1,90}")
GROUP_PREFIX = "fanout."
LAYER_TYPE = "fanout.message"

Event = dict[str, Any]


def check_topic(topic: str) -> str:
    if not TOPIC_RE.fullmatch(topic):
        raise ValueError(f"Invalid topic {topic!r}: use [a-zA-Z0-9._-], at most 90.")
    return topic


def layer_message(topic: str, event: Event, key=None, control: bool = False) -> dict:
    """The layer message that carries ``event`` to every hub following ``topic``."""
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
    message = layer_message(topic, event, key)
    await get_channel_layer().group_send(GROUP_PREFIX + topic, message)


async def apublish_control(topic: str, event: Event) -> None:
    """Hand ``event`` to the ``on_control`` hook of every subscriber of ``topic``."""
    message = layer_message(topic, event, control=True)
    await get_channel_layer().group_send(GROUP_PREFIX + topic, message)


def publish(topic: str, event: Event, *, key=None) -> None:
    """Synchronous ``apublish``, for views, admin actions, signals and commands."""
    _send_many([(topic, layer_message(topic, event, key))])


async def _apublish_many(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    for topic, message in messages:
        await layer.group_send(GROUP_PREFIX + topic, message)


def publish_many(events: list[tuple[str, Event]]) -> None:
    """``publish`` each ``(topic, event)`` in order, in one go: a caller that
    holds a lock while it publishes (a room's publisher,
    ``realtime.chat.publishing``) holds it one pipelined trip to Redis (on
    the in-memory layer, one wait for the event loop), not one per event."""
    messages = [(topic, layer_message(topic, event)) for topic, event in events]
    if messages:
        _send_many(messages)


def publish_control(topic: str, event: Event) -> None:
    _send_many([(topic, layer_message(topic, event, control=True))])


def _send_many(messages: list[tuple[str, dict]]) -> None:
    """From synchronous code: straight to Redis on the pub/sub layer (no wait
    for a loop busy with sockets), else through the event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # it would block the loop; async_to_sync refuses this as well
        raise RuntimeError("publish() called from async code: await apublish().")
    direct = redis_publisher()
    if direct is None:
        async_to_sync(_apublish_many)(messages)
        return
    direct.send_many([(GROUP_PREFIX + topic, message) for topic, message in messages])


def publish_on_commit(topic: str, event: Event, *, key=None, using=None) -> None:
    """Publish once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(publish, topic, event, key=key), using=using)


def publish_control_on_commit(topic: str, event: Event, *, using=None) -> None:
    transaction.on_commit(partial(publish_control, topic, event), using=using)
