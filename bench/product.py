"""Product scenarios: distinct logged-in users on the real consumers.

Each runs against the suite's ``duplex-redis`` daphne (the project's own ASGI
stack, Redis layer and cache) on PostgreSQL (``DATABASE_URL``, set by
``python -m bench --database-url``): users and sessions are made in bulk by
``bench.accounts``, the room is a fresh one per scenario.

- ``room_join``: every user opens ``/ws/chat/<room>/`` and sends
  ``chat.join``; ready on ``chat.joined``; ``crowd_in_flight`` at a time.
- ``page_load``: every user opens what a chat room page opens (``/ws/site/``
  with the bell's hello, and the room), together;
  ``crowd_in_flight`` pages at a time.
- ``room_fanout`` (in ``bench.room_fanout``): members joined, messages posted
  through ``chat.send`` at stepped rates.
"""

import asyncio
import json
import os
import re
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

from bench.crowd import SITE_WITH_BELL, Crowd, chat_endpoint, quiet
from bench.servers import ROOT, django_env, per_thousand

SMALL_ROOM = 10  # members joined one by one before a storm: the presence baseline
ONLINE = re.compile(rb"\d+")
ACCESS_LOG = re.compile(r'^\S+:\d+ - - \[.*\] "')


class People:
    """``async with People(server, count) as people``: sessions and a room."""

    def __init__(self, server, count: int):
        self.server = server
        self.count = count
        self.room = f"crowd-{uuid.uuid4().hex[:10]}"
        self.file = Path(tempfile.mkdtemp(prefix="duplex-crowd-")) / "sessions.json"

    async def _accounts(self, *args: str) -> None:
        env = django_env(self.server.prefix, self.server.redis_url)
        command = [sys.executable, "-m", "bench.accounts", *args, "--room", self.room]
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        if proc.returncode:
            tail = out.decode(errors="replace")[-2000:]
            raise RuntimeError(f"bench.accounts {args[0]} failed:\n{tail}")

    async def __aenter__(self) -> "People":
        if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
            raise RuntimeError("product scenarios need DATABASE_URL on PostgreSQL")
        out = str(self.file)
        await self._accounts("setup", "--users", str(self.count), "--out", out)
        data = json.loads(self.file.read_text())
        self.cookie, self.sessions = data["cookie"], data["sessions"]
        return self

    async def __aexit__(self, *exc) -> None:
        await self._accounts("cleanup", "--sessions", str(self.file))


class PresenceTally:
    """``chat.presence`` frames members receive during a storm, by the room size
    each reports (its ``online``): the joins into the room's first half against
    those into its second half, so a cost per join that grows with the room
    shows as a growth above 1."""

    def __init__(self, crowd: Crowd, before: int):
        self.before = before
        self.by_online: Counter = Counter()
        crowd.frames.on_presence = self.record

    def record(self, payload: bytes) -> None:
        at = payload.find(b'"online":')
        online = int(ONLINE.match(payload, at + 9).group()) if at >= 0 else 0
        self.by_online[online] += 1

    def figures(self, joined: int) -> dict:
        half = joined // 2
        threshold = self.before + half
        first = sum(n for online, n in self.by_online.items() if online <= threshold)
        total = sum(self.by_online.values())
        per_first = first / max(half, 1)
        per_second = (total - first) / max(joined - half, 1)
        return {
            "presence_frames": total,
            "presence_per_join": round(total / max(joined, 1), 2),
            "presence_per_join_first_half": round(per_first, 2),
            "presence_per_join_second_half": round(per_second, 2),
            "presence_growth": (
                round(per_second / per_first, 2) if per_first and joined > 1 else None
            ),
        }


async def probe(crowd: Crowd, session: str, room: str) -> int:
    """One more user joins: how many presence frames the members get for it."""
    before = crowd.frames.by_type["chat.presence"]
    member = await crowd.member(session, chat_endpoint(room))
    await quiet(lambda: crowd.frames.by_type["chat.presence"], gap=0.5, limit=10)
    if member is None:
        return -1
    return crowd.frames.by_type["chat.presence"] - before


def server_warnings(server, top: int = 6) -> dict:
    """The server log's most frequent lines (warnings and errors at LOG_LEVEL
    WARNING), with their counts; numbers and ids blanked so repeats group."""
    lines = [
        line
        for line in server.log_path.read_text(errors="replace").splitlines()
        if not ACCESS_LOG.match(line)
    ]
    shapes = Counter(re.sub(r"[0-9a-f]{8,}|\d+", "#", line)[:140] for line in lines)
    return dict(shapes.most_common(top))


async def _storm_with_baseline(server, load, endpoints) -> dict:
    """SMALL_ROOM users join one by one, then the storm; presence probed at both
    sizes. ``endpoints(room)`` lists the sockets each storm user opens."""
    users = load.crowd_users
    async with People(server, SMALL_ROOM + users + 2) as people:
        small, storm = people.sessions[:SMALL_ROOM], people.sessions[SMALL_ROOM:-2]
        crowd = Crowd(server, people.cookie, load.crowd_in_flight)
        chat = chat_endpoint(people.room)
        for session in small:
            await crowd.member(session, chat)
        probe_small = await probe(crowd, people.sessions[-2], people.room)
        crowd.stats.clear()
        tally = PresenceTally(crowd, SMALL_ROOM + 1)
        cpu = server.cpu_seconds()
        wall, failed = await crowd.storm(storm, endpoints(people.room))
        cpu = server.cpu_seconds() - cpu
        result = {
            "users": users,
            "in_flight": load.crowd_in_flight,
            "wall_s": round(wall, 1),
            "users_failed": len(failed),
            "sockets": {n: s.as_dict(wall) for n, s in crowd.stats.items()},
        }
        joined = crowd.stats["chat"].ready
        result.update(tally.figures(joined))
        result["presence_probe"] = {
            str(SMALL_ROOM): probe_small,
            str(SMALL_ROOM + joined + 1): await probe(
                crowd, people.sessions[-1], people.room
            ),
        }
        await crowd.close_all()
    ready = sum(s["ready"] for s in result["sockets"].values())
    result["failures"] = sum(s["failures"] for s in result["sockets"].values())
    result["connections_per_s"] = round(ready / wall, 1) if wall else None
    # Server CPU (user + system, every thread) per user, all their sockets.
    users_ready = result["sockets"]["chat"]["ready"]
    result["server_cpu_ms_per_user"] = per_thousand(cpu, users_ready)
    result["server_log_too_many_connections"] = server.log_count("Too many connections")
    result["server_log"] = server_warnings(server)
    return result


async def room_join(servers, load) -> dict:
    """Distinct logged-in users join one room, ``crowd_in_flight`` at a time."""
    return await _storm_with_baseline(
        servers[0], load, lambda room: [chat_endpoint(room)]
    )


async def page_load(servers, load) -> dict:
    """Distinct logged-in users load a chat room page: the site socket (with
    the bell's hello) and the room's."""
    return await _storm_with_baseline(
        servers[0], load, lambda room: [SITE_WITH_BELL, chat_endpoint(room)]
    )
