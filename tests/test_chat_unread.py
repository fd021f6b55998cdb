"""Read marks and unread counts through the real ASGI application: the room
socket moves the mark, every room list of the reader follows it live."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections, transaction

from realtime.chat import service
from realtime.chat.models import ReadMark, Room
from tests.chat_helpers import join, post, send
from tests.frames import EPHEMERAL
from tests.frames import next_frame as next_any

pytestmark = pytest.mark.django_db(transaction=True)
ROOMS = "/ws/chat/"
SKIP = EPHEMERAL | {"chat.room"}  # online counts come and go


async def next_frame(c, *kinds):
    return await next_any(c, *kinds, skip=SKIP)


async def nothing_more(c):
    """Nothing but online counts before the answer to a ping."""
    await c.send_json_to({"type": "ping"})
    await next_frame(c, "pong")


async def room_list(ws, user=None):
    """Open ``/ws/chat/``; returns (communicator, unread state per room slug)."""
    c, connected, _ = await ws(ROOMS, user=user)
    assert connected
    if user is None:
        await next_frame(c, "chat.rooms")
        return c, {}
    # The counts go ahead of activity held meanwhile, and so of the online counts.
    first = await next_frame(c, "chat.rooms", "chat.unreads")
    second = await next_frame(c, "chat.rooms", "chat.unreads")
    [unreads] = [f for f in (first, second) if f["type"] == "chat.unreads"]
    return c, {state["room"]: state for state in unreads["rooms"]}


def mark(user, room):
    return ReadMark.objects.filter(user=user, room=room).values_list("seq", flat=True)


async def test_the_mark_is_kept_per_user_and_given_on_join(ws, lobby, ann, bob):
    """ann reads to seq 2 of 3: the next join says so; a mark never moves back,
    stops at the room's head, and is ann's alone."""
    for text in ("one", "two", "three"):
        await sync_to_async(post)(lobby, bob, text)
    a, joined, _ = await join(ws, ann)
    assert joined["last_read"] == 0
    await a.send_json_to({"type": "chat.read", "seq": 2})
    await a.send_json_to({"type": "chat.read", "seq": 1})  # back: ignored
    await a.send_json_to({"type": "chat.read", "seq": 0})
    assert (await next_frame(a, "error"))["code"] == "invalid"
    b, joined, _ = await join(ws, ann)
    assert joined["last_read"] == 2
    await a.send_json_to({"type": "chat.read", "seq": 99})  # past the head: 3
    await a.send_json_to({"type": "chat.who"})
    await next_frame(a, "chat.presence")
    assert await sync_to_async(list)(mark(ann, lobby)) == [3]
    assert await sync_to_async(list)(mark(bob, lobby)) == [3]  # posting reads
    g, *_ = await join(ws)
    await g.send_json_to({"type": "chat.read", "seq": 1})
    assert (await next_frame(g, "error"))["code"] == "unauthenticated"
    for c in (a, b, g):
        await c.disconnect()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks of PostgreSQL")
def test_a_first_read_during_ones_own_post_fails_neither(lobby, ann, bob):
    """Ann's first read mark in the room is made by one tab while her post
    from another holds the room's lock. Creating a mark checks that its room
    exists, which used to wait for that lock while the post waited to make
    the same mark: PostgreSQL called it a deadlock and failed one of them."""
    post(lobby, bob, "one")
    locked = threading.Event()

    def ann_posts():
        try:
            with transaction.atomic():
                service.locked_room(lobby.pk)  # the post holds the room's lock ...
                locked.set()
                time.sleep(0.5)  # ... while her other tab's read arrives
                return service.post_message(lobby.pk, ann, "two").seq
        finally:
            connections.close_all()

    def ann_reads():
        locked.wait(5)
        try:
            return service.mark_read(lobby, ann, 1)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        posted, read = pool.submit(ann_posts), pool.submit(ann_reads)
        assert (posted.result(), read.result()) == (2, True)
    assert list(mark(ann, lobby)) == [2]


async def test_the_room_list_counts_others_messages_after_the_mark(ws, lobby, ann, bob):
    """ann's room list: what others posted after her mark, not her own posts,
    not deleted ones; a room she never opened counts everything."""
    other = await sync_to_async(Room.objects.create)(slug="other", name="其他")
    await sync_to_async(post)(other, bob, "elsewhere")
    for text in ("seen", "new 1", "new 2", "gone"):
        last = await sync_to_async(post)(lobby, bob, text)
    await sync_to_async(service.delete_message)(last.pk, moderator=True)
    await sync_to_async(service.mark_read)(lobby, ann, 1)
    c, unread = await room_list(ws, ann)
    assert unread["lobby"] == {
        "type": "chat.unread",
        "room": "lobby",
        "read": 1,
        "unread": 2,
        "last_seq": 5,
    }
    assert unread["other"]["unread"] == 1 and unread["other"]["read"] == 0
    g, unread = await room_list(ws)  # a guest has no counts
    assert unread == {}
    await c.disconnect()
    await g.disconnect()


async def test_activity_and_reads_reach_the_readers_room_lists_live(
    ws, lobby, ann, bob
):
    """A message in the room reaches ann's room list as activity (no text);
    her read in a room tab reaches her other tab's list with the new count,
    and bob's list gets no read of hers."""
    a_list, unread = await room_list(ws, ann)
    b_list, _ = await room_list(ws, bob)
    assert unread["lobby"]["unread"] == 0
    b, *_ = await join(ws, bob)
    await send(b, "hello 你好")
    activity = await next_frame(a_list, "chat.activity")
    assert activity == {
        "type": "chat.activity",
        "room": "lobby",
        "seq": 1,
        "event": "message",
        "id": activity["id"],
        "message_seq": 1,
        "user": bob.pk,
    }
    # bob's post moved bob's mark: his list hears of it, ann's does not.
    assert (await next_frame(b_list, "chat.activity"))["seq"] == 1
    read = await next_frame(b_list, "chat.unread")
    assert (read["read"], read["unread"]) == (1, 0)
    a, *_ = await join(ws, ann)
    await a.send_json_to({"type": "chat.read", "seq": 1})
    read = await next_frame(a_list, "chat.unread")
    assert read == {
        "type": "chat.unread",
        "room": "lobby",
        "read": 1,
        "unread": 0,
        "last_seq": 1,
    }
    await send(a, "mine")
    assert (await next_frame(a_list, "chat.activity"))["user"] == ann.pk
    assert (await next_frame(a_list, "chat.unread"))["read"] == 2
    assert (await next_frame(b_list, "chat.activity"))["seq"] == 2
    await nothing_more(b_list)
    for c in (a_list, b_list, a, b):
        await c.disconnect()


async def test_a_private_rooms_activity_reaches_members_only(ws, ann, bob, carol):
    """carol is no member of the private room: her list neither counts it nor
    hears of its messages."""
    secret = await sync_to_async(Room.objects.create)(
        slug="secret", name="Secret", is_public=False
    )
    await sync_to_async(secret.members.add)(ann, bob)
    a_list, unread = await room_list(ws, ann)
    c_list, hidden = await room_list(ws, carol)
    assert "secret" in unread and "secret" not in hidden
    await sync_to_async(post)(secret, bob, "members only")
    assert (await next_frame(a_list, "chat.activity"))["room"] == "secret"
    await nothing_more(c_list)
    await a_list.disconnect()
    await c_list.disconnect()


async def test_activity_lost_on_the_way_is_counted_again(ws, lobby, ann, bob, lose):
    """The layer loses the room list's line for bob's second message: the list
    gets a fresh count from the database instead, and misses nothing."""
    a_list, _ = await room_list(ws, ann)
    lose(lambda event: event.get("type") == "chat.activity" and event["seq"] == 2)
    for text in ("one", "two", "three"):
        await sync_to_async(post)(lobby, bob, text)
    assert (await next_frame(a_list, "chat.activity"))["seq"] == 1
    recount = await next_frame(a_list, "chat.unread")
    assert (recount["unread"], recount["last_seq"]) == (3, 3)
    await nothing_more(a_list)
    await a_list.disconnect()
