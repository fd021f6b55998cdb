"""A handshake storm past what one process works on at once: every client gets
in, those that came too early after a 1013 with a retry hint, and none is
dropped at the TCP level by daphne's handshake timeout."""

import asyncio
import json
import random
import re

import pytest
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from realtime.chat.models import Room
from tests.servers import DaphneProcess, server_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

USERS = 60
RETRY = re.compile(r"retry=(\d+)")


@pytest.fixture
def storm_server(live_database_url, redis_prefix, tmp_path):
    """daphne with a short handshake timeout, and admission past 8 at once."""
    from tests.conftest import REDIS_URL

    env = server_env(
        live_database_url, REDIS_URL, redis_prefix, DUPLEX_MAX_HANDSHAKES="8"
    )
    args = ["--websocket_connect_timeout", "3"]
    process = DaphneProcess(env, tmp_path, "storm", args=args)
    yield process.start()
    process.stop()


async def join_once(server, cookie: str) -> tuple[str, object]:
    """One try: ("joined", None), ("refused", (code, reason)) or ("dropped", why)."""
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}
    try:
        async with connect(
            server.ws_url + "/ws/chat/crowd/",
            origin=server.origin,
            additional_headers=headers,
            open_timeout=30,
            max_size=None,
        ) as ws:
            await ws.send(json.dumps({"type": "chat.join", "after": 0}))
            async for text in ws:
                if json.loads(text)["type"] == "chat.joined":
                    return "joined", None
    except ConnectionClosed as closed:
        if closed.rcvd is not None:
            return "refused", (closed.rcvd.code, closed.rcvd.reason)
        return "dropped", repr(closed)
    except (InvalidHandshake, OSError, TimeoutError) as exc:
        return "dropped", repr(exc)
    return "dropped", "closed before chat.joined"


async def visitor(server, cookie: str, log: list) -> None:
    """Join, honouring a 1013's retry hint as client.js does (spread over it)."""
    for _ in range(30):
        outcome, detail = await join_once(server, cookie)
        log.append((outcome, detail))
        if outcome != "refused" or detail[0] != 1013:
            return
        hint = int(RETRY.search(detail[1]).group(1))
        await asyncio.sleep(hint * (1 + random.random()))


def test_a_storm_past_the_admission_limit_gets_1013_with_a_hint_never_a_drop(
    storm_server, make_user, session_for
):
    """60 logged-in users join one room at once; the process works on 8
    handshakes at a time: the others are told to come back, and all get in."""
    Room.objects.create(slug="crowd", name="Crowd")
    cookies = [session_for(make_user(f"user{n}")) for n in range(USERS)]
    log: list = []

    async def storm():
        await asyncio.gather(*(visitor(storm_server, c, log) for c in cookies))

    asyncio.run(storm())
    outcomes = [outcome for outcome, _ in log]
    dropped = [detail for outcome, detail in log if outcome == "dropped"]
    refusals = {detail[0] for outcome, detail in log if outcome == "refused"}
    hints = [int(RETRY.search(d[1]).group(1)) for o, d in log if o == "refused"]
    print(f"{len(hints)} refusals, hints {sorted(set(hints))}")
    assert dropped == []
    assert outcomes.count("joined") == USERS
    assert refusals == {1013}, "some came too early, and were told so"
    assert all(
        RETRY.search(detail[1]) for outcome, detail in log if outcome == "refused"
    )
