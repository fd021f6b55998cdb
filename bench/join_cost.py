"""What one handshake and ``chat.join`` cost: every SQL statement, every thread hop.

    python -m bench.join_cost [--database-url URL] [--joins 3]

Runs the bench's ASGI application in this process (the project's stack, Redis
layer and cache, PostgreSQL) with ``channels.testing.WebsocketCommunicator``:
logged-in users open ``/ws/chat/<room>/`` and send ``chat.join`` until
``chat.joined``, one after another (the first one warms the process up and is
not shown). For each join it prints the SQL statements with the thread that
ran them and their time, and the ``sync_to_async`` calls (each one a hop to
a worker thread; the thread-sensitive ones all queue on one thread per
process). New PostgreSQL
connections are best counted on the server side: ``sessions`` in
``pg_stat_database``, before and after a storm (docs/performance.md).
"""

import argparse
import asyncio
import os
import threading
import time
import uuid
from collections import Counter

from bench.servers import django_env


class Recorder:
    """SQL statements and sync_to_async calls, as they happen."""

    def __init__(self):
        self.queries: list[tuple[str, str, float]] = []
        self.hops: Counter = Counter()

    def reset(self) -> None:
        self.queries = []
        self.hops = Counter()

    def execute(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            thread = threading.current_thread().name
            self.queries.append((thread, sql, time.perf_counter() - started))

    def install(self) -> None:
        from asgiref.sync import SyncToAsync
        from django.db.backends.signals import connection_created

        def created(sender, connection, **kwargs):
            if self.execute not in connection.execute_wrappers:
                connection.execute_wrappers.append(self.execute)

        connection_created.connect(created, weak=False)
        original = SyncToAsync.__call__
        recorder = self

        async def counted(self, *args, **kwargs):
            name = getattr(self.func, "__qualname__", repr(self.func))
            kind = "thread-sensitive" if self._thread_sensitive else "pool"
            recorder.hops[f"{name} ({kind})"] += 1
            return await original(self, *args, **kwargs)

        SyncToAsync.__call__ = counted


async def one_join(application, room: str, cookie: str) -> None:
    from channels.testing import WebsocketCommunicator

    communicator = WebsocketCommunicator(
        application,
        f"/ws/chat/{room}/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie.encode())],
        subprotocols=["superchat"],
    )
    connected, _ = await communicator.connect(timeout=10)
    assert connected, "the room refused the socket"
    await communicator.send_json_to({"type": "chat.join", "after": 0})
    while (await communicator.receive_json_from(timeout=10))["type"] != "chat.joined":
        pass
    await communicator.disconnect()


def report(recorder: Recorder, number: int) -> None:
    print(f"\n== join {number}: {len(recorder.queries)} SQL statements")
    for thread, sql, seconds in recorder.queries:
        print(f"  {seconds * 1000:6.2f} ms  [{thread}]  {sql[:150]}")
    print("  sync_to_async calls:")
    for name, count in recorder.hops.most_common():
        print(f"    {count} x {name}")


async def run(args, recorder: Recorder, cookies: list[str], room: str) -> None:
    from bench.asgi import application

    for number, cookie in enumerate(cookies):
        recorder.reset()
        await one_join(application, room, cookie)
        await asyncio.sleep(0.2)  # the disconnect's own work, not the next join's
        if number:
            report(recorder, number)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.join_cost")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/duplex_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--joins", type=int, default=2)
    args = parser.parse_args()
    os.environ.update(
        django_env(f"duplex-joincost-{uuid.uuid4().hex[:8]}", args.redis_url)
    )
    os.environ["DATABASE_URL"] = args.database_url
    import django

    django.setup()
    from django.conf import settings

    from bench import accounts
    from realtime.chat.models import Room

    accounts.ensure_database(args.database_url)
    users = accounts.ensure_users(args.joins + 1)
    keys = accounts.new_sessions(users)
    room = f"joincost-{uuid.uuid4().hex[:8]}"
    Room.objects.create(slug=room, name=room)
    name = settings.SESSION_COOKIE_NAME
    recorder = Recorder()
    recorder.install()
    try:
        asyncio.run(run(args, recorder, [f"{name}={k}" for k in keys], room))
    finally:
        Room.objects.filter(slug=room).delete()


if __name__ == "__main__":
    main()
