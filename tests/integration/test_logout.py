"""Logging out closes the sockets of that session, in every process."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from realtime.chat.models import Room
from tests.integration.http_session import Browser
from tests.integration.test_credentials import open_as

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


async def test_logging_out_closes_that_sessions_sockets_everywhere(daphne, make_user):
    """ann's sockets on two processes close with 4009 when she logs out in one tab;
    her session on another device, and bob, stay connected."""
    await sync_to_async(make_user)("ann")
    await sync_to_async(make_user)("bob")
    await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    a, b = daphne(), daphne()
    laptop, phone, bobs = Browser(a.url), Browser(a.url), Browser(a.url)
    for visitor, name in ((laptop, "ann"), (phone, "ann"), (bobs, "bob")):
        await asyncio.to_thread(visitor.log_in, name, f"pw-{name}-123")

    closing = [
        await open_as(laptop, a, "/ws/chat/lobby/"),
        await open_as(laptop, b, "/ws/notifications/"),
        await open_as(laptop, b, "/ws/site/"),
    ]
    staying = [
        await open_as(phone, b, "/ws/site/"),
        await open_as(bobs, a, "/ws/site/"),
    ]
    await asyncio.sleep(0.5)  # the hubs have joined auth.logout

    await asyncio.to_thread(laptop.log_out)
    for ws in closing:
        await asyncio.wait_for(ws.wait_closed(), 3)
        assert (ws.close_code, ws.close_reason) == (4009, "You logged out.")
    for ws in staying:
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 3)) == {"type": "pong"}
        await ws.close()
