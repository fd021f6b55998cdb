"""channels-redis sharded over two Redis servers, under two daphne processes."""

import asyncio
import json
import subprocess
import sys

import pytest
import redis.asyncio as aioredis
from channels_redis.utils import _consistent_hash
from websockets.asyncio.client import connect

from realtime.site.protocol import TOPIC
from tests.servers import ROOT

pytestmark = pytest.mark.integration


async def test_fan_out_works_with_the_layer_sharded_over_two_redis(
    daphne, private_redis
):
    """With REDIS_URL listing two servers, every socket on both processes gets
    a publish, and the layer's keys are spread by channels-redis' hash ring."""
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
    # The topic's group lives on the server channels-redis' hash ring picks,
    # with one subscription per process, and nowhere else.
    group = f"{servers[0].env['REDIS_PREFIX']}__group__fanout.{TOPIC}"
    home = _consistent_hash(group, 2)
    subscribers = []
    for server in (first, second):
        client = aioredis.from_url(server.url)
        subscribers.append(dict(await client.pubsub_numsub(group))[group.encode()])
        await client.aclose()
    assert subscribers[home] == 2 and subscribers[1 - home] == 0, subscribers
    for ws in sockets:
        await ws.close()
