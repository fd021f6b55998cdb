"""A chat message whose acknowledgement is lost with the connection, on a real
daphne: the client reconnects and sends it again, and the room holds it once."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from realtime.chat.models import Message, Room
from tests.frames import ANY, next_frame
from tests.integration.cut_proxy import CutProxy

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lobby(transactional_db):
    return Room.objects.create(slug="lobby", name="大厅")


@pytest.fixture
def proxy(daphne):
    proxy = CutProxy(daphne().port).start()
    yield proxy
    proxy.stop()


async def open_room(server, session_key, after=0):
    """Join as chat.js does; returns (socket, chat.joined, the history or None)."""
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
    ws = await connect(
        server.ws_url + "/ws/chat/lobby/",
        origin=server.origin,
        additional_headers={"Cookie": cookie},
    )
    await ws.send(json.dumps({"type": "chat.join", "after": after}))
    joined = await next_frame(ws, "chat.joined", skip=ANY)
    history = None
    if joined["resume"] != "replay":
        history = await next_frame(ws, "chat.history", "chat.reset", skip=ANY)
    return ws, joined, history


async def stored_texts():
    return [m.text async for m in Message.objects.order_by("seq")]


async def test_a_send_cut_off_before_its_ack_is_stored_once_after_the_resend(
    proxy, lobby, make_user, session_for
):
    """The connection dies after the server got the message and before its
    acknowledgement came back. The client, which never saw the ack, reconnects
    and resends the same frame: it gets the ack of the stored message, and the
    database and a newcomer's history hold the message once."""
    key = await sync_to_async(lambda: session_for(make_user("ann")))()
    send = {"type": "chat.send", "text": "exactly once", "cid": "ann-1", "ref": 1}

    ws, joined, _ = await open_room(proxy, key)
    proxy.cut_after(lambda payload: b'"chat.send"' in payload)
    await ws.send(json.dumps(send))
    with pytest.raises(ConnectionClosed):  # the ack never arrives
        await next_frame(ws, "chat.ack", skip=ANY, wait=10)
    assert proxy.cut.is_set()
    assert await asyncio.to_thread(proxy.answered.wait, 10)  # into the void
    assert await stored_texts() == ["exactly once"]

    again, *_ = await open_room(proxy, key, after=joined["last_seq"])
    await again.send(json.dumps(send))
    ack = await next_frame(again, "chat.ack", skip=ANY)
    stored = await Message.objects.aget()
    assert (ack["ref"], ack["cid"], ack["id"], ack["seq"]) == (
        1,
        "ann-1",
        stored.pk,
        stored.seq,
    )
    await again.close()

    assert await stored_texts() == ["exactly once"]
    bob = await sync_to_async(lambda: session_for(make_user("bob")))()
    fresh, _, history = await open_room(proxy, bob)
    assert [m["text"] for m in history["messages"]] == ["exactly once"]
    await fresh.close()
