"""The measured sockets: Duplex's engine and the stock Channels way, side by side.

A publisher socket receives ``"<mode> <topic> <json event>"`` frames (mode
``e`` ephemeral, ``k`` keyed by topic) and publishes each event once; the
subscriber sockets follow the topics listed in their ``?topics=`` query.
"""

import json
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from realtime.core import fanout
from realtime.core.sockets import JsonSocket, NoDispatchHop


def topics_of(scope) -> list[str]:
    query = parse_qs(scope.get("query_string", b"").decode())
    return [t for t in query.get("topics", [""])[0].split(",") if t]


class DuplexSubscriber(JsonSocket):
    """A feature socket as every Duplex feature writes it: follow, then accept."""

    async def connect(self):
        for topic in topics_of(self.scope):
            await self.follow(topic)
        await self.accept()


class DuplexPublisher(NoDispatchHop, AsyncWebsocketConsumer):
    """Publish each frame through ``fanout.apublish``: one layer message per process."""

    channel_layer_alias = None

    async def receive(self, text_data=None, bytes_data=None):
        mode, topic, payload = text_data.split(" ", 2)
        key = topic if mode == "k" else None
        await fanout.apublish(topic, json.loads(payload), key=key)


class StockSubscriber(AsyncWebsocketConsumer):
    """The Channels tutorial's way: one group membership per socket and topic."""

    async def connect(self):
        self.topics = topics_of(self.scope)
        for topic in self.topics:
            await self.channel_layer.group_add(topic, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for topic in getattr(self, "topics", ()):
            await self.channel_layer.group_discard(topic, self.channel_name)

    async def bench_tick(self, event):
        await self.send(text_data=event["text"])


class StockPublisher(NoDispatchHop, AsyncWebsocketConsumer):
    """``group_send`` each frame: the layer wakes every member consumer."""

    async def receive(self, text_data=None, bytes_data=None):
        _mode, topic, payload = text_data.split(" ", 2)
        await self.channel_layer.group_send(
            topic, {"type": "bench.tick", "text": payload}
        )


class BurstSocket(NoDispatchHop, AsyncWebsocketConsumer):
    """``"<kind> <count>"`` gets ``count`` frames of that kind (bench/compression.py).

    The frames are built on a kind's first request and kept, so a measured
    burst costs the server its sends only.
    """

    frames: dict[str, list[str]] = {}

    async def receive(self, text_data=None, bytes_data=None):
        from bench.compression import frames

        kind, count = text_data.split(" ")
        if kind not in self.frames:
            history = settings.DUPLEX["CHAT_HISTORY"]
            self.frames[kind] = frames(kind, 200, 1, history=history)
        made = self.frames[kind]
        for n in range(int(count)):
            await self.send(text_data=made[n % len(made)])
