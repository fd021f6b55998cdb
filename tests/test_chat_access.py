"""Who may change a room's stream: sanctions and rooms bound deletions too."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from realtime.chat import service
from realtime.chat.models import Ban, Message, Mute, Room
from realtime.core.envelope import CloseCode, ErrorCode, ProtocolError
from tests.frames import next_frame
from tests.test_chat import LOBBY, closed_with, join, post

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
