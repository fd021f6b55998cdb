"""Room fan-out: a room's members receive what a few of them post.

On Duplex the members are distinct logged-in users joined to one room
(``/ws/chat/<room>/``, ``chat.join``); a few of them post through the real
``chat.send`` path (flood control, database write under the room lock,
publish after commit) at stepped rates, spread so no poster exceeds the
product's per-user rate. Every member records each ``chat.message``: its
latency (the text carries the poster's clock; poster and members share this
process) and its ``seq`` (a repeat or a step back counts as a duplicate).
On the ceilings (``websockets``, ``ws-node``) the same number of members
follow one topic and the same rates are published raw (``bench.stepper``):
the room at the speed of the raw library, in the same run.
"""

import asyncio
import json
import time

from picows import WSMsgType

from bench.client import summary
from bench.crowd import Crowd, chat_endpoint, quiet
from bench.product import People
from bench.stepper import DRAIN_TIMEOUT, Stepper, _wait_until

JOIN_ROUNDS = 5  # setting up is not measured: refused joins are retried


class Deliveries:
    """What the members received of the current step's messages."""

    def __init__(self):
        self.step = -1
        self.received = 0
        self.duplicates = 0
        self.latencies: list[float] = []

    def reset(self, step: int) -> None:
        self.step, self.received, self.duplicates = step, 0, 0
        self.latencies = []

    def record(self, member, payload: bytes) -> None:
        now = time.monotonic()
        message = json.loads(payload)
        seq = message["seq"]
        if seq <= member.last_seq:
            self.duplicates += 1
            return
        member.last_seq = seq
        _, step, sent = message["text"].split(" ")
        if int(step) == self.step:
            self.received += 1
            self.latencies.append(now - float(sent))


async def _join_members(crowd: Crowd, sessions: list[str], room: str) -> dict:
    started = time.monotonic()
    pending, retried = sessions, 0
    for _ in range(JOIN_ROUNDS):
        _, pending = await crowd.storm(pending, [chat_endpoint(room)])
        if not pending:
            break
        retried += len(pending)
        await asyncio.sleep(1.0)
    if pending:
        kinds = dict(crowd.stats["chat"].failures)
        raise RuntimeError(f"{len(pending)} members could not join: {kinds}")
    return {"join_s": round(time.monotonic() - started, 1), "join_retries": retried}


async def _step(crowd, posters, tally, number, rate, seconds) -> dict:
    tally.reset(number)
    total = max(2, round(rate * seconds))
    errors = crowd.frames.by_type["error"]
    started = time.monotonic()
    for n in range(total):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        text = f"bench {number} {time.monotonic():.6f}"
        frame = json.dumps({"type": "chat.send", "text": text}).encode()
        posters[n % len(posters)].transport.send(WSMsgType.TEXT, frame)
    elapsed = max(time.monotonic() - started, 1 / rate)
    refused = crowd.frames.by_type["error"] - errors
    expected = (total - refused) * len(crowd.members)
    await _wait_until(lambda: tally.received >= expected, DRAIN_TIMEOUT)
    return {
        "rate": rate,
        "published": total,
        "refused": refused,
        "expected": expected,
        "delivered": tally.received,
        "lost": expected - tally.received,
        "duplicates": tally.duplicates,
        "deliveries_per_s": round(tally.received / elapsed),
        **summary(tally.latencies),
    }


async def _duplex(server, load) -> dict:
    members = load.room_members
    async with People(server, members) as people:
        crowd = Crowd(server, people.cookie, min(load.crowd_in_flight, 50))
        info = await _join_members(crowd, people.sessions, people.room)
        tally = Deliveries()
        crowd.frames.on_message = tally.record
        await quiet(lambda: crowd.frames.by_type["chat.presence"], limit=30)
        posters = crowd.members[: load.room_posters]
        await _step(crowd, posters, tally, 0, 1, 1)  # warm-up: one message each way
        steps = []
        for number, rate in enumerate(load.room_rates, start=1):
            seconds = load.room_seconds
            steps.append(await _step(crowd, posters, tally, number, rate, seconds))
            await quiet(lambda: tally.received + tally.duplicates, gap=0.3)
        await crowd.close_all()
    return {"members": members, "posters": len(posters), **info, "steps": steps}


async def _raw(server, load) -> dict:
    stepper = Stepper([server], [["bench.room"]] * load.room_members, "e")
    info = await stepper.connect()
    await stepper.warm_up()
    steps = []
    for rate in load.room_rates:
        steps.append(await stepper.step(len(steps) + 1, rate, load.room_seconds))
        await stepper._quiet()
    for pool in stepper.pools:
        await pool.close_all()
    return {"members": load.room_members, **info, "steps": steps}


async def room_fanout(servers, load) -> dict:
    server = servers[0]
    if server.spec.raw:
        return await _raw(server, load)
    return await _duplex(server, load)
