"""Outages of the services Duplex stands on: requests fail cleanly, then recover."""

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect

from realtime.chat.models import Room
from tests.frames import ANY, next_frame
from tests.integration.http_session import Browser
from tests.servers import (
    ROOT,
    DaphneProcess,
    PostgresProcess,
    get_json,
    server_env,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def private_postgres():
    server = PostgresProcess().init().start()
    yield server
    server.destroy()


async def sockets_during_the_outage(server):
    """A socket needing no database works; one whose session cannot be read is
    refused with 1013 (try again later), not a server error."""
    async with connect(server.ws_url + "/ws/site/", origin=server.origin) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}
    cookie = {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}
    async with connect(
        server.ws_url + "/ws/notifications/",
        origin=server.origin,
        additional_headers=cookie,
    ) as ws:
        await asyncio.wait_for(ws.wait_closed(), 5)
    assert ws.close_code == 1013


async def sockets_after_the_outage(server):
    cookie = {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}
    async with connect(
        server.ws_url + "/ws/notifications/",
        origin=server.origin,
        additional_headers=cookie,
    ) as ws:
        await asyncio.wait_for(ws.wait_closed(), 5)
    assert ws.close_code == 4001  # an unknown session: anonymous, as it should be


def test_postgres_restart_fails_requests_cleanly_and_recovers(
    private_postgres, tmp_path
):
    """While PostgreSQL is down /healthz answers 503 naming the database, at once,
    and sockets fail cleanly; after it is back the same process works again."""
    env = server_env(private_postgres.url, None, "outage")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
    )
    server = DaphneProcess(env, tmp_path).start()
    try:
        assert get_json(server.url + "/healthz")[0] == 200
        private_postgres.stop()
        started = time.monotonic()
        status, body = get_json(server.url + "/healthz")
        assert status == 503 and body["failing"] == ["database"]
        assert body["checks"]["channel_layer"]["ok"]
        assert time.monotonic() - started < 5, (
            "a refused database must not hang requests"
        )
        login_page = urllib.request.urlopen(server.url + "/accounts/login/", timeout=10)
        assert login_page.status == 200  # pages that need no database still work
        asyncio.run(sockets_during_the_outage(server))
        private_postgres.start()
        assert get_json(server.url + "/healthz")[0] == 200
        asyncio.run(sockets_after_the_outage(server))
    finally:
        server.stop()


async def test_redis_outage_of_five_seconds_is_survived(
    daphne, private_redis, make_user
):
    """Redis dies for 5 s under traffic: the process lives, answers cleanly meanwhile,
    delivers live again by itself afterwards, and a chat client resuming from its
    last seq receives every message stored during the outage, once."""
    await sync_to_async(make_user)("ann")
    await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    redis = private_redis()
    server = daphne(redis=False, REDIS_URL=redis.url)
    ann = Browser(server.url)
    await asyncio.to_thread(ann.log_in, "ann", "pw-ann-123")
    cookie = {"Cookie": f"sessionid={ann.cookie('sessionid')}"}
    site = await connect(server.ws_url + "/ws/site/", origin=server.origin)
    writer = await connect(
        server.ws_url + "/ws/chat/lobby/",
        origin=server.origin,
        additional_headers=cookie,
    )
    await writer.send(json.dumps({"type": "chat.join", "after": 0}))
    while (
        json.loads(await asyncio.wait_for(writer.recv(), 5))["type"] != "chat.history"
    ):
        pass

    redis.stop()
    status, body = await asyncio.to_thread(get_json, server.url + "/healthz")
    assert status == 503 and body["failing"] == ["channel_layer"]
    sent = [f"during outage {n}" for n in range(5)]
    for text in sent:
        await writer.send(json.dumps({"type": "chat.send", "text": text}))
        await asyncio.sleep(1)  # 5 s of traffic while Redis is down
    redis.start()

    assert server.proc.poll() is None, "the process survived"
    delivered = None
    for attempt in range(20):  # the hub rejoins its groups within seconds
        await announce(server, f"back {attempt}")
        try:
            delivered = json.loads(await asyncio.wait_for(site.recv(), 1))
            break
        except TimeoutError:
            continue
    assert delivered is not None and delivered["type"] == "site.announcement"
    status, body = await asyncio.to_thread(get_json, server.url + "/healthz")
    assert status == 200, body

    reader = await connect(
        server.ws_url + "/ws/chat/lobby/",
        origin=server.origin,
        additional_headers=cookie,
    )
    await reader.send(json.dumps({"type": "chat.join", "after": 0}))
    history = await next_frame(reader, "chat.history", skip=ANY, wait=5)
    texts = [m["text"] for m in history["messages"]]
    assert texts[-5:] == sent
    log = server.log()
    assert log.count("Traceback") == 0
    assert "Channel layer unreachable (ConnectionError" in log  # one line, no trace
    for ws in (site, writer, reader):
        await ws.close()


async def announce(server, text: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "manage.py", "announce", text, cwd=ROOT, env=server.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    await process.wait()
