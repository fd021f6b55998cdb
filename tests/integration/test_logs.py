"""What the server logs: socket events with ids, never message bodies or secrets."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect

from realtime.chat.models import Room
from tests.integration.http_session import Browser

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MARKER = "zebra-7731-私密"


async def test_logs_hold_socket_events_but_no_bodies_cookies_or_passwords(
    daphne, make_user
):
    """A JSON-logging server records connects and closes with ids; the text users
    typed, their passwords and their session cookies appear nowhere."""
    await sync_to_async(make_user)("ann")
    await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    server = daphne(LOG_FORMAT="json", LOG_LEVEL="INFO")
    session = await asyncio.to_thread(Browser(server.url).log_in, "ann", "pw-ann-123")
    headers = {"Cookie": f"sessionid={session}"}
    async with connect(
        server.ws_url + "/ws/chat/lobby/",
        origin=server.origin,
        additional_headers=headers,
    ) as ws:
        await ws.send(json.dumps({"type": "chat.join", "after": 0}))
        await ws.send(json.dumps({"type": "chat.send", "text": f"secret {MARKER}"}))
        await ws.send("not json " + MARKER)
        for _ in range(4):
            await asyncio.wait_for(ws.recv(), 5)
    async with connect(server.ws_url + "/ws/site/", origin=server.origin) as ws:
        await ws.send(json.dumps({"type": MARKER}))
        await asyncio.wait_for(ws.recv(), 5)
    await asyncio.sleep(0.5)
    log = server.log()
    for secret in (MARKER, "pw-ann-123", session):
        assert secret not in log
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(e.get("event") == "connect" and e.get("user") for e in events), log
    assert any(e.get("event") == "close" for e in events)


async def test_metrics_count_open_sockets_per_endpoint(daphne):
    """/metrics on a daphne port counts the sockets open on each endpoint."""
    server = daphne()
    sockets = [
        await connect(server.ws_url + "/ws/site/", origin=server.origin)
        for _ in range(3)
    ]
    body = await asyncio.to_thread(Browser(server.url).get, "/metrics")
    assert 'duplex_ws_connections{endpoint="site"} 3' in body
    for ws in sockets:
        await ws.close()
