"""Presence under a burst: 150 users joining one room at once, then leaving."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from websockets.asyncio.client import connect

from realtime.chat.models import Room
from realtime.core.presence import TTL
from tests.frames import ANY, next_frame

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CROWD = 150


def crowd_sessions(session_for) -> list[str]:
    """One logged-in session for each of CROWD distinct users."""
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"crowd{n:03d}", password="!") for n in range(CROWD)
    )
    return [session_for(user) for user in users]


async def online_in_lobby(server) -> int:
    """The lobby's online count, as the room list of ``server`` shows it."""
    async with connect(server.ws_url + "/ws/chat/", origin=server.origin) as ws:
        frame = await next_frame(ws, "chat.rooms", skip=ANY, wait=10)
        return next(r["online"] for r in frame["rooms"] if r["slug"] == "lobby")


async def poll_online(server, wanted: int, within: float = 60) -> int:
    """Poll until the count is ``wanted`` (presence entries may take a moment)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    online = await online_in_lobby(server)
    while online != wanted and loop.time() < deadline:
        await asyncio.sleep(0.5)
        online = await online_in_lobby(server)
    return online


async def open_chat(server, session_key: str):
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"}
    ws = await connect(
        server.ws_url + "/ws/chat/lobby/",
        origin=server.origin,
        additional_headers=cookie,
        open_timeout=60,
    )
    await ws.send(json.dumps({"type": "chat.join", "after": 0}))
    while json.loads(await asyncio.wait_for(ws.recv(), 60))["type"] != "chat.joined":
        pass
    return ws


async def test_a_crowd_joins_and_leaves_one_room_at_once(daphne, session_for):
    """150 users open the lobby on one process together: the other process
    counts 150 online; once they all close together, it counts 0; presence
    never gave up on its store meanwhile."""
    await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    keys = await sync_to_async(crowd_sessions)(session_for)
    # All at once: past admission control's limit, which is not tested here.
    a, b = daphne(DUPLEX_MAX_HANDSHAKES="1000"), daphne()
    crowd = await asyncio.gather(*(open_chat(a, key) for key in keys))
    assert await poll_online(b, CROWD) == CROWD

    await asyncio.gather(*(ws.close() for ws in crowd))
    # A lost leave leaves a ghost until its entry expires (TTL, 30 s after its
    # last renewal): a bound under that tells a ghost from a slow leave.
    assert await poll_online(b, 0, within=TTL / 2) == 0
    for server in (a, b):
        assert "Presence store unavailable" not in server.log_path.read_text()
