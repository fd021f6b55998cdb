"""A password change or a deactivation closes the account's open sockets."""

import asyncio
import json
import sys

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from realtime.chat.models import Message, Room
from tests.integration.http_session import Browser
from tests.servers import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHANGE = {
    "password": "u.set_password('a-new-pass-456'); u.save()",
    "deactivation": "u.is_active = False; u.save()",
}
REASON = {
    "password": "Your password changed; log in again.",
    "deactivation": "Your account was deactivated.",
}


async def open_as(visitor, server, path):
    cookie = {"Cookie": f"sessionid={visitor.cookie('sessionid')}"}
    ws = await connect(
        server.ws_url + path, origin=server.origin, additional_headers=cookie
    )
    if path.startswith("/ws/chat/"):
        await ws.send(json.dumps({"type": "chat.join", "after": 0}))
    return ws


async def change_user(server, username: str, change: str) -> None:
    """Change the account in a process of its own, as an admin's request would."""
    code = (
        "from django.contrib.auth import get_user_model; "
        f"u = get_user_model().objects.get(username={username!r}); {change}"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "manage.py", "shell", "-c", code, cwd=ROOT, env=server.env
    )
    assert await process.wait() == 0


@pytest.mark.parametrize("kind", ["password", "deactivation"])
async def test_open_sockets_close_when_the_account_changes(daphne, make_user, kind):
    """ann's sockets on two processes close with 4009 when her password changes
    or her account is deactivated, and a post on the closed chat socket is not
    stored; bob's socket stays open."""
    for name in ("ann", "bob"):
        await sync_to_async(make_user)(name)
    await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    a, b = daphne(), daphne()
    ann, bob = Browser(a.url), Browser(a.url)
    for visitor, name in ((ann, "ann"), (bob, "bob")):
        await asyncio.to_thread(visitor.log_in, name, f"pw-{name}-123")
    chat = await open_as(ann, a, "/ws/chat/lobby/")
    closing = [chat, await open_as(ann, b, "/ws/site/")]
    staying = await open_as(bob, b, "/ws/site/")
    await asyncio.sleep(0.5)  # the hubs have joined auth.logout

    await change_user(a, "ann", CHANGE[kind])
    for ws in closing:
        await asyncio.wait_for(ws.wait_closed(), 5)
        assert (ws.close_code, ws.close_reason) == (4009, REASON[kind])
    with pytest.raises(ConnectionClosed):
        await chat.send(json.dumps({"type": "chat.send", "text": "after the change"}))
    await asyncio.sleep(0.5)
    stored = Message.objects.filter(text="after the change").exists
    assert not await sync_to_async(stored)()
    await staying.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(staying.recv(), 3)) == {"type": "pong"}
    await staying.close()
