"""Presence in a crowd: a join costs a bounded number of frames, however
large the room (one coalesced diff per room and interval, not one frame to
every member per join)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model

from project.asgi import application
from realtime.chat.models import Room
from tests.conftest import ORIGIN
from tests.frames import drain

pytestmark = pytest.mark.django_db(transaction=True)


def crowd(size: int) -> list:
    users = [get_user_model()(username=f"member{n:04d}") for n in range(size)]
    for user in users:
        user.set_unusable_password()
    return get_user_model().objects.bulk_create(users)


async def presence_frames(communicator) -> int:
    """Read what the socket was sent until it is quiet; count presence frames."""
    frames = await drain(communicator, quiet=1.5)
    return sum(frame["type"] == "chat.presence" for frame in frames)


@pytest.mark.parametrize("size", [10, 100, 300])
async def test_presence_frames_per_join_stay_flat_as_the_room_grows(
    session_for, settings, size
):
    """``size`` members join one room together: each receives a handful of
    presence frames in all, so frames per join do not grow with the room."""
    settings.DUPLEX = {**settings.DUPLEX, "MAX_HANDSHAKES": 1000}  # all at once
    await Room.objects.acreate(slug="crowd", name="Crowd")
    users = await sync_to_async(crowd)(size)

    async def member(user):
        key = await sync_to_async(session_for)(user)
        cookie = f"{django_settings.SESSION_COOKIE_NAME}={key}".encode()
        headers = [(b"origin", ORIGIN.encode()), (b"cookie", cookie)]
        communicator = WebsocketCommunicator(application, "/ws/chat/crowd/", headers)
        connected, _ = await communicator.connect(timeout=60)
        assert connected
        await communicator.send_json_to({"type": "chat.join", "after": 0})
        return communicator

    sockets = await asyncio.gather(*(member(user) for user in users))
    counts = await asyncio.gather(*(presence_frames(s) for s in sockets))
    per_join = sum(counts) / size
    print(f"{size} members: {per_join:.2f} presence frames per join")
    assert per_join <= 4
    await asyncio.gather(*(s.disconnect() for s in sockets))


async def test_a_diff_failing_while_the_next_waits_leaves_the_next_to_go_out(
    settings, monkeypatch, caplog
):
    """Someone joins while the room's last diff is failing (the layer went
    down): that diff is lost, and the next one still goes out, with both."""
    from types import SimpleNamespace

    from realtime.chat import presence as room_presence

    settings.DUPLEX = {**settings.DUPLEX, "CHAT_PRESENCE_EVERY": 0.05}
    room = SimpleNamespace(place="chat.x", stream="chat.x", is_public=False, slug="x")
    presence = room_presence.RoomPresence()
    here = [{"id": 1, "name": "ann"}]
    sent = []

    async def members(place):
        return list(here)

    async def apublish(topic, frame, **kwargs):
        if not sent:
            sent.append(None)
            here.append({"id": 2, "name": "bob"})
            presence.changed(room)  # bob arrives as ann's diff fails
            raise ConnectionError("layer down")
        sent.append(frame)

    monkeypatch.setattr(presence, "members", members)
    monkeypatch.setattr(room_presence.fanout, "apublish", apublish)
    presence.changed(room)
    for _ in range(100):
        await asyncio.sleep(0.02)
        if len(sent) > 1:
            break
    assert [m["name"] for m in sent[1]["joins"]] == ["ann", "bob"]
    assert "failed" not in caplog.text


async def test_messages_in_a_crowded_room_nobody_follows_read_no_presence(
    session_for, settings
):
    """60 members, 20 of whom post: the messages reach everyone, and the
    room's member list is not read once per message (to skip present
    followers, of whom there are none), only for the presence diffs."""
    from realtime.core.presence import reads

    settings.DUPLEX = {**settings.DUPLEX, "MAX_HANDSHAKES": 1000}
    await Room.objects.acreate(slug="crowd", name="Crowd")
    users = await sync_to_async(crowd)(60)

    async def member(user):
        key = await sync_to_async(session_for)(user)
        cookie = f"{django_settings.SESSION_COOKIE_NAME}={key}".encode()
        headers = [(b"origin", ORIGIN.encode()), (b"cookie", cookie)]
        communicator = WebsocketCommunicator(application, "/ws/chat/crowd/", headers)
        assert (await communicator.connect(timeout=60))[0]
        await communicator.send_json_to({"type": "chat.join", "after": 0})
        return communicator

    sockets = await asyncio.gather(*(member(user) for user in users))
    await asyncio.gather(*(drain(s, quiet=1.5) for s in sockets))
    before = reads.values[()]
    for n, poster in enumerate(sockets[:20]):
        await poster.send_json_to({"type": "chat.send", "text": f"hello {n}"})
    got = await asyncio.gather(*(drain(s, quiet=1.5) for s in sockets))
    texts = [
        {f["text"] for f in frames if f["type"] == "chat.message"} for frames in got
    ]
    assert all(len(t) == 20 for t in texts), [len(t) for t in texts]
    assert reads.values[()] - before < 20
    await asyncio.gather(*(s.disconnect() for s in sockets))


def test_a_large_rooms_diffs_come_less_often_as_it_grows(settings):
    """Each diff goes to every member: past 200 members the interval grows
    with the room, so a process sends about the same presence frames per
    second to a room of 1,000 as to one of 5,000 (up to a 30-s interval)."""
    from realtime.chat.presence import RoomPresence

    settings.DUPLEX = {**settings.DUPLEX, "CHAT_PRESENCE_EVERY": 1.0}
    presence = RoomPresence()
    every = {}
    for size in (0, 100, 200, 1000, 5000, 20000):
        presence.known["chat.big"] = {n: f"m{n}" for n in range(size)}
        every[size] = presence.interval("chat.big")
    assert every == {0: 1.0, 100: 1.0, 200: 1.0, 1000: 5.0, 5000: 25.0, 20000: 30.0}
    frames_per_s = {size: size / every[size] for size in (1000, 5000)}
    assert frames_per_s[1000] == frames_per_s[5000]
