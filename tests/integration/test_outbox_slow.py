"""A client that stops reading, against a real daphne: the Outbox's slow paths.

The raw client shrinks its receive buffer and stops calling recv(), so the
server's kernel and Twisted buffers fill for real; the test-only app in
``outbox_app`` publishes bursts and reports what the hub holds meanwhile.
"""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from realtime.core.fanout import HIGH_WATER, MAX_PENDING
from tests.integration.raw_ws import StalledClient
from tests.servers import DaphneProcess, server_env

pytestmark = pytest.mark.integration

FRAME_BYTES = 4000  # padding per event, so a few thousand fill every buffer


@pytest.fixture
def server(live_database_url, redis_prefix, tmp_path):
    """daphne serving the test-only app instead of the project's."""
    # The test app replays a 12 MB gap at once, past the default bound of
    # what a socket may be owed.
    env = server_env(
        live_database_url, None, redis_prefix, DUPLEX_OUTBOX_MAX_BYTES=str(2**26)
    )
    app = "tests.integration.outbox_app:application"
    process = DaphneProcess(env, tmp_path, "outbox", app=app)
    yield process.start()
    process.stop()


async def stats_when(control, topic, done) -> dict:
    """Ask for the hub's view of ``topic`` until ``done(outbox)`` holds."""
    for _ in range(300):
        await control.send(json.dumps({"type": "stats", "topic": topic}))
        while (reply := json.loads(await control.recv()))["type"] != "stats":
            pass
        if reply["outboxes"] and done(reply["outboxes"][0]):
            return reply["outboxes"][0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"the hub never got there: {reply}")


async def test_a_stalled_reader_gets_the_newest_value_of_a_conflated_topic(server):
    """A reader that stalls through 3,000 keyed updates holds one per key, and
    when it reads again it ends on the newest value, having skipped stale ones."""
    client = StalledClient(server, "/slow/prices/")
    async with connect(server.ws_url + "/control/") as control:
        burst = {"type": "burst", "topic": "prices", "kind": "keyed"}
        await control.send(json.dumps({**burst, "count": 3000, "size": FRAME_BYTES}))
        held = await stats_when(
            control, "prices", lambda o: o["latest"].get("k") == 2999
        )
        assert held["queued"] == 1, "one slot for the key, whatever the backlog"
        assert held["buffered"] < HIGH_WATER + 2 * FRAME_BYTES
        values = []
        while not values or values[-1] != 2999:
            values.append(await asyncio.to_thread(lambda: client.frame()["n"]))
    client.close()
    assert values == sorted(set(values)), "in order, no duplicates"
    assert len(values) < 3000, "stale values were skipped, not queued"


async def test_a_stalled_reader_of_a_reliable_topic_is_replayed_the_gap(server):
    """Past MAX_PENDING held frames a stalled reader's backlog is dropped; once it
    reads again, fanout_gap replays the gap and it gets every seq once, in order."""
    client = StalledClient(server, "/slow/room/")
    async with connect(server.ws_url + "/control/") as control:
        burst = {"type": "burst", "topic": "room", "kind": "seq"}
        await control.send(json.dumps({**burst, "count": 3000, "size": FRAME_BYTES}))
        held = await stats_when(control, "room", lambda o: o["gaps"] == ["room"])
        assert held["held"] <= MAX_PENDING
        assert held["buffered"] < HIGH_WATER + 2 * FRAME_BYTES
        seqs = []
        while not seqs or seqs[-1] < 3000:
            seqs.append(await asyncio.to_thread(lambda: client.frame()["seq"]))
    client.close()
    assert seqs == list(range(1, 3001))
