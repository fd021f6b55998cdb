"""The scenarios: each runs the same load against every server it lists."""

import asyncio
import random
import time
from dataclasses import dataclass

from picows import WSMsgType

from bench.client import (
    Connections,
    Echoer,
    Idle,
    summary,
)
from bench.compression import compression
from bench.fallback import fallback
from bench.product import page_load, room_join
from bench.rolling import rolling
from bench.room_fanout import room_fanout
from bench.servers import Server, per_thousand
from bench.stepper import Stepper, sub_path


@dataclass
class Load:
    """The size of each scenario (full run or smoke)."""

    subscribers: int
    fanout_rates: list[float]
    quote_topics: int
    quote_per_sub: int
    quote_rates: list[float]
    step_seconds: float
    refine: int
    echo_connections: list[int]
    echo_seconds: float
    storm_connections: int
    storm_in_flight: int
    idle_connections: int
    idle_seconds: float
    crowd_users: int
    crowd_in_flight: int
    room_members: int
    room_posters: int
    room_rates: list[float]
    room_seconds: float
    rolling_clients: int
    rolling_seconds: float
    compression_sockets: int
    compression_messages: int
    compression_idle: int
    fallback_frames: int


FULL = Load(
    subscribers=1000,
    fanout_rates=[1, 2, 4, 8, 16, 32, 64, 128, 256],
    quote_topics=200,
    quote_per_sub=5,
    quote_rates=[25, 50, 100, 200, 400, 800, 1600, 3200, 6400],
    step_seconds=2.0,
    refine=3,
    echo_connections=[1, 100],
    echo_seconds=3.0,
    storm_connections=5000,
    storm_in_flight=200,
    idle_connections=5000,
    idle_seconds=3.0,
    crowd_users=5000,
    crowd_in_flight=200,
    room_members=5000,
    room_posters=20,
    room_rates=[1, 2, 5, 10],
    room_seconds=5.0,
    rolling_clients=4000,
    rolling_seconds=30.0,
    compression_sockets=20,
    compression_messages=2000,
    compression_idle=1000,
    fallback_frames=2000,
)
SMOKE = Load(
    subscribers=20,
    fanout_rates=[5, 10],
    quote_topics=10,
    quote_per_sub=3,
    quote_rates=[20, 40],
    step_seconds=0.3,
    refine=1,
    echo_connections=[1, 5],
    echo_seconds=0.3,
    storm_connections=50,
    storm_in_flight=10,
    idle_connections=50,
    idle_seconds=0.5,
    crowd_users=40,
    crowd_in_flight=10,
    room_members=30,
    room_posters=10,
    room_rates=[2, 5],
    room_seconds=1.0,
    rolling_clients=40,
    rolling_seconds=8.0,
    compression_sockets=3,
    compression_messages=50,
    compression_idle=20,
    fallback_frames=50,
)


async def fanout(servers: list[Server], load: Load) -> dict:
    """1 publisher, N subscribers on one topic; ephemeral events."""
    subscriptions = [["bench.fan"]] * load.subscribers
    return await Stepper(servers, subscriptions, "e").run(
        load.fanout_rates, load.step_seconds, load.refine
    )


async def quotes(servers: list[Server], load: Load) -> dict:
    """Many topics, each subscriber on a few random ones; events keyed by topic."""
    rng = random.Random(200)
    topics = [f"bench.q{i}" for i in range(load.quote_topics)]
    subscriptions = [
        rng.sample(topics, load.quote_per_sub) for _ in range(load.subscribers)
    ]
    return await Stepper(servers, subscriptions, "k").run(
        load.quote_rates, load.step_seconds, load.refine
    )


async def _echo_loop(transport, listener, payload, deadline, rtts) -> None:
    """One connection's closed loop: send, wait for the echo, send again."""
    loop = asyncio.get_running_loop()
    while time.monotonic() < deadline:
        listener.waiter = loop.create_future()
        sent = time.monotonic()
        transport.send(WSMsgType.TEXT, payload)
        try:
            received = await asyncio.wait_for(listener.waiter, 10)
        except TimeoutError:
            return
        rtts.append(received - sent)


async def echo(servers: list[Server], load: Load) -> dict:
    """Closed-loop round trips on 1 and on many connections at once."""
    server = servers[0]
    payload = b'{"type":"bench.echo","pad":"0123456789abcdef"}'
    runs = {}
    for count in load.echo_connections:
        pool = Connections(server.url, server.origin)
        await pool.open_many([server.spec.echo] * count, Echoer)
        if pool.failures:
            raise RuntimeError(f"echo connections failed: {dict(pool.failures)}")
        rtts: list[float] = []
        deadline = time.monotonic() + load.echo_seconds

        started = time.monotonic()
        await asyncio.gather(
            *(
                _echo_loop(t, lst, payload, deadline, rtts)
                for t, lst in zip(pool.transports, pool.listeners, strict=True)
            )
        )
        elapsed = time.monotonic() - started
        runs[str(count)] = {
            "connections": count,
            "messages_per_s": round(len(rtts) / elapsed),
            **summary(rtts),
        }
        await pool.close_all()
    return {"runs": runs}


async def storm(servers: list[Server], load: Load) -> dict:
    """Many sockets joining random topics at once, a bounded number in flight."""
    server = servers[0]
    rng = random.Random(5000)
    topics = [f"bench.s{i}" for i in range(200)]
    paths = [
        sub_path(server, rng.sample(topics, 5)) for _ in range(load.storm_connections)
    ]
    pool = Connections(server.url, server.origin, in_flight=load.storm_in_flight)
    cpu = server.cpu_seconds()
    wall = await pool.open_many(paths, lambda: Idle())
    cpu = server.cpu_seconds() - cpu
    opened = len(pool.transports)
    await pool.close_all()
    return {
        "connections": load.storm_connections,
        "in_flight": load.storm_in_flight,
        "opened": opened,
        "failures": sum(pool.failures.values()),
        "failure_kinds": dict(pool.failures),
        "connections_per_s": round(opened / wall),
        # Server CPU (user + system, every thread) per socket opened.
        "server_cpu_ms_per_connection": per_thousand(cpu, opened),
        "handshake": summary(pool.handshakes),
        "server_log_too_many_connections": server.log_count("Too many connections"),
    }


async def idle(servers: list[Server], load: Load) -> dict:
    """Memory per idle connection (server RSS) and the CPU they cost doing nothing."""
    server = servers[0]
    warm = Connections(server.url, server.origin)
    await warm.open_many([sub_path(server, ["bench.idle"])] * 10, lambda: Idle())
    await warm.close_all()
    await asyncio.sleep(0.5)
    before = server.rss()
    pool = Connections(server.url, server.origin)
    await pool.open_many(
        [sub_path(server, ["bench.idle"])] * load.idle_connections, lambda: Idle()
    )
    opened = len(pool.transports)
    await asyncio.sleep(min(2.0, load.idle_seconds))
    after = server.rss()
    cpu = server.cpu_seconds()
    await asyncio.sleep(load.idle_seconds)
    idle_cpu = (server.cpu_seconds() - cpu) / load.idle_seconds
    await pool.close_all()
    return {
        "connections": opened,
        "failures": sum(pool.failures.values()),
        "failure_kinds": dict(pool.failures),
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "kib_per_connection": round((after - before) / max(opened, 1) / 1024, 1),
        "idle_cpu_percent": round(idle_cpu * 100, 2),
    }


async def scaleout(servers: list[Server], load: Load) -> dict:
    """The fan-out scenario with subscribers spread over two processes sharing Redis."""
    return await fanout(servers, load)


# name -> (function, servers it runs against, processes per server)
# Every server of the suite: Duplex and stock Channels on both layers, and the
# two ceilings.
EVERY_SERVER = [
    "duplex-memory",
    "duplex-redis",
    "stock-memory",
    "stock-redis",
    "websockets",
    "ws-node",
]

SCENARIOS = {
    "fanout": (
        fanout,
        EVERY_SERVER,
        1,
    ),
    "quotes": (
        quotes,
        EVERY_SERVER,
        1,
    ),
    "echo": (echo, ["duplex-memory", "websockets", "ws-node"], 1),
    "storm": (storm, ["duplex-redis", "stock-redis", "websockets", "ws-node"], 1),
    "idle": (idle, ["duplex-redis", "stock-redis", "websockets", "ws-node"], 1),
    "scaleout": (scaleout, ["duplex-redis", "stock-redis"], 2),
    # The product's own sockets, distinct logged-in users (bench/product.py).
    "room_join": (room_join, ["duplex-redis"], 1),
    "page_load": (page_load, ["duplex-redis"], 1),
    "room_fanout": (room_fanout, ["duplex-redis", "websockets", "ws-node"], 1),
    # Two processes, one of them SIGTERMed and restarted (bench/rolling.py).
    "rolling": (rolling, ["duplex-redis-project"], 2),
    # permessage-deflate on and off, per frame kind (bench/compression.py).
    "compression": (compression, ["duplex-memory"], 1),
    # Server-sent events and POST against WebSocket (bench/fallback.py).
    "fallback": (fallback, ["duplex-redis-project"], 1),
}
# Seconds a scenario may run (a storm on today's product can take minutes).
TIMEOUTS = {"room_join": 1800, "page_load": 1800, "room_fanout": 1800, "rolling": 1800}
