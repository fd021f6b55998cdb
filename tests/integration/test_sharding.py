"""channels-redis sharded over two Redis servers, under two daphne processes."""

import asyncio
import json
import subprocess
import sys

import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import connect

from tests.servers import ROOT

pytestmark = pytest.mark.integration


async def test_fan_out_works_with_the_layer_sharded_over_two_redis(
    daphne, private_redis
):
    """With REDIS_URL listing two servers, every socket on both processes gets
    a publish, and both servers carry part of the layer's keys."""
    first, second = private_redis(), private_redis()
    redis_url = f"{first.url},{second.url}"
    servers = [daphne(redis=False, REDIS_URL=redis_url) for _ in range(2)]
    sockets = [
        await connect(s.ws_url + "/ws/site/", origin=s.origin)
        for s in servers
        for _ in range(3)
    ]
    publisher = await asyncio.create_subprocess_exec(
        sys.executable, "manage.py", "announce", "sharded", cwd=ROOT,
        env={**servers[0].env, "REDIS_URL": redis_url}, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    assert await publisher.wait() == 0
    for ws in sockets:
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["text"] == "sharded"
    key_counts = []
    for server in (first, second):
        client = aioredis.from_url(server.url)
        key_counts.append(len(await client.keys("*")))
        await client.aclose()
    assert all(count > 0 for count in key_counts), key_counts
    for ws in sockets:
        await ws.close()
