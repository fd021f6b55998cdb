"""Replies and reactions through the real ASGI application: live, in history,
on a resume, in plain text, and their limits."""

import pytest
from asgiref.sync import sync_to_async

from realtime.chat import service
from realtime.chat.models import Message, Reaction, Room
from tests.chat_helpers import LOBBY, join, post, send
from tests.frames import next_frame

pytestmark = pytest.mark.django_db(transaction=True)


async def history(c) -> list[dict]:
    """A history page read now (a join's snapshot may be shared, a moment old)."""
    await c.send_json_to({"type": "chat.history", "before": 2**40})
    return (await next_frame(c, "chat.history"))["messages"]


async def test_a_reply_quotes_its_original_live_and_in_history(ws, lobby, ann, bob):
    """bob answers ann: both see the quote (author and text); a late joiner too,
    and once the original is deleted the quote says so, without its text."""
    original = await sync_to_async(post)(lobby, ann, "lunch at noon? 中午吃饭")
    a, *_ = await join(ws, ann)
    b, *_ = await join(ws, bob)
    await b.send_json_to(
        {"type": "chat.send", "text": "yes 好", "reply_to": original.pk}
    )
    for c in (a, b):
        reply = await next_frame(c, "chat.message")
        assert reply["text"] == "yes 好"
        assert reply["reply_to"] == {
            "id": original.pk,
            "seq": original.seq,
            "user": {"id": ann.pk, "name": "ann"},
            "text": "lunch at noon? 中午吃饭",
            "deleted": False,
        }
    page = await history(b)
    assert page[-1]["reply_to"]["text"] == "lunch at noon? 中午吃饭"
    await a.send_json_to({"type": "chat.delete", "id": original.pk})
    for c in (a, b):
        await next_frame(c, "chat.delete")
    [kept] = await history(b)
    assert kept["reply_to"]["deleted"] is True and kept["reply_to"]["text"] == ""
    for x in (a, b):
        await x.disconnect()


async def test_a_reply_to_a_message_elsewhere_or_gone_is_refused(ws, lobby, ann, bob):
    """Replying to an unknown id, a deleted message or another room's message
    gets not_found, and nothing is stored."""
    other = await sync_to_async(Room.objects.create)(slug="other", name="Other")
    elsewhere = await sync_to_async(post)(other, bob, "over here")
    gone = await sync_to_async(post)(lobby, bob, "soon gone")
    await sync_to_async(service.delete_message)(gone.pk, moderator=True)
    a, *_ = await join(ws, ann)
    for target in (elsewhere.pk, gone.pk, 999999):
        await a.send_json_to({"type": "chat.send", "text": "hm", "reply_to": target})
        error = await next_frame(a, "error")
        assert error["code"] == "not_found"
    await a.send_json_to({"type": "chat.send", "text": "hm", "reply_to": "x"})
    assert (await next_frame(a, "error"))["code"] == "invalid"
    count = await sync_to_async(Message.objects.filter(author=ann).count)()
    assert count == 0
    await a.disconnect()


async def test_reactions_reach_everyone_once_per_user_and_kind(ws, lobby, ann, bob):
    """ann and bob react: each change sends everyone the message's counts; a
    second 👍 from ann changes nothing; taking one back lowers the count."""
    message = await sync_to_async(post)(lobby, ann, "party 🎉")
    a, *_ = await join(ws, ann)
    b, *_ = await join(ws, bob)
    react = {"type": "chat.react", "id": message.pk, "emoji": "👍", "add": True}
    await a.send_json_to(react)
    first = await next_frame(b, "chat.react")
    assert first["reactions"] == [{"emoji": "👍", "count": 1, "users": [ann.pk]}]
    assert await next_frame(a, "chat.react") == first
    await a.send_json_to(react)  # again: nothing changes, nothing is sent
    await b.send_json_to(react)
    await b.send_json_to({**react, "emoji": "❤️"})
    second = await next_frame(a, "chat.react")
    assert second["seq"] == first["seq"] + 1
    assert second["reactions"] == [
        {"emoji": "👍", "count": 2, "users": [ann.pk, bob.pk]}
    ]
    third = await next_frame(a, "chat.react")
    assert [r["emoji"] for r in third["reactions"]] == ["👍", "❤️"]
    await a.send_json_to({**react, "add": False})
    for _ in range(2):
        await next_frame(b, "chat.react")
    fourth = await next_frame(b, "chat.react")
    assert fourth["reactions"][0] == {"emoji": "👍", "count": 1, "users": [bob.pk]}
    assert await sync_to_async(Reaction.objects.count)() == 2
    assert await next_frame(a, "chat.react") == fourth
    assert (await history(a))[0]["reactions"] == fourth["reactions"]
    for x in (a, b):
        await x.disconnect()


async def test_a_resume_replays_reactions_as_they_are_now(ws, lobby, ann, bob):
    """A client that missed two reaction changes gets both events on resume,
    each with the counts of now."""
    message = await sync_to_async(post)(lobby, ann, "hi")
    a, joined, _ = await join(ws, ann)
    await a.disconnect()
    for emoji in ("😂", "👀"):
        await sync_to_async(service.react)(lobby.pk, bob, message.pk, emoji, add=True)
    a, joined, _ = await join(ws, ann, after=joined["last_seq"])
    assert joined["resume"] == "replay"
    for _ in range(2):
        frame = await next_frame(a, "chat.react")
        assert [r["emoji"] for r in frame["reactions"]] == ["😂", "👀"]
    await a.disconnect()


async def test_reactions_are_bounded(ws, lobby, ann, bob, settings):
    """An emoji outside the set is invalid; an unknown message not_found; a guest
    unauthenticated; past the burst, reactions are rate_limited, and sending a
    message still works (reactions have an allowance of their own)."""
    settings.DUPLEX = {**settings.DUPLEX, "CHAT_BURST": 3, "CHAT_RATE": 0.01}
    message = await sync_to_async(post)(lobby, bob, "react to me")
    a, *_ = await join(ws, ann)
    react = {"type": "chat.react", "id": message.pk, "emoji": "👍"}
    await a.send_json_to({**react, "emoji": "💩"})
    assert (await next_frame(a, "error"))["code"] == "invalid"
    await a.send_json_to({**react, "add": "yes"})
    assert (await next_frame(a, "error"))["code"] == "invalid"
    await a.send_json_to({**react, "id": 999999})
    assert (await next_frame(a, "error"))["code"] == "not_found"
    for emoji, add in (("👍", True), ("👍", False)):
        await a.send_json_to({**react, "emoji": emoji, "add": add})
        await next_frame(a, "chat.react")
    await a.send_json_to({**react, "emoji": "🎉"})
    assert (await next_frame(a, "error"))["code"] == "rate_limited"
    await send(a, "still here")
    assert (await next_frame(a, "chat.message"))["text"] == "still here"
    g, *_ = await join(ws)
    await g.send_json_to(react)
    assert (await next_frame(g, "error"))["code"] == "unauthenticated"
    await a.disconnect()
    await g.disconnect()


async def test_plain_text_shows_quotes_and_reactions_in_lines(ws, lobby, ann, bob):
    """In the "chat" subprotocol a reply starts with "[re name: quote]", a
    message's reactions follow it in the history; a live reaction sends no line."""
    original = await sync_to_async(post)(lobby, ann, "x" * 50)
    await sync_to_async(service.react)(lobby.pk, bob, original.pk, "👍", add=True)
    await sync_to_async(service.post_message)(
        lobby.pk, bob, "agreed", reply_to=original.pk
    )
    p, connected, _ = await ws(LOBBY, user=ann, subprotocols=["chat"])
    assert connected
    assert await p.receive_from(3) == "ann: " + "x" * 50 + " [👍 1]"
    assert await p.receive_from(3) == "bob: [re ann: " + "x" * 40 + "…] agreed"
    await sync_to_async(service.react)(lobby.pk, bob, original.pk, "🎉", add=True)
    await p.send_to(text_data="after")
    assert await p.receive_from(3) == "ann: after"
    await p.disconnect()
