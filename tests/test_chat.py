"""Chat rooms through the real ASGI application: join, post, resume, limits, access."""

from datetime import UTC, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from realtime.chat import service
from realtime.chat.models import Ban, Message, Mute, Room
from realtime.core.envelope import CloseCode
from realtime.signals import message_posted
from tests.frames import EPHEMERAL, drain, next_frame

pytestmark = pytest.mark.django_db(transaction=True)
LOBBY = "/ws/chat/lobby/"


async def join(ws, user=None, after=0, path=LOBBY):
    """Open a room socket and join; returns (communicator, joined, reply)."""
    c, connected, _ = await ws(path, user=user)
    assert connected
    await c.send_json_to({"type": "chat.join", "after": after})
    joined = await next_frame(c, "chat.joined")
    reply = None if joined["resume"] == "replay" else await next_frame(c, *RESETS)
    return c, joined, reply


RESETS = ("chat.history", "chat.reset")


async def send(c, text):
    await c.send_json_to({"type": "chat.send", "text": text})


async def closed_with(c, code, wait=3):
    """Skip frames until the close; return its reason."""
    while True:
        output = await c.receive_output(wait)
        if output["type"] == "websocket.close":
            assert output["code"] == code
            return output.get("reason", "")


def post(room, user, text):
    return service.post_message(room.pk, user, text)


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


async def test_room_limits_length_and_slow_mode(ws, lobby, ann):
    """Over the room's length limit: too_big; too soon in slow mode: rate_limited."""
    await Room.objects.filter(pk=lobby.pk).aupdate(max_length=10, slow_mode_seconds=60)
    a, *_ = await join(ws, ann)
    await send(a, "x" * 11)
    assert (await next_frame(a, "error"))["code"] == "too_big"
    await send(a, "x" * 10)
    assert (await next_frame(a, "chat.message"))["text"] == "x" * 10
    await send(a, "again")
    error = await next_frame(a, "error")
    assert error["code"] == "rate_limited" and "Slow mode" in error["detail"]
    assert await Message.objects.acount() == 1
    await a.disconnect()


async def test_flood_control_spans_a_users_sockets_then_closes_1008(
    ws, lobby, ann, settings
):
    """Over the per-user burst (across two tabs): an error and a cool-down;
    going on during the cool-down closes the socket with 1008."""
    duplex = {**settings.DUPLEX, "CHAT_BURST": 3, "CHAT_RATE": 0.01}
    settings.DUPLEX = {**duplex, "CHAT_COOL_DOWN": 60, "CHAT_ABUSE": 2}
    a1, *_ = await join(ws, ann)
    a2, *_ = await join(ws, ann)
    for tab in (a1, a2, a1):
        await send(tab, "spam")
    for _ in range(3):
        await next_frame(a1, "chat.message")
        await next_frame(a2, "chat.message")
    await send(a2, "one too many")
    error = await next_frame(a2, "error")
    assert error["code"] == "rate_limited" and "wait 60 s" in error["detail"]
    await send(a1, "still")  # during the cool-down, from the other tab
    assert (await next_frame(a1, "error"))["detail"].startswith("Cooling down")
    await send(a1, "and still")
    await closed_with(a1, CloseCode.POLICY_VIOLATION)
    assert await Message.objects.acount() == 3
    await a2.disconnect()


async def test_bad_frames_get_error_frames_and_lose_nothing(ws, lobby, ann):
    """Malformed, unknown, incomplete and oversized frames: errors, socket open."""
    a, *_ = await join(ws, ann)
    cases = [
        ("{oops", "bad_json"),
        ('{"type": "chat.shout"}', "unknown_type"),
        ('{"type": "chat.send"}', "invalid"),
        ('{"type": "chat.send", "text": 5}', "invalid"),
        ('{"type": "chat.send", "text": "   "}', "invalid"),
        ('{"type": "chat.edit", "text": "x"}', "invalid"),
        ('{"type": "chat.history", "before": -1}', "invalid"),
        ('{"type": "chat.join", "after": "x"}', "invalid"),
        ('{"type": "chat.send", "text": "' + "y" * 4001 + '"}', "too_big"),
    ]
    for text, code in cases:
        await a.send_to(text_data=text)
        assert (await next_frame(a, "error"))["code"] == code, text
    await send(a, "still here")
    assert (await next_frame(a, "chat.message"))["text"] == "still here"
    await a.disconnect()


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


async def test_resume_replays_the_gap_once_in_order(ws, lobby, ann, bob):
    """After a drop, join with the last seq seen: the missed messages, edits and
    deletions come once each, in order, then live ones; no history is resent."""
    a, *_ = await join(ws, ann)
    await send(a, "before the drop")
    last = (await next_frame(a, "chat.message"))["seq"]
    await a.disconnect()
    kept = await sync_to_async(post)(lobby, bob, "missed 1")
    gone = await sync_to_async(post)(lobby, bob, "missed 2")
    await sync_to_async(service.edit_message)(lobby.pk, bob, kept.pk, "missed 1 (ed)")
    await sync_to_async(service.delete_message)(gone.pk, bob)
    a, joined, _ = await join(ws, ann, after=last)
    assert joined["resume"] == "replay" and joined["last_seq"] == 5
    frames = [await next_frame(a, "chat.message", "chat.edit", "chat.delete")]
    frames += [await next_frame(a, "chat.message", "chat.edit", "chat.delete")]
    frames += [await next_frame(a, "chat.edit", "chat.delete") for _ in range(2)]
    assert [(f["type"], f["seq"]) for f in frames] == [
        ("chat.message", 2),
        ("chat.message", 3),
        ("chat.edit", 4),
        ("chat.delete", 5),
    ]
    assert frames[0]["text"] == "missed 1 (ed)"  # replays show the current text
    assert frames[1]["deleted"] is True and frames[1]["text"] == ""
    await sync_to_async(post)(lobby, bob, "live again")
    live = await next_frame(a, "chat.message")
    assert (live["seq"], live["text"]) == (6, "live again")
    # The presence diff of the first join may land now; nothing else may.
    later = [f for f in await drain(a, 0.3) if f["type"] not in EPHEMERAL]
    assert later == []
    await a.disconnect()


async def test_a_gap_too_old_to_replay_gets_a_reset(ws, lobby, ann, settings):
    """Past CHAT_REPLAY_MAX missed events the client gets chat.reset, a snapshot."""
    settings.DUPLEX = {**settings.DUPLEX, "CHAT_REPLAY_MAX": 3, "CHAT_BURST": 100}
    for n in range(6):
        await sync_to_async(post)(lobby, ann, f"m{n}")
    a, joined, reset = await join(ws, ann, after=1)
    assert joined["resume"] == "reset" and reset["type"] == "chat.reset"
    assert [m["seq"] for m in reset["messages"]] == [1, 2, 3, 4, 5, 6]
    assert reset["last_seq"] == 6
    b, joined, reset = await join(ws, ann, after=99)  # the server lost its data
    assert reset["type"] == "chat.reset"
    await a.disconnect()
    await b.disconnect()


async def test_load_earlier_pages_back_through_history(ws, lobby, ann, settings):
    """Join shows the last page; chat.history(before) pages back to the start."""
    settings.DUPLEX = {**settings.DUPLEX, "CHAT_HISTORY": 4, "CHAT_BURST": 100}
    for n in range(1, 11):
        await sync_to_async(post)(lobby, ann, f"m{n}")
    a, _, history = await join(ws, ann)
    assert [m["seq"] for m in history["messages"]] == [7, 8, 9, 10]
    assert history["has_more"] is True
    await a.send_json_to({"type": "chat.history", "before": 7})
    page = await next_frame(a, "chat.history")
    assert [m["seq"] for m in page["messages"]] == [3, 4, 5, 6]
    assert (page["before"], page["has_more"]) == (7, True)
    await a.send_json_to({"type": "chat.history", "before": 3, "limit": 10})
    page = await next_frame(a, "chat.history")
    assert [m["seq"] for m in page["messages"]] == [1, 2] and not page["has_more"]
    await a.disconnect()


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
