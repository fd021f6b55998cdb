"""Chat's limits: message length, slow mode, flood control and bad frames."""

import pytest

from realtime.chat.models import Message, Room
from realtime.core.envelope import CloseCode
from tests.chat_helpers import closed_with, join, send
from tests.frames import next_frame

pytestmark = pytest.mark.django_db(transaction=True)


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
