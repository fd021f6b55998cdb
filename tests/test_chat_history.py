"""Chat history: a resume replays the gap, an old gap resets, earlier pages."""

import pytest
from asgiref.sync import sync_to_async

from realtime.chat import service
from tests.chat_helpers import join, post, send
from tests.frames import EPHEMERAL, drain, next_frame

pytestmark = pytest.mark.django_db(transaction=True)


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


async def test_people_resuming_together_each_get_what_was_posted_meanwhile(
    ws, lobby, ann, bob
):
    """After a restart a room's clients resume from the same seq within a
    moment and share one replay read. A message posted between one resume
    and the next still reaches the later one, by the replay or live: a read
    older than its socket is not shared with it."""
    await sync_to_async(post)(lobby, bob, "before the restart")
    a, joined, _ = await join(ws, ann, after=1)
    assert joined["resume"] == "replay" and joined["last_seq"] == 1
    await sync_to_async(post)(lobby, bob, "while they come back")
    b, joined, _ = await join(ws, bob, after=1)  # within 0.25 s of a's
    assert joined["resume"] == "replay" and joined["last_seq"] == 2
    got = await next_frame(b, "chat.message")
    assert (got["seq"], got["text"]) == (2, "while they come back")
    assert (await next_frame(a, "chat.message"))["seq"] == 2  # live, for a
    for c in (a, b):
        await c.disconnect()
