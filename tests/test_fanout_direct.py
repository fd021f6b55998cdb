"""The database thread's work with Redis does not wait for the event loop.

Synchronous publishes on the Redis layer go from their own thread: a room's
publisher holds the room's row lock while it publishes, and when it waited
for the process' event loop, a loop busy with a crowd's sockets held every
post of the room (``realtime.core.fanout.direct``). The presence read that
a message's notifications make goes from the thread too
(``realtime.core.presence.ThreadReader``).
"""

import asyncio
import json
import time

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels_redis.utils import _consistent_hash

from project.config import redis_channel_layer
from realtime.chat import service
from realtime.core import fanout
from realtime.core.fanout.publish import GROUP_PREFIX
from realtime.core.presence import get_presence, reset_presence
from realtime.models import Notification, RoomFollow
from realtime.notifications.protocol import user_topic
from tests.conftest import REDIS_URL


@pytest.fixture
def redis_layer(settings, redis_prefix):
    def install(urls, prefix=redis_prefix):
        settings.CHANNEL_LAYERS = {"default": redis_channel_layer(urls, prefix)}
        channel_layers.backends.clear()
        return get_channel_layer()

    return install


def heard(subscriber, seconds: float) -> list[dict]:
    """What ``subscriber`` got within ``seconds``, waiting in this thread
    (which keeps the event loop from running meanwhile)."""
    layer = get_channel_layer()
    deadline, got = time.monotonic() + seconds, []
    while time.monotonic() < deadline and not got:
        message = subscriber.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None:
            got.append(layer.deserialize(message["data"]))
    return got


@pytest.mark.django_db(transaction=True)
async def test_a_post_reaches_the_other_processes_while_the_event_loop_is_busy(
    redis_layer, redis_prefix, lobby, ann
):
    """The post runs on the database thread while this process' event loop
    does not run (here it waits for Redis; under a crowd it writes to
    thousands of sockets): the message still goes out to the other processes
    at once, so the post returns and the room's lock is let go."""
    redis_layer([REDIS_URL])
    listener = redis.Redis.from_url(REDIS_URL).pubsub()
    listener.subscribe(f"{redis_prefix}__group__{GROUP_PREFIX}{lobby.stream}")
    post = asyncio.ensure_future(
        sync_to_async(service.post_message)(lobby.pk, ann, "while busy")
    )
    await asyncio.sleep(0)  # the post goes to the database thread
    got = heard(listener, 10.0)  # the loop is blocked all this while
    assert [m["topic"] for m in got] == [lobby.stream]
    assert '"while busy"' in got[0]["text"]
    message = await post
    assert message.seq == 1
    listener.close()


@pytest.mark.django_db(transaction=True)
async def test_a_followed_rooms_post_notifies_while_the_event_loop_is_busy(
    redis_layer, redis_prefix, settings, lobby, ann, bob, carol
):
    """Bob and Carol follow the lobby; Carol is in it. Ann's post, made on
    the database thread while the event loop does not run, notifies Bob at
    once (the presence read that skips Carol does not wait for the loop),
    and the post returns."""
    redis_layer([REDIS_URL])
    settings.REDIS_URLS, settings.REDIS_PRESENCE_URL = [REDIS_URL], ""
    reset_presence()
    for user in (bob, carol):
        await RoomFollow.objects.acreate(user=user, room_slug=lobby.slug)
    await get_presence().join(lobby.place, "c1", carol.pk, "carol", check=False)
    listener = redis.Redis.from_url(REDIS_URL).pubsub()
    for user in (bob, carol):
        listener.subscribe(
            f"{redis_prefix}__group__{GROUP_PREFIX}{user_topic(user.pk)}"
        )
    post = asyncio.ensure_future(
        sync_to_async(service.post_message)(lobby.pk, ann, "while busy")
    )
    await asyncio.sleep(0)  # the post goes to the database thread
    got = heard(listener, 10.0)  # the loop is blocked all this while
    message = await post  # the loop runs again: a post that waited returns
    assert [m["topic"] for m in got] == [user_topic(bob.pk)]
    assert message.seq == 1
    kinds = Notification.objects.values_list("user__username", "kind")
    assert [pair async for pair in kinds] == [("bob", "room")]
    listener.close()


async def test_the_layer_receives_what_a_thread_publishes_on_each_of_two_shards(
    redis_layer, private_redis
):
    """channels-redis' own receive gets each event, in order, from the shard
    its group hashes to: the channel names, the shard hash and the
    serializer that ``RedisPublisher`` copies still match the layer's."""
    # Two servers of this test's own: a fixed prefix, so the topics' shards too.
    layer = redis_layer([private_redis().url, private_redis().url], "direct")
    topics = [f"direct.{name}" for name in ("lobby", "quotes", "scores", "game")]
    names = [layer._get_group_channel_name(GROUP_PREFIX + t) for t in topics]
    shards = {_consistent_hash(name, 2) for name in names}
    assert shards == {0, 1}  # both shards are used by these topics
    channel = await layer.new_channel()
    for topic in topics:
        await layer.group_add(GROUP_PREFIX + topic, channel)
    for n in range(3):
        events = [(topic, {"type": "tick", "n": n}) for topic in topics]
        await asyncio.to_thread(fanout.publish_many, events)
    got = [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(12)]
    for topic in topics:
        mine = [json.loads(m["text"]) for m in got if m["topic"] == topic]
        assert mine == [{"type": "tick", "n": n} for n in range(3)]


async def test_publishing_from_a_coroutine_is_refused(redis_layer):
    """A synchronous publish inside the event loop would stop it for a round
    trip to Redis: it is refused, as async_to_sync refuses it."""
    redis_layer([REDIS_URL])
    with pytest.raises(RuntimeError, match="apublish"):
        fanout.publish("direct.refused", {"type": "tick"})
