"""Real daphne processes on Redis and PostgreSQL, driven by a real WebSocket client."""

import asyncio
import json
import signal
import subprocess
import sys

import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import REDIS_URL
from tests.servers import ROOT, get_json

pytestmark = pytest.mark.integration


async def test_echo_round_trip_through_daphne(daphne):
    """Text, binary, empty and large frames come back unchanged over a real socket."""
    server = daphne()
    async with connect(server.ws_url + "/ws/echo/", origin=server.origin) as ws:
        for payload in ["hello", "你好", b"\x00\xff", "", b"", "x" * 500_000]:
            await ws.send(payload)
            assert await asyncio.wait_for(ws.recv(), 5) == payload


async def test_frame_over_the_limit_is_refused_with_1009(daphne):
    """daphne closes a message over 1 MiB with 1009 before the app sees it."""
    server = daphne()
    async with connect(
        server.ws_url + "/ws/echo/", origin=server.origin, max_size=None
    ) as ws:
        await ws.send(b"x" * (1024 * 1024 + 1))
        await asyncio.wait_for(ws.wait_closed(), 5)
    assert ws.close_code == 1009


async def test_hostile_origin_gets_403_from_daphne(daphne):
    """The origin check runs in front of every site socket: another site gets 403,
    and so does a client that sends no Origin; the public echo answers both."""
    server = daphne()
    for origin in ["http://evil.example", None]:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(server.ws_url + "/ws/site/", origin=origin):
                pass
        assert refused.value.response.status_code == 403
        async with connect(server.ws_url + "/echo", origin=origin) as echo:
            await echo.send("数据")
            assert await asyncio.wait_for(echo.recv(), 5) == "数据"


async def test_publish_reaches_sockets_on_two_daphne_processes(daphne, redis_prefix):
    """A message published by another process reaches every socket on both servers,
    and each server joined the topic's layer group once, whatever its socket count."""
    a, b = daphne(), daphne()
    sockets = [
        await connect(server.ws_url + "/ws/site/", origin=server.origin)
        for server in (a, a, a, b, b)
    ]
    redis = aioredis.from_url(REDIS_URL)
    group = f"{redis_prefix}__group__fanout.site.announcements"

    async def subscribed_processes():
        return dict(await redis.pubsub_numsub(group)).get(group.encode(), 0)

    for _ in range(50):
        if await subscribed_processes() == 2:
            break
        await asyncio.sleep(0.1)
    assert await subscribed_processes() == 2, "one subscription per process"

    publisher = await asyncio.create_subprocess_exec(
        sys.executable,
        "manage.py",
        "announce",
        "maintenance at noon / 中午维护",
        cwd=ROOT,
        env=a.env,
        stdout=subprocess.DEVNULL,
    )
    assert await publisher.wait() == 0
    for ws in sockets:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame["type"] == "site.announcement"
        assert frame["text"] == "maintenance at noon / 中午维护"
    for ws in sockets:
        await ws.close()
    await redis.aclose()


async def test_sigterm_closes_sockets_with_1012_before_exiting(daphne):
    """A graceful stop tells every client to reconnect (1012), not a dropped 1006."""
    server = daphne()
    sockets = [
        await connect(server.ws_url + path, origin=server.origin)
        for path in ("/ws/echo/", "/ws/site/", "/ws/site/")
    ]
    server.proc.send_signal(signal.SIGTERM)
    for ws in sockets:
        await asyncio.wait_for(ws.wait_closed(), 10)
        assert (ws.close_code, ws.close_reason) == (1012, "server restarting")
    assert await asyncio.to_thread(server.proc.wait, 10) == 0


async def test_close_codes_daphne_cannot_send_through_asgi_arrive(daphne):
    """1009 from the echo's own limit and 1008 after repeated junk, with reasons."""
    server = daphne(DUPLEX_ECHO_MAX_BYTES=1000, DUPLEX_MAX_STRIKES=2)
    async with connect(server.ws_url + "/ws/echo/", origin=server.origin) as echo:
        await echo.send("x" * 1001)
        await asyncio.wait_for(echo.wait_closed(), 5)
    assert (echo.close_code, echo.close_reason) == (1009, "message too big")

    async with connect(server.ws_url + "/ws/site/", origin=server.origin) as site:
        for _ in range(2):
            await site.send("junk")
            assert json.loads(await site.recv())["code"] == "bad_json"
        await site.send("junk")
        await asyncio.wait_for(site.wait_closed(), 5)
    assert site.close_code == 1008


async def test_healthz_reuses_one_layer_channel(daphne, redis_prefix):
    """Each /healthz sends a message through Redis and back; on the pub/sub
    layer a channel is a subscription, so checks must not add one each."""
    server = daphne()
    redis = aioredis.from_url(REDIS_URL)

    async def subscriptions():
        return len(await redis.pubsub_channels(f"{redis_prefix}*"))

    for _ in range(3):
        status, body = await asyncio.to_thread(get_json, server.url + "/healthz")
        assert status == 200 and body["checks"]["channel_layer"]["ok"], body
    before = await subscriptions()
    for _ in range(20):
        status, _ = await asyncio.to_thread(get_json, server.url + "/healthz")
        assert status == 200
    assert await subscriptions() == before
    await redis.aclose()
