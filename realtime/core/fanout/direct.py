"""Publishing from a thread straight to Redis, with no trip to the event loop.

A database thread that publishes used to hand each publish to the process'
event loop (``async_to_sync``) and wait for it. A room's publisher does that
holding the room's row lock, so that seqs leave in order. Under a crowd the
loop is busy writing to thousands of sockets: in a rolling restart of 4,000
clients (``bench/rolling.py``), py-spy found asgiref's one thread-sensitive
thread of the surviving process waiting in that call at every look, the
posts of that process queued behind it until long after the room went quiet,
and the room's lock was held for each wait, so the other process' posts
waited as well.

With channels-redis' pub/sub layer (``project.config.redis_channel_layer``)
a ``group_send`` is one ``PUBLISH`` of the serialized message on the group's
channel, on the shard that the channel's name hashes to. ``RedisPublisher``
does exactly that from the calling thread, with a synchronous client (one
pool per shard, process and layer), pipelined: one round trip per shard for a
batch. The hubs receive it as they receive the layer's own. It relies on
channels-redis 4's channel names (``<prefix>__group__<group>``), its shard
hash and its serializer: ``tests/test_fanout_direct.py`` has the layer itself
receive what this sends, on two shards, so an upgrade that changes any of
them fails there. Any other layer (the in-memory one) goes through the loop.
"""

import threading
import weakref

import redis
import redis.sentinel
from channels.layers import DEFAULT_CHANNEL_LAYER, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.utils import _consistent_hash
from django.conf import settings


class RedisPublisher:
    """``group_send`` of the pub/sub layer, from a thread, in order."""

    def __init__(self, layer, hosts: list[dict], prefix: str):
        self.layer = layer
        self.prefix = prefix
        self.clients = [redis.Redis(connection_pool=_pool(host)) for host in hosts]

    def channel(self, group: str) -> str:
        """The Redis channel of a group (``RedisPubSubLoopLayer``'s name)."""
        return f"{self.prefix}__group__{group}"

    def send_many(self, messages: list[tuple[str, dict]]) -> None:
        """``(group, message)`` pairs, in order; one pipeline per shard (a
        group lives on one shard, so each group's order holds)."""
        batches: dict[int, list[tuple[str, bytes]]] = {}
        for group, message in messages:
            channel = self.channel(group)
            shard = _consistent_hash(channel, len(self.clients))
            data = self.layer.serialize(message)
            batches.setdefault(shard, []).append((channel, data))
        for shard, items in batches.items():
            pipe = self.clients[shard].pipeline(transaction=False)
            for channel, data in items:
                pipe.publish(channel, data)
            pipe.execute()


def _pool(host: dict) -> redis.ConnectionPool:
    """channels-redis' ``create_pool``, with redis-py's synchronous classes."""
    host = dict(host)
    if "address" in host:
        return redis.ConnectionPool.from_url(host.pop("address"), **host)
    master = host.pop("master_name", None)
    if master is not None:
        sentinels = host.pop("sentinels")
        sentinel_kwargs = host.pop("sentinel_kwargs", None)
        watcher = redis.sentinel.Sentinel(sentinels, sentinel_kwargs=sentinel_kwargs)
        return redis.sentinel.SentinelConnectionPool(master, watcher, **host)
    return redis.ConnectionPool(**host)


_publishers: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def redis_publisher() -> RedisPublisher | None:
    """The publisher of the current layer, or None when the layer is not
    Redis pub/sub or its settings give no ``SYNC_HOSTS``."""
    layer = get_channel_layer()
    if not isinstance(layer, RedisPubSubChannelLayer):
        return None
    with _lock:
        publisher = _publishers.get(layer)
        if publisher is None:
            config = settings.CHANNEL_LAYERS[DEFAULT_CHANNEL_LAYER]
            hosts = config.get("SYNC_HOSTS")
            if not hosts:
                return None
            prefix = config.get("CONFIG", {}).get("prefix", "asgi")
            publisher = _publishers[layer] = RedisPublisher(layer, hosts, prefix)
    return publisher
