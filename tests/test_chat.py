"""Chat rooms through the real ASGI application: join, post, edit, presence,
subprotocols, the room list."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from realtime.chat.models import Message, Room
from realtime.signals import message_posted
from tests.chat_helpers import LOBBY, join, post, send
from tests.frames import next_frame

pytestmark = pytest.mark.django_db(transaction=True)


async def test_join_sends_room_presence_and_history_in_order(ws, lobby, ann, bob):
    """A joining client gets the room, who is online, then the last messages."""
    for text in ["one", "二", "three"]:
        await sync_to_async(post)(lobby, bob, text)
    c, joined, history = await join(ws, ann)
    assert joined["room"]["name"] == "大厅 Lobby"
    assert joined["you"] == {"id": ann.pk, "name": "ann"}
    assert joined["members"] == [{"id": ann.pk, "name": "ann"}]
    assert joined["last_seq"] == 3 and joined["resume"] == "history"
    assert history["type"] == "chat.history"
    assert [m["text"] for m in history["messages"]] == ["one", "二", "three"]
    assert [m["seq"] for m in history["messages"]] == [1, 2, 3]
    assert history["messages"][0]["user"] == {"id": bob.pk, "name": "bob"}
    assert history["has_more"] is False
    await c.disconnect()


async def test_messages_reach_everyone_in_order_and_are_stored(ws, lobby, ann, bob):
    """Two users chat: both see each message once, in seq order; the DB has them."""
    a, *_ = await join(ws, ann)
    b, *_ = await join(ws, bob)
    await send(a, "hello @bob")
    await send(b, "你好 ann")
    for c in (a, b):
        first = await next_frame(c, "chat.message")
        second = await next_frame(c, "chat.message")
        assert (first["seq"], first["text"], first["user"]["name"]) == (
            1,
            "hello @bob",
            "ann",
        )
        assert (second["seq"], second["text"]) == (2, "你好 ann")
    texts = await sync_to_async(list)(Message.objects.values_list("text", flat=True))
    assert texts == ["hello @bob", "你好 ann"]
    await a.disconnect()
    await b.disconnect()


async def test_edit_and_delete_reach_everyone_as_stream_events(ws, lobby, ann, bob):
    """An edit and a deletion of one's own message each take a seq and reach all."""
    a, *_ = await join(ws, ann)
    b, *_ = await join(ws, bob)
    await send(a, "typo")
    message = await next_frame(b, "chat.message")
    await next_frame(a, "chat.message")
    await a.send_json_to({"type": "chat.edit", "id": message["id"], "text": "fixed"})
    edit = await next_frame(b, "chat.edit")
    assert (edit["seq"], edit["id"], edit["text"]) == (2, message["id"], "fixed")
    await a.send_json_to({"type": "chat.delete", "id": message["id"]})
    assert (await next_frame(b, "chat.delete"))["seq"] == 3
    c, _, history = await join(ws, bob)
    assert history["messages"] == []  # gone for late joiners too
    for x in (a, b, c):
        await x.disconnect()


async def test_only_the_author_may_change_a_message_and_only_for_a_while(
    ws, lobby, ann, bob
):
    """Someone else's message, an unknown id and an old message are refused."""
    message = await sync_to_async(post)(lobby, ann, "mine")
    b, *_ = await join(ws, bob)
    await b.send_json_to({"type": "chat.edit", "id": message.pk, "text": "hacked"})
    assert (await next_frame(b, "error"))["code"] == "forbidden"
    await b.send_json_to({"type": "chat.delete", "id": 999999})
    assert (await next_frame(b, "error"))["code"] == "not_found"
    old = timezone.now() - timedelta(hours=1)
    await Message.objects.filter(pk=message.pk).aupdate(created_at=old)
    a, *_ = await join(ws, ann)
    await a.send_json_to({"type": "chat.delete", "id": message.pk})
    error = await next_frame(a, "error")
    assert error["code"] == "forbidden" and "late" in error["detail"]
    assert await Message.objects.filter(deleted_at__isnull=True).acount() == 1
    await a.disconnect()
    await b.disconnect()


async def test_typing_is_relayed_to_others_without_a_seq(ws, lobby, ann, bob):
    """Typing reaches others as an ephemeral frame; a burst is throttled."""
    a, *_ = await join(ws, ann)
    b, *_ = await join(ws, bob)
    for _ in range(3):
        await a.send_json_to({"type": "chat.typing"})
    typing = await next_frame(b, "chat.typing")
    assert typing == {"type": "chat.typing", "user": {"id": ann.pk, "name": "ann"}}
    await send(a, "done")
    assert (await next_frame(b, "chat.message", "chat.typing"))[
        "type"
    ] == "chat.message"
    await a.disconnect()
    await b.disconnect()


async def test_presence_lists_each_user_once_however_many_tabs(ws, lobby, ann, bob):
    """ann with two tabs is one member; bob sees her leave when the last tab does."""
    b, *_ = await join(ws, bob)
    a1, *_ = await join(ws, ann)
    seen = await b.receive_json_from(3)
    assert seen["type"] == "chat.presence" and seen["event"] == "diff"
    assert {"id": ann.pk, "name": "ann"} in seen["joins"] and seen["online"] == 2
    a2, joined, _ = await join(ws, ann)
    assert [m["name"] for m in joined["members"]] == ["ann", "bob"]
    assert await b.receive_nothing(1.5)  # a second tab is not a new member
    await a1.disconnect()
    assert await b.receive_nothing(1.5)
    await a2.disconnect()
    left = await b.receive_json_from(3)
    assert (left["event"], left["online"], left["leaves"], left["members"]) == (
        "diff",
        1,
        [{"id": ann.pk, "name": "ann"}],
        [{"id": bob.pk, "name": "bob"}],
    )
    await b.send_json_to({"type": "chat.who"})
    assert (await b.receive_json_from(3))["members"] == [{"id": bob.pk, "name": "bob"}]
    await b.disconnect()


@pytest.mark.parametrize(
    ("offer", "chosen"),
    [
        (["chat", "superchat"], "chat"),
        (["superchat", "chat"], "superchat"),
        (["mqtt", "superchat"], "superchat"),
        (["mqtt"], None),
        (None, None),
    ],
)
async def test_the_server_picks_the_first_offered_subprotocol_it_speaks(
    ws, lobby, offer, chosen
):
    """The first supported offer wins; none (or no offer) means JSON."""
    c, connected, subprotocol = await ws(LOBBY, subprotocols=offer)
    assert connected and subprotocol == chosen
    await c.disconnect()


async def test_plain_text_subprotocol_speaks_lines(ws, lobby, ann, bob):
    """With "chat", history and messages are "name: text" lines and lines are sent."""
    await sync_to_async(post)(lobby, bob, "earlier")
    p, connected, _ = await ws(LOBBY, user=ann, subprotocols=["chat", "superchat"])
    assert connected
    assert await p.receive_from(3) == "bob: earlier"
    b, *_ = await join(ws, bob)
    await b.send_json_to({"type": "chat.typing"})  # not shown in plain text
    await p.send_to(text_data="hi from a terminal 终端")
    assert await p.receive_from(3) == "ann: hi from a terminal 终端"
    frame = await next_frame(b, "chat.message")
    assert (frame["text"], frame["user"]["name"]) == ("hi from a terminal 终端", "ann")
    await p.send_to(text_data="x" * 5000)
    assert (await p.receive_from(3)).startswith("! too_big:")
    await p.send_to(bytes_data=b"\x00")
    assert (await p.receive_from(3)).startswith("! binary_unsupported:")
    await p.disconnect()
    await b.disconnect()


async def test_message_posted_is_sent_after_commit_with_mentions(ws, lobby, ann, bob):
    """Notifications can react: the signal carries the room, author and mentions."""
    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    message_posted.connect(receiver)
    try:
        a, *_ = await join(ws, ann)
        await send(a, "hi @bob and @nobody, see @ann.")
        message = await next_frame(a, "chat.message")
        # The signal follows the publish in the same (one) sync thread: wait for it.
        await sync_to_async(lambda: None)()
    finally:
        message_posted.disconnect(receiver)
    assert len(received) == 1
    got = received[0]
    assert got["message_id"] == message["id"] and got["room_slug"] == "lobby"
    assert got["room_public"] is True and got["author_id"] == ann.pk
    assert got["author_name"] == "ann" and got["text"].startswith("hi @bob")
    assert got["mentions"] == ["bob", "ann"]
    await a.disconnect()


async def test_room_list_shows_online_counts_live(ws, lobby, ann):
    """/ws/chat/ sends every room's count, then each change."""
    await Room.objects.acreate(slug="empty", name="Empty")
    listing, connected, _ = await ws("/ws/chat/")
    assert connected
    rooms = await listing.receive_json_from(3)
    assert rooms["type"] == "chat.rooms"
    assert {r["slug"]: r["online"] for r in rooms["rooms"]} == {"lobby": 0, "empty": 0}
    a, *_ = await join(ws, ann)
    assert await listing.receive_json_from(3) == {
        "type": "chat.room",
        "slug": "lobby",
        "online": 1,
    }
    await a.disconnect()
    assert (await listing.receive_json_from(3))["online"] == 0
    await listing.disconnect()
