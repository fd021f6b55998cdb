"""/ws/notifications/: the owner's reliable stream, unread counts, mark read."""

import pytest
from asgiref.sync import sync_to_async

from realtime.core.envelope import CloseCode
from realtime.models import Notification
from realtime.notifications.service import notify
from tests.frames import next_frame

pytestmark = pytest.mark.django_db(transaction=True)

anotify = sync_to_async(notify)


async def start(ws, user, after=0, extra=None):
    """Open the user's stream; returns the socket and its state frame."""
    communicator, connected, _ = await ws("/ws/notifications/", user=user)
    assert connected
    hello = {"type": "notifications.hello", "after": after, **(extra or {})}
    await communicator.send_json_to(hello)
    state = await communicator.receive_json_from()
    assert state["type"] == "notifications.state"
    return communicator, state


async def test_anonymous_visitors_are_refused_with_4001(ws):
    """Nobody to notify: the socket closes with 4001 and a reason."""
    communicator, connected, _ = await ws("/ws/notifications/")
    assert connected
    closed = await communicator.receive_output()
    assert closed["type"] == "websocket.close"
    assert closed["code"] == CloseCode.UNAUTHENTICATED


async def test_hello_sends_the_count_and_missed_ones_then_resumes_after_seq(
    ws, make_user
):
    """A new page gets unread count and history; a returning one only what it missed."""
    ann = await sync_to_async(make_user)("ann")
    for i in range(3):
        await anotify(ann.pk, "mention", f"hello {i}", "<i>text</i>")
    communicator, state = await start(ws, ann)
    assert (state["unread"], state["last_seq"], state["reset"]) == (3, 3, True)
    frames = [
        await next_frame(communicator, "notifications.new", skip=()) for _ in range(3)
    ]
    assert [f["seq"] for f in frames] == [1, 2, 3]
    assert frames[0]["notification"]["body"] == "<i>text</i>"
    await communicator.disconnect()

    await anotify(ann.pk, "room", "four")
    await anotify(ann.pk, "room", "five")
    communicator, state = await start(ws, ann, after=3)
    assert (state["unread"], state["last_seq"], state["reset"]) == (5, 5, False)
    frames = [
        await next_frame(communicator, "notifications.new", skip=()) for _ in range(2)
    ]
    assert [f["notification"]["title"] for f in frames] == ["four", "five"]
    assert await communicator.receive_nothing(0.3)

    await anotify(ann.pk, "user", "six, live")
    live = await communicator.receive_json_from()
    assert (live["type"], live["seq"]) == ("notifications.new", 6)
    assert live["notification"]["read"] is False
    await communicator.disconnect()


async def test_one_stored_while_the_hello_reads_arrives_once_in_order(
    ws, make_user, monkeypatch
):
    """A notification stored at the worst moment, after the socket follows its
    topic and before it reads the stream, reaches the page live and in the
    rows read: the page gets it once, after the state, in seq order."""
    from realtime.notifications import service

    ann = await sync_to_async(make_user)("ann")
    await anotify(ann.pk, "mention", "one")
    read_state, calls = service.stream_state, []

    def stored_meanwhile(user_id):
        if not calls:
            calls.append(notify(ann.pk, "mention", "two, meanwhile"))
        return read_state(user_id)

    monkeypatch.setattr(service, "stream_state", stored_meanwhile)
    communicator, state = await start(ws, ann, after=0)
    assert (state["unread"], state["last_seq"]) == (2, 2)
    frames = [
        await next_frame(communicator, "notifications.new", skip=()) for _ in range(2)
    ]
    assert [f["seq"] for f in frames] == [1, 2]
    assert await communicator.receive_nothing(0.3)
    await communicator.disconnect()


async def test_mark_read_updates_every_tab_of_the_user(ws, make_user):
    """Reading in one tab lowers the count in the other; read all zeroes both."""
    ann = await sync_to_async(make_user)("ann")
    for i in range(3):
        await anotify(ann.pk, "mention", f"n{i}")
    tab1, _ = await start(ws, ann, after=3)
    tab2, _ = await start(ws, ann, after=3)

    await tab1.send_json_to({"type": "notifications.read", "seq": 2})
    for tab in (tab1, tab2):
        frame = await tab.receive_json_from()
        assert frame == {
            "type": "notifications.unread",
            "unread": 2,
            "last_seq": 3,
            "read": [2],
            "read_up_to": 0,
        }
    await tab2.send_json_to({"type": "notifications.read_all"})
    for tab in (tab1, tab2):
        frame = await tab.receive_json_from()
        assert (frame["unread"], frame["read_up_to"]) == (0, 3)
    assert await sync_to_async(Notification.objects.filter(read=False).count)() == 0

    await anotify(ann.pk, "goal", "new one")
    _, state = await start(ws, ann, after=4)
    assert state["unread"] == 1
    for tab in (tab1, tab2):
        await tab.disconnect()


async def test_users_never_see_each_others_notifications(ws, make_user):
    """Bob's socket hears nothing of Ann's; Ann cannot mark Bob's read."""
    ann = await sync_to_async(make_user)("ann")
    bob = await sync_to_async(make_user)("bob")
    await anotify(bob.pk, "mention", "for bob")
    # A stream cannot be named: a "user" field is ignored, the stream is Ann's.
    ann_socket, ann_state = await start(
        ws, ann, extra={"user": bob.pk, "topic": f"user.{bob.pk}"}
    )
    assert (ann_state["unread"], ann_state["last_seq"]) == (0, 0)
    assert await ann_socket.receive_nothing(0.2)
    bob_socket, _ = await start(ws, bob)
    assert (await bob_socket.receive_json_from())["notification"]["title"] == "for bob"

    await anotify(ann.pk, "mention", "for ann")
    assert (await ann_socket.receive_json_from())["notification"]["title"] == "for ann"
    assert await bob_socket.receive_nothing(0.3)

    await ann_socket.send_json_to({"type": "notifications.read", "seq": 2})
    assert (await ann_socket.receive_json_from())["code"] == "not_found"
    bob_unread = Notification.objects.filter(user=bob, read=False).count
    assert await sync_to_async(bob_unread)() == 1
    await ann_socket.disconnect()
    await bob_socket.disconnect()


async def test_bad_frames_get_errors_and_lose_nothing(ws, make_user):
    """Wrong fields, a second hello and unknown types are errors; the stream goes on."""
    ann = await sync_to_async(make_user)("ann")
    communicator, _ = await start(ws, ann)
    for frame, code in [
        ({"type": "notifications.hello", "after": 0}, "conflict"),
        ({"type": "notifications.read"}, "invalid"),
        ({"type": "notifications.read", "seq": "1"}, "invalid"),
        ({"type": "notifications.read", "seq": 0}, "invalid"),
        ({"type": "notifications.subscribe", "user": 1}, "unknown_type"),
    ]:
        await communicator.send_json_to(frame)
        error = await communicator.receive_json_from()
        assert (error["type"], error["code"]) == ("error", code)
    await anotify(ann.pk, "mention", "still here")
    assert (await communicator.receive_json_from())["seq"] == 1
    await communicator.disconnect()


def test_seqs_are_per_user_and_gap_free(make_user):
    """Each user's notifications count 1, 2, 3... on their own."""
    ann, bob = make_user("ann"), make_user("bob")
    seqs = [notify(user.pk, "room", "x").seq for user in (ann, bob, ann, ann, bob)]
    assert seqs == [1, 1, 2, 3, 2]
