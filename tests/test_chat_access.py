"""Who may read and write a room: public and private rooms, bans, mutes, closed
rooms; sanctions and rooms bound deletions too."""

from datetime import UTC, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from realtime.chat import service
from realtime.chat.models import Ban, Message, Mute, Room
from realtime.core.envelope import CloseCode, ErrorCode, ProtocolError
from tests.chat_helpers import LOBBY, closed_with, join, post, send
from tests.frames import next_frame

pytestmark = pytest.mark.django_db(transaction=True)
OTHER = "/ws/chat/other/"


async def test_a_muted_user_cannot_delete_their_message(ws, lobby, ann):
    """A mute stops deletions as it stops posts: forbidden, the message stays."""
    a, *_ = await join(ws, ann)
    message = await sync_to_async(post)(lobby, ann, "mine")
    await next_frame(a, "chat.message")
    until = timezone.now() + timedelta(minutes=10)
    await Mute.objects.acreate(room=lobby, user=ann, until=until, reason="cool off")
    await a.send_json_to({"type": "chat.delete", "id": message.pk})
    error = await next_frame(a, "error")
    assert error["code"] == "forbidden" and "muted" in error["detail"]
    assert await Message.objects.filter(deleted_at__isnull=True).acount() == 1
    assert await a.receive_nothing(0.3)  # no chat.delete went out
    await a.disconnect()


async def test_a_banned_user_cannot_delete_their_message(lobby, ann):
    """A ban refuses the deletion (whichever socket or caller asks)."""
    message = await sync_to_async(post)(lobby, ann, "mine")
    await Ban.objects.acreate(room=lobby, user=ann, reason="Spam")
    with pytest.raises(ProtocolError) as refused:
        await sync_to_async(service.delete_message)(message.pk, ann)
    assert refused.value.code == ErrorCode.FORBIDDEN
    assert "Spam" in refused.value.detail
    assert await Message.objects.filter(deleted_at__isnull=True).acount() == 1


async def test_a_socket_deletes_only_messages_of_its_own_room(ws, lobby, ann, bob):
    """chat.delete from another room's socket: not_found; the room hears nothing."""
    await Room.objects.acreate(slug="other", name="Other")
    message = await sync_to_async(post)(lobby, ann, "mine")
    reader, *_ = await join(ws, bob)
    elsewhere, *_ = await join(ws, ann, path=OTHER)
    await elsewhere.send_json_to({"type": "chat.delete", "id": message.pk})
    assert (await next_frame(elsewhere, "error"))["code"] == "not_found"
    assert await Message.objects.filter(deleted_at__isnull=True).acount() == 1
    assert await reader.receive_nothing(0.3)
    await elsewhere.disconnect()
    await reader.disconnect()


@pytest.mark.parametrize("offer", [["superchat"], ["chat", "superchat"]])
async def test_a_refusal_selects_the_offered_subprotocol(ws, lobby, ann, offer):
    """A browser drops a handshake that ignores its offer: a refusal accepts
    with the subprotocol connect would choose, then closes with the code."""
    await Ban.objects.acreate(room=lobby, user=ann, reason="Spam")
    c, connected, subprotocol = await ws(LOBBY, user=ann, subprotocols=offer)
    assert connected and subprotocol == offer[0]
    assert await closed_with(c, CloseCode.BANNED) == "Spam"


async def test_anonymous_visitors_read_public_rooms_but_cannot_post(ws, lobby, ann):
    """A visitor gets history and live messages; posting gets unauthenticated."""
    await sync_to_async(post)(lobby, ann, "welcome")
    v, joined, history = await join(ws)
    assert joined["you"] is None
    assert [m["text"] for m in history["messages"]] == ["welcome"]
    await send(v, "let me in")
    assert (await next_frame(v, "error"))["code"] == "unauthenticated"
    await v.send_json_to({"type": "chat.typing"})
    assert (await next_frame(v, "error"))["code"] == "unauthenticated"
    a, *_ = await join(ws, ann)
    await send(a, "live")
    assert (await next_frame(v, "chat.message"))["text"] == "live"
    await v.disconnect()
    await a.disconnect()


async def test_private_rooms_admit_members_only(ws, ann, bob):
    """A non-member (or visitor) is refused with 4003 and sees no data."""
    room = await Room.objects.acreate(slug="staff", name="Staff", is_public=False)
    await sync_to_async(room.members.add)(ann)
    await sync_to_async(post)(room, ann, "secret plans")
    for user in (bob, None):
        c, connected, _ = await ws("/ws/chat/staff/", user=user)
        assert connected
        assert await c.receive_output(3) == {
            "type": "websocket.close",
            "code": CloseCode.FORBIDDEN,
            "reason": "This room is private: members only.",
        }
    a, _, history = await join(ws, ann, path="/ws/chat/staff/")
    assert history["messages"][0]["text"] == "secret plans"
    await a.disconnect()


async def test_missing_and_closed_rooms_are_refused(ws, ann):
    """An unknown slug closes with 4004; a closed room with 4006 and its reason."""
    c, *_ = await ws("/ws/chat/nowhere/", user=ann)
    assert await closed_with(c, CloseCode.NOT_FOUND) == "No such room."
    await Room.objects.acreate(
        slug="old", name="Old", closed=True, closed_reason="Archived."
    )
    c, *_ = await ws("/ws/chat/old/", user=ann)
    assert await closed_with(c, CloseCode.ROOM_CLOSED) == "Archived."


async def test_a_ban_closes_the_users_sockets_and_keeps_them_out(ws, lobby, ann, bob):
    """A ban closes every socket of the user with 4005 and the reason; others stay."""
    a1, *_ = await join(ws, ann)
    a2, *_ = await join(ws, ann)
    b, *_ = await join(ws, bob)

    def ban():
        service.notify_ban(
            Ban.objects.create(room=lobby, user=ann, reason="Spam / 刷屏")
        )

    await sync_to_async(ban)()
    for tab in (a1, a2):
        assert await closed_with(tab, CloseCode.BANNED) == "Spam / 刷屏"
    again, *_ = await ws(LOBBY, user=ann)
    assert await closed_with(again, CloseCode.BANNED) == "Spam / 刷屏"
    await send(b, "bob is fine")
    assert (await next_frame(b, "chat.message"))["text"] == "bob is fine"
    await b.disconnect()


async def test_closing_a_room_disconnects_everyone_with_the_reason(ws, lobby, ann):
    """An admin close reaches readers and posters alike: 4006 and the reason."""
    a, *_ = await join(ws, ann)
    v, *_ = await join(ws)
    await sync_to_async(service.close_room)(lobby, "Maintenance 维护")
    for c in (a, v):
        assert await closed_with(c, CloseCode.ROOM_CLOSED) == "Maintenance 维护"


async def test_a_muted_user_is_told_and_cannot_post(ws, lobby, ann):
    """A mute reaches the user's open socket; their posts are refused meanwhile."""
    a, *_ = await join(ws, ann)
    until = timezone.now() + timedelta(minutes=10)

    def mute():
        m = Mute.objects.create(room=lobby, user=ann, until=until, reason="cool off")
        service.notify_mute(m)

    await sync_to_async(mute)()
    muted = await next_frame(a, "chat.muted")
    assert muted["reason"] == "cool off" and muted["until"] == until.isoformat()
    await send(a, "can I?")
    error = await next_frame(a, "error")
    assert error["code"] == "forbidden"
    # Readable for a command-line client; the page formats ``until`` locally.
    end = until.astimezone(UTC)
    assert (
        error["detail"]
        == f"You are muted here until {end:%Y-%m-%d %H:%M} UTC. cool off"
    )
    assert (error["until"], error["reason"]) == (until.isoformat(), "cool off")
    await a.disconnect()


@pytest.mark.parametrize("fresh", [1.0, 0.0], ids=["read-at-open", "read-at-join"])
async def test_a_join_tells_a_muted_user_until_when(ws, lobby, ann, bob, fresh):
    """The joined frame carries the active mute's end (from the standing read
    when the socket opened, or read again); a mute that ended is none."""
    from realtime.chat import consumers

    consumers.STANDING_FRESH, kept = fresh, consumers.STANDING_FRESH
    try:
        until = timezone.now() + timedelta(minutes=10)
        ended = timezone.now() - timedelta(minutes=1)
        await Mute.objects.acreate(room=lobby, user=ann, until=until, reason="cool")
        await Mute.objects.acreate(room=lobby, user=bob, until=ended, reason="over")
        _, joined, _ = await join(ws, ann)
        assert joined["muted_until"] == until.isoformat()
        b, joined, _ = await join(ws, bob)
        assert joined["muted_until"] is None
        await send(b, "bob may post")
        assert (await next_frame(b, "chat.message"))["text"] == "bob may post"
    finally:
        consumers.STANDING_FRESH = kept


async def test_the_newest_active_ban_gives_the_reason(ws, lobby, ann, bob):
    """Of two active bans the newest's reason is told; a ban that ended keeps
    nobody out."""
    ended = timezone.now() - timedelta(minutes=1)
    await Ban.objects.acreate(room=lobby, user=ann, reason="first")
    await Ban.objects.acreate(room=lobby, user=ann, reason="second")
    await Ban.objects.acreate(room=lobby, user=bob, until=ended, reason="over")
    again, *_ = await ws(LOBBY, user=ann)
    assert await closed_with(again, CloseCode.BANNED) == "second"
    _, joined, _ = await join(ws, bob)
    assert joined["you"]["name"] == "bob"
