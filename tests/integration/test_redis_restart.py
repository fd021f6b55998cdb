"""After Redis restarts, the connections left in the pools are not a failure."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from realtime.chat.models import Room
from tests.integration.http_session import Browser
from tests.integration.test_credentials import open_as
from tests.integration.test_health_recovery import wait_for_health

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


async def join_and_send(server, visitor, text: str) -> list[dict]:
    """Open a chat socket, join and post ``text``; the frames up to its echo."""
    frames = []
    async with await open_as(visitor, server, "/ws/chat/lobby/") as ws:
        await ws.send(json.dumps({"type": "chat.send", "text": text}))
        while not frames or frames[-1].get("text") != text:
            try:
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            except Exception as exc:  # closed, or nothing more came
                frames.append({"type": "ended", "error": repr(exc)})
                break
    return frames


async def test_pooled_connections_survive_a_redis_restart(
    daphne, private_redis, make_user
):
    """With the cache, presence and layer pools warm, Redis restarts; once it
    answers again, the next chat join and post work at once: no 1013, no
    "unavailable" error frame, no presence warning (the join's presence entry
    was lost: its pooled connection had been closed by the restart)."""
    await sync_to_async(make_user)("ann")
    await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    redis = private_redis()
    server = daphne(redis=False, REDIS_URL=redis.url)
    ann = Browser(server.url)
    await asyncio.to_thread(ann.log_in, "ann", "pw-ann-123")
    assert (await join_and_send(server, ann, "before"))[-1]["text"] == "before"
    await asyncio.sleep(1)  # the server has cleaned up after that socket

    redis.stop()
    redis.start()
    status, body = await asyncio.to_thread(wait_for_health, server, 30)
    assert status == 200, body
    log_before = len(server.log_path.read_text(errors="replace"))
    frames = await join_and_send(server, ann, "after the restart")
    assert frames[-1].get("text") == "after the restart", frames
    assert not [f for f in frames if f["type"] == "error"], frames
    later = server.log_path.read_text(errors="replace")[log_before:]
    assert "Presence store unavailable" not in later, later


async def test_a_presence_diff_lost_in_an_outage_goes_out_with_the_next(
    private_redis, settings, caplog
):
    """ann joins while Redis is down: the room's presence diff cannot be
    published, which is one warning line, not a traceback; once Redis is back
    the room's next diff still names ann as joined (nothing else changed)."""
    from channels.layers import channel_layers, get_channel_layer

    from project.config import redis_channel_layer
    from realtime.chat.presence import room_presence
    from realtime.core.fanout.publish import GROUP_PREFIX
    from realtime.core.presence import get_presence

    redis = private_redis()
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer([redis.url], "t")}
    channel_layers.backends.clear()
    settings.DUPLEX = {**settings.DUPLEX, "CHAT_PRESENCE_EVERY": 0.1}
    room = await Room.objects.acreate(slug="quiet", name="Quiet")
    rooms = room_presence()

    redis.stop()
    await get_presence().join(room.place, "c1", 1, "ann")
    rooms.changed(room)
    await rooms.pending[room.place]
    assert "Presence diff of chat.quiet not sent" in caplog.text
    assert not [r for r in caplog.records if r.exc_info], "no traceback"

    redis.start()
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(GROUP_PREFIX + room.stream, channel)
    rooms.changed(room)
    message = await asyncio.wait_for(layer.receive(channel), 5)
    assert json.loads(message["text"])["joins"] == [{"id": 1, "name": "ann"}]
    await layer.flush()
