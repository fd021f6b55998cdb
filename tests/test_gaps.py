"""A publish that never arrives (a Redis restart, a dropped subscription) leaves
no hole: every reliable stream fills it from the database, in order."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from realtime.chat import service as chat
from realtime.chat.models import Room
from realtime.game import service as game
from realtime.notifications.service import notify
from tests.frames import ANY, drain, next_frame

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def drop_a_heartbeat(monkeypatch):
    """``drop_a_heartbeat()``: the layer loses the hub's next ping to itself."""
    layer = get_channel_layer()
    real = layer.send

    def install() -> list:
        dropped = []

        async def lossy(channel, message):
            if message["type"] == "fanout.ping" and not dropped:
                dropped.append(message)
                return
            await real(channel, message)

        monkeypatch.setattr(layer, "send", lossy)
        return dropped

    return install


async def joined_reader(ws, make_user):
    """A room, its writer ann, and bob's socket joined to it: (room, ann, socket)."""
    room = await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    ann, bob = [await sync_to_async(make_user)(name) for name in ("ann", "bob")]
    reader, connected, _ = await ws("/ws/chat/lobby/", user=bob)
    assert connected
    await reader.send_json_to({"type": "chat.join", "after": 0})
    await next_frame(reader, "chat.history", skip=ANY)
    return room, ann, reader


async def test_a_chat_message_lost_on_the_way_still_reaches_the_reader(
    ws, make_user, lose
):
    """Three messages stored, the second one's publish lost: the reader gets all
    three, in order, once each."""
    room, ann, reader = await joined_reader(ws, make_user)
    lose(lambda event: event.get("text") == "two")
    for text in ("one", "two", "three"):
        await sync_to_async(chat.post_message)(room.pk, ann, text)
    got = [await next_frame(reader, "chat.message", skip=ANY) for _ in range(3)]
    assert [(m["seq"], m["text"]) for m in got] == [
        (1, "one"),
        (2, "two"),
        (3, "three"),
    ]
    assert await reader.receive_nothing(0.3)
    await reader.disconnect()


async def test_a_notification_lost_on_the_way_still_reaches_the_bell(
    ws, make_user, lose
):
    """The owner's stream fills the hole from the database before going on."""
    ann = await sync_to_async(make_user)("ann")
    bell, connected, _ = await ws("/ws/notifications/", user=ann)
    assert connected
    await bell.send_json_to({"type": "notifications.hello", "after": 0})
    assert (await bell.receive_json_from())["type"] == "notifications.state"
    lose(lambda event: event["notification"]["title"] == "second")
    for title in ("first", "second", "third"):
        await sync_to_async(notify)(ann.pk, "mention", title)
    got = [await next_frame(bell, "notifications.new", skip=ANY) for _ in range(3)]
    titles = [(f["seq"], f["notification"]["title"]) for f in got]
    assert titles == [(1, "first"), (2, "second"), (3, "third")]
    assert await bell.receive_nothing(0.3)
    await bell.disconnect()


async def test_a_game_move_lost_on_the_way_still_reaches_the_spectator(
    ws, make_user, lose
):
    """A spectator whose move publish was lost sees the board of the stored game."""
    black, white = [await sync_to_async(make_user)(n) for n in ("black", "white")]
    created = await sync_to_async(game.create_game)(black, 0)
    await sync_to_async(game.join)(created.pk, white)
    watcher, connected, _ = await ws(f"/ws/game/{created.pk}/")
    assert connected
    await next_frame(watcher, "game.snapshot")
    lose(lambda event: event.get("type") == "game.move" and event.get("x") == 7)
    await sync_to_async(game.play)(created.pk, black, 7, 7)
    await sync_to_async(game.play)(created.pk, white, 8, 8)
    seen = []
    while len(seen) < 2:
        frame = await next_frame(watcher, "game.move", "game.snapshot")
        if frame["type"] == "game.snapshot":
            seen = [(x, y) for x, y, *_ in frame["game"]["moves"]]
        else:
            seen.append((frame["x"], frame["y"]))
    assert seen == [(7, 7), (8, 8)]
    await watcher.disconnect()


async def test_a_message_lost_in_a_quiet_room_arrives_when_a_heartbeat_goes_missing(
    ws, make_user, lose, drop_a_heartbeat
):
    """The layer loses a publish and, after it, one of the hub's own heartbeats;
    nothing else is written to the room, yet the reader gets the message from
    the database, once."""
    room, ann, reader = await joined_reader(ws, make_user)
    lose(lambda event: event.get("text") == "lost")
    dropped = drop_a_heartbeat()
    await sync_to_async(chat.post_message)(room.pk, ann, "lost")
    got = await next_frame(reader, "chat.message", skip=ANY)
    assert (got["seq"], got["text"]) == (1, "lost")
    assert dropped
    assert await reader.receive_nothing(1.5)
    await reader.disconnect()


async def test_a_crowd_filling_the_same_hole_shares_one_database_read(
    ws, make_user, lose, drop_a_heartbeat, monkeypatch
):
    """Twenty readers of a quiet room miss the same message: each gets it once
    from the database, and the room's events are read once for all of them."""
    room, ann, first = await joined_reader(ws, make_user)
    readers = [first]
    for _ in range(19):
        reader, connected, _ = await ws("/ws/chat/lobby/")
        assert connected
        await reader.send_json_to({"type": "chat.join", "after": 0})
        await next_frame(reader, "chat.history", skip=ANY)
        readers.append(reader)
    reads = []
    real_read = chat.events_after

    def counted(room_id, after):
        reads.append(after)
        return real_read(room_id, after)

    monkeypatch.setattr(chat, "events_after", counted)
    lose(lambda event: event.get("text") == "lost")
    drop_a_heartbeat()
    await sync_to_async(chat.post_message)(room.pk, ann, "lost")
    for reader in readers:
        got = await next_frame(reader, "chat.message", skip=ANY)
        assert got["text"] == "lost"
    assert reads == [0]
    for reader in readers:
        later = await drain(reader)
        assert "chat.message" not in [f["type"] for f in later], later
        await reader.disconnect()
