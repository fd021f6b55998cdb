"""Acknowledged, idempotent sends: a frame's ``ref`` comes back on its reply or
error, on every socket, and a ``chat.send`` resent with its ``cid`` is stored once."""

import pytest
from django.db import IntegrityError, transaction

from realtime.chat import service
from realtime.chat.models import Message, Mute, Room
from tests.chat_helpers import join
from tests.frames import ANY, next_frame

pytestmark = pytest.mark.django_db(transaction=True)

# One socket of each feature, with a frame it answers.
SOCKETS = [
    ("/ws/chat/lobby/", {"type": "chat.history", "before": 5}, "chat.history"),
    ("/ws/chat/", {"type": "ping"}, "pong"),
    (
        "/ws/quotes/",
        {"type": "quotes.unsubscribe", "symbols": ["AAPL"]},
        "quotes.unsubscribed",
    ),
    ("/ws/scores/", {"type": "scores.subscribe", "matches": "all"}, "scores.snapshot"),
    ("/ws/notifications/", {"type": "notifications.hello"}, "notifications.state"),
    ("/ws/site/", {"type": "ping"}, "pong"),
    ("/ws/game/lobby/", {"type": "lobby.create", "clock": 0}, "lobby.created"),
]


async def ask(c, frame, *kinds):
    """Send ``frame`` and return the next frame of one of ``kinds``."""
    await c.send_json_to(frame)
    return await next_frame(c, *kinds, skip=ANY)


@pytest.mark.parametrize(("path", "frame", "reply"), SOCKETS)
async def test_every_socket_echoes_ref_on_its_reply_and_its_errors(
    ws, lobby, ann, path, frame, reply
):
    """Whatever the socket, the answer to a frame carries that frame's ref: the
    reply, a pong, an error; a string ref and an integer ref alike."""
    c, connected, _ = await ws(path, user=ann)
    assert connected
    answer = await ask(c, {**frame, "ref": "r-1"}, reply)
    assert answer["ref"] == "r-1"
    pong = await ask(c, {"type": "ping", "ref": 7}, "pong")
    assert pong == {"type": "pong", "ref": 7}
    error = await ask(c, {"type": "no.such", "ref": "r-2"}, "error")
    assert (error["code"], error["ref"]) == ("unknown_type", "r-2")
    plain = await ask(c, {"type": "ping"}, "pong")
    assert plain == {"type": "pong"}  # no ref asked, none given
    await c.disconnect()


async def test_chat_join_and_errors_of_handlers_echo_the_ref(ws, lobby, ann):
    """chat.joined and the history after it carry the join's ref; a handler's
    own refusal (a message too long) carries the send's."""
    c, connected, _ = await ws("/ws/chat/lobby/", user=ann)
    assert connected
    joined = await ask(c, {"type": "chat.join", "ref": "j"}, "chat.joined")
    history = await next_frame(c, "chat.history")
    assert joined["ref"] == "j" and history["ref"] == "j"
    error = await ask(c, {"type": "chat.send", "text": "x" * 1001, "ref": 9}, "error")
    assert (error["code"], error["ref"]) == ("too_big", 9)
    await c.disconnect()


@pytest.mark.parametrize(
    "ref", [{"a": 1}, [1], True, 1.5, "", "x" * 65, 2**60], ids=repr
)
async def test_a_ref_that_is_not_a_short_string_or_an_integer_is_refused(
    ws, lobby, ann, ref
):
    """A ref of another kind, or too long, gets a clear error and the frame is
    not acted on: the message is not stored."""
    c, *_ = await join(ws, ann)
    error = await ask(c, {"type": "chat.send", "text": "hi", "ref": ref}, "error")
    assert error["code"] == "invalid"
    assert error["detail"] == (
        '"ref" must be a string of 1 to 64 characters or an integer.'
    )
    assert "ref" not in error
    assert await Message.objects.acount() == 0
    await c.disconnect()


async def test_a_send_with_a_ref_is_acknowledged_with_its_seq(ws, lobby, ann, bob):
    """The sender learns its message's id and seq; the others just see it."""
    a, *_ = await join(ws, ann)
    b, *_ = await join(ws, bob)
    await a.send_json_to({"type": "chat.send", "text": "hello", "ref": "s1"})
    ack = await next_frame(a, "chat.ack", skip=("chat.message", "chat.presence"))
    stored = await Message.objects.aget()
    assert ack == {
        "type": "chat.ack",
        "ref": "s1",
        "cid": None,
        "id": stored.pk,
        "seq": stored.seq,
    }
    seen = await next_frame(b, "chat.message")
    assert (seen["id"], "ref" in seen) == (stored.pk, False)
    await a.disconnect()
    await b.disconnect()


async def test_a_refused_send_echoes_its_ref(ws, lobby, ann):
    """A muted user's send is refused with an error carrying its ref, so a client
    knows which text to give back."""
    a, *_ = await join(ws, ann)
    await Mute.objects.acreate(room=lobby, user=ann, reason="cool off")
    error = await ask(a, {"type": "chat.send", "text": "hi", "ref": 3}, "error")
    assert (error["code"], error["ref"]) == ("forbidden", 3)
    assert "muted" in error["detail"]
    await a.disconnect()


async def test_a_resent_cid_is_stored_once_and_acked_with_the_first_seq(
    ws, lobby, ann, bob
):
    """The same send again (same socket, or a new one after a reconnect) is
    acknowledged with the stored message; nobody sees it twice."""
    send = {"type": "chat.send", "text": "only once", "cid": "m-1"}
    a, *_ = await join(ws, ann)
    b, *_ = await join(ws, bob)
    first = await ask(a, {**send, "ref": 1}, "chat.ack")
    again = await ask(a, {**send, "ref": 2}, "chat.ack")
    a2, *_ = await join(ws, ann, after=first["seq"])
    third = await ask(a2, send, "chat.ack")
    assert first["cid"] == again["cid"] == third["cid"] == "m-1"
    assert first["seq"] == again["seq"] == third["seq"] == 1
    assert first["id"] == again["id"] == third["id"]
    assert await Message.objects.acount() == 1
    assert (await next_frame(b, "chat.message"))["text"] == "only once"
    await b.send_json_to({"type": "chat.send", "text": "bob's", "ref": "b"})
    assert (await next_frame(b, "chat.message"))["seq"] == 2  # not a second copy
    await a.disconnect()
    await a2.disconnect()
    await b.disconnect()


async def test_a_cid_is_per_author_and_room(ws, lobby, ann, bob):
    """Another user, or another room, may use the same cid: each is a message."""
    await Room.objects.acreate(slug="hall", name="Hall")
    send = {"type": "chat.send", "text": "hi", "cid": "same"}
    acks = []
    for user, path in ((ann, "/ws/chat/lobby/"), (bob, "/ws/chat/lobby/")):
        c, *_ = await join(ws, user, path=path)
        acks.append(await ask(c, send, "chat.ack"))
        await c.disconnect()
    c, *_ = await join(ws, ann, path="/ws/chat/hall/")
    acks.append(await ask(c, send, "chat.ack"))
    await c.disconnect()
    assert len({ack["id"] for ack in acks}) == 3
    assert await Message.objects.acount() == 3


async def test_a_resend_is_acked_even_when_a_new_send_would_be_refused(
    ws, lobby, ann, settings
):
    """Over the flood limit, or muted since: a message that is already stored is
    acknowledged, not refused, so a client stops resending it."""
    settings.DUPLEX = {**settings.DUPLEX, "CHAT_BURST": 1, "CHAT_RATE": 0.01}
    a, *_ = await join(ws, ann)
    send = {"type": "chat.send", "text": "first", "cid": "c1"}
    first = await ask(a, send, "chat.ack")
    refused = await ask(a, {**send, "cid": "c2", "ref": "r"}, "error")
    assert (refused["code"], refused["ref"]) == ("rate_limited", "r")
    await Mute.objects.acreate(room=lobby, user=ann)
    again = await ask(a, send, "chat.ack")
    assert again["seq"] == first["seq"]
    await a.disconnect()


@pytest.mark.parametrize(
    ("cid", "code"), [("x" * 65, "too_big"), (12, "invalid"), ("", "invalid")]
)
async def test_a_bad_cid_is_refused(ws, lobby, ann, cid, code):
    """A cid is a string of 1 to 64 characters."""
    c, *_ = await join(ws, ann)
    error = await ask(c, {"type": "chat.send", "text": "hi", "cid": cid}, "error")
    assert error["code"] == code and '"cid"' in error["detail"]
    assert await Message.objects.acount() == 0
    await c.disconnect()


def test_the_database_refuses_a_second_message_with_the_same_cid(lobby, ann):
    """The constraint holds for every writer, not only the chat service."""
    service.post_message(lobby.pk, ann, "one", cid="dup")
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(
            room=lobby, author=ann, author_name="ann", text="two", seq=99, cid="dup"
        )
    service.post_message(lobby.pk, ann, "no cid")
    service.post_message(lobby.pk, ann, "no cid")  # without a cid, no constraint
    assert Message.objects.filter(room=lobby).count() == 3
