"""The scenarios: each runs the same load against every server it lists."""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass

import psutil
from picows import WSMsgType

from bench.client import (
    Connections,
    Echoer,
    Idle,
    Publisher,
    Subscriber,
    Tally,
    summary,
)
from bench.servers import Server

P99_LIMIT_MS = 250.0
DRAIN_TIMEOUT = 3.0


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
)


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent not idle (every process)."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq


def sub_path(server: Server, topics: list[str]) -> str:
    return f"{server.spec.sub}?topics={','.join(topics)}"


async def _wait_until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


class Stepper:
    """Publish at stepped rates to subscribers until latency or loss says stop."""

    def __init__(
        self, servers: list[Server], subscriptions: list[list[str]], mode: str
    ):
        self.servers = servers
        self.subscriptions = subscriptions
        self.mode = mode
        self.tally = Tally()
        self.topics = sorted({t for subs in subscriptions for t in subs})
        self.fans = {t: 0 for t in self.topics}
        for subs in subscriptions:
            for topic in subs:
                self.fans[topic] += 1
        self.random = random.Random(6)

    async def connect(self) -> dict:
        """Open the subscribers (spread over the servers) and one publisher.

        Setting up is not what these scenarios measure: 50 handshakes in
        flight, and a refused one (the stock peer's "Too many connections")
        is retried; the storm scenario measures handshakes.
        """
        self.pools = [Connections(s.url, s.origin, in_flight=50) for s in self.servers]
        count = len(self.pools)
        started = time.monotonic()
        pending = list(enumerate(self.subscriptions))
        refused = 0
        for _attempt in range(5):
            opened = await asyncio.gather(
                *(
                    self.pools[i % count].open(
                        sub_path(self.servers[i % count], subs),
                        lambda subs=subs: Subscriber(self.tally, subs),
                    )
                    for i, subs in pending
                )
            )
            pending = [p for p, ok in zip(pending, opened, strict=True) if ok is None]
            refused += len(pending)
            if not pending:
                break
            await asyncio.sleep(1.0)
        connect_s = time.monotonic() - started
        self.publisher = await self.pools[0].open(self.servers[0].spec.pub, Publisher)
        if pending or self.publisher is None:
            failures = sum((p.failures for p in self.pools), start=Counter())
            raise RuntimeError(f"could not connect every socket: {dict(failures)}")
        self.subscribers = [
            lst
            for pool in self.pools
            for lst in pool.listeners
            if lst is not self.publisher
        ]
        return {"connect_s": round(connect_s, 2), "connect_retries": refused}

    async def warm_up(self, seconds: float = 60.0) -> None:
        """Publish a round to every topic until each subscriber has heard all of
        its topics; rounds wait for the previous one, so no backlog is left."""
        self.tally.reset(0)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for topic in self.topics:
                self.publisher.publish(topic, 0, self.mode)
            await self._quiet()
            if all(lst.topics <= lst.last.keys() for lst in self.subscribers):
                return
        raise RuntimeError("subscribers did not all receive the warm-up")

    async def _quiet(self, gap: float = 0.3, limit: float = 10.0) -> None:
        """Wait until no message has arrived for ``gap`` seconds."""
        started = time.monotonic()
        seen = -1
        while time.monotonic() - started < limit:
            total = sum(lst.seen for lst in self.subscribers)
            if total == seen:
                return
            seen = total
            await asyncio.sleep(gap)

    async def step(self, number: int, rate: float, seconds: float) -> dict:
        tally = self.tally
        tally.reset(number)
        total = max(2, round(rate * seconds))
        expected = 0
        server_cpu = sum(s.cpu_seconds() for s in self.servers)
        client_cpu = time.process_time()
        machine_busy = busy_cpu_seconds()
        started = time.monotonic()
        for sent in range(total):
            delay = started + sent / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            topic = (
                self.topics[0]
                if len(self.topics) == 1
                else self.random.choice(self.topics)
            )
            self.publisher.publish(topic, number, self.mode)
            expected += self.fans[topic]
        elapsed = max(time.monotonic() - started, 1 / rate)
        await _wait_until(lambda: tally.received >= expected, DRAIN_TIMEOUT)
        wall = time.monotonic() - started
        stats = summary(tally.latencies)
        server_s = sum(s.cpu_seconds() for s in self.servers) - server_cpu
        client_s = time.process_time() - client_cpu
        other_s = busy_cpu_seconds() - machine_busy - server_s - client_s
        return {
            "rate": rate,
            "published": total,
            "expected": expected,
            "delivered": tally.received,
            "lost": expected - tally.received,
            "disorder": tally.disorder,
            "deliveries_per_s": round(tally.received / elapsed),
            **stats,
            # CPU figures, in cores: what contention from other processes cost.
            "server_cpu": round(server_s / wall, 3),
            "client_cpu": round(client_s / wall, 3),
            "other_cpu": round(max(other_s, 0.0) / wall, 3),
            # Server CPU per delivery: the engine's cost, independent of load.
            "server_us_per_delivery": round(server_s * 1e6 / max(tally.received, 1), 1),
        }

    async def run(self, rates: list[float], seconds: float, refine: int) -> dict:
        """Climb ``rates`` until a step fails, then bisect ``refine`` times
        between the last step that held and the first that did not (halving
        when even the first step failed)."""
        info = await self.connect()
        await self.warm_up()
        steps = []
        best = failed = None
        for rate in rates:
            result = await self.step(len(steps) + 1, rate, seconds)
            steps.append(result)
            if verdict(result) != "held":
                failed = result
                break
            best = result
        if failed is not None:
            low, high = (best or {}).get("rate"), failed["rate"]
            for _ in range(refine):
                await self._quiet(limit=15.0)  # let the failed step's backlog drain
                rate = (low + high) / 2 if low else high / 2
                result = await self.step(len(steps) + 1, rate, seconds)
                steps.append(result)
                if verdict(result) == "held":
                    low, best = rate, result
                else:
                    high = rate
        for pool in self.pools:
            await pool.close_all()
        return {
            **info,
            "subscribers": len(self.subscriptions),
            "topics": len(self.topics),
            "best": best,
            "stopped_by": verdict(failed) if failed else "rates exhausted",
            "losses_below_saturation": sum(
                s["lost"] for s in steps if verdict(s) != "latency"
            ),
            "steps": steps,
        }


def verdict(step: dict) -> str:
    """``held``, or what broke first: ``latency`` (p99 over the limit) or ``loss``."""
    if step["p99_ms"] is None or step["p99_ms"] > P99_LIMIT_MS:
        return "latency"
    return "loss" if step["lost"] > 0 else "held"


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
    wall = await pool.open_many(paths, lambda: Idle())
    opened = len(pool.transports)
    await pool.close_all()
    return {
        "connections": load.storm_connections,
        "in_flight": load.storm_in_flight,
        "opened": opened,
        "failures": sum(pool.failures.values()),
        "failure_kinds": dict(pool.failures),
        "connections_per_s": round(opened / wall),
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
SCENARIOS = {
    "fanout": (
        fanout,
        ["duplex-memory", "duplex-redis", "stock-memory", "stock-redis", "websockets"],
        1,
    ),
    "quotes": (
        quotes,
        ["duplex-memory", "duplex-redis", "stock-memory", "stock-redis", "websockets"],
        1,
    ),
    "echo": (echo, ["duplex-memory", "duplex-nohop", "websockets"], 1),
    "storm": (storm, ["duplex-redis", "stock-redis", "websockets"], 1),
    "idle": (idle, ["duplex-redis", "stock-redis", "websockets"], 1),
    "scaleout": (scaleout, ["duplex-redis", "stock-redis"], 2),
}
