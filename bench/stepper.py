"""Stepped load: publish at climbing rates until latency or loss says stop.

Every subscriber counts what it gets (see ``bench.client``); a step holds when
p99 latency is at most P99_LIMIT_MS and nothing was lost after the drain.
"""

import asyncio
import random
import time
from collections import Counter

import psutil

from bench.client import Connections, Publisher, Subscriber, Tally, summary
from bench.servers import Server

P99_LIMIT_MS = 250.0
DRAIN_TIMEOUT = 3.0


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
