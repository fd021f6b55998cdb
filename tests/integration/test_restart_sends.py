"""Chat sends caught by a rolling restart, on two real daphne processes.

A ``chat.send`` whose database call is running when SIGTERM comes (here: held
on the room's row lock by the test) is finished and published before the
process exits; the frames the socket received after it are not handled (the
socket was closed with 1012 and the client sends them again elsewhere); and a
call that does not finish within the grace cannot hold the exit. In each case
the client's resends (same ``cid``) leave every message stored once.
"""

import asyncio
import json
import signal
from contextlib import asynccontextmanager

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.client import connect

from realtime.chat.models import Message, Room
from tests.frames import ANY, next_frame

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FIRST = {"type": "chat.send", "text": "first", "cid": "ann-1", "ref": 1}
SECOND = {"type": "chat.send", "text": "second", "cid": "ann-2", "ref": 2}


@pytest.fixture
def lobby(transactional_db):
    return Room.objects.create(slug="lobby", name="大厅")


@pytest.fixture
def keys(make_user, session_for):
    return {name: session_for(make_user(name)) for name in ("ann", "bob")}


async def open_room(server, session_key, after=0):
    """Join as chat.js does; returns (socket, chat.joined)."""
    ws = await connect(
        server.ws_url + "/ws/chat/lobby/",
        origin=server.origin,
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"},
    )
    await ws.send(json.dumps({"type": "chat.join", "after": after}))
    joined = await next_frame(ws, "chat.joined", skip=ANY)
    return ws, joined


@asynccontextmanager
async def room_locked(database_url: str, room_id: int):
    """Hold the room's row lock (what every post takes) until the block ends."""
    async with await psycopg.AsyncConnection.connect(database_url) as holder:
        await holder.execute(
            "SELECT id FROM realtime_room WHERE id = %s FOR UPDATE", [room_id]
        )
        yield
        await holder.commit()


async def until_waiting_for_the_lock(database_url: str) -> None:
    """Until a server's database call waits for the room's row lock.

    In autocommit: within one transaction PostgreSQL answers every read of
    ``pg_stat_activity`` from the snapshot its first read took
    (``stats_fetch_consistency``), so a wait that began after the first poll
    would never show."""
    connect = psycopg.AsyncConnection.connect(database_url, autocommit=True)
    async with await connect as watcher:
        for _ in range(200):
            cursor = await watcher.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if (await cursor.fetchone())[0]:
                return
            await asyncio.sleep(0.05)
    pytest.fail("no server query waits for the room lock")


async def stored() -> list[str]:
    return [m.text async for m in Message.objects.order_by("seq")]


async def resend_both(server, key, after) -> list[dict]:
    """Reconnect as client.js does and send the unanswered requests again."""
    ws, _ = await open_room(server, key, after=after)
    for frame in (FIRST, SECOND):
        await ws.send(json.dumps(frame))
    acks = [await next_frame(ws, "chat.ack", skip=ANY) for _ in range(2)]
    await ws.close()
    return acks


async def test_a_send_in_flight_at_sigterm_is_finished_before_the_exit(
    daphne, live_database_url, lobby, keys
):
    """ann's first send is in the database when the server gets SIGTERM, her
    second waits behind it. The process finishes the first (stored, and
    published: bob, on the other process, sees it) and exits; the second,
    handled after the SIGTERM, is not stored there. ann, given no ack, sends
    both again to the other process: each is stored once."""
    closing = daphne(DUPLEX_SHUTDOWN_GRACE="30")
    other = daphne()
    ann, joined = await open_room(closing, keys["ann"])
    bob, _ = await open_room(other, keys["bob"])

    async with room_locked(live_database_url, lobby.pk):
        await ann.send(json.dumps(FIRST))
        await ann.send(json.dumps(SECOND))
        await until_waiting_for_the_lock(live_database_url)
        closing.proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(ann.wait_closed(), 10)
        assert ann.close_code == 1012
        # Hold on past the moment a drain that ignores the database would stop
        # the event loop (0.2 s after the last socket closed): the call then
        # finishes into a stopped loop. Not a measure: a shorter hold passes too.
        await asyncio.sleep(1.0)
    exit_code = await asyncio.to_thread(closing.proc.wait, 20)
    assert exit_code == 0, closing.log()
    assert await stored() == ["first"]
    live = await next_frame(bob, "chat.message", skip=ANY, wait=10)
    assert (live["text"], live["seq"]) == ("first", 1)

    acks = await resend_both(other, keys["ann"], joined["last_seq"])
    assert [(a["ref"], a["cid"], a["seq"]) for a in acks] == [
        (1, "ann-1", 1),
        (2, "ann-2", 2),
    ]
    assert await stored() == ["first", "second"]
    await bob.close()


async def test_a_database_call_that_outlasts_the_grace_cannot_hold_the_exit(
    daphne, live_database_url, lobby, keys
):
    """ann's send waits for a lock held past the grace: the process exits
    anyway (exit code 1, said in its log) with nothing stored, and the lock
    holder is not kept waiting; ann's resend elsewhere is stored once."""
    closing = daphne(DUPLEX_SHUTDOWN_GRACE="1")
    other = daphne()
    ann, joined = await open_room(closing, keys["ann"])

    async with room_locked(live_database_url, lobby.pk):
        await ann.send(json.dumps(FIRST))
        await until_waiting_for_the_lock(live_database_url)
        closing.proc.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(closing.proc.wait, 20)
        assert exit_code == 1
        assert "exit held by a running database call" in closing.log()
    assert await stored() == []

    acks = await resend_both(other, keys["ann"], joined["last_seq"])
    assert [a["cid"] for a in acks] == ["ann-1", "ann-2"]
    assert await sync_to_async(Message.objects.count)() == 2
