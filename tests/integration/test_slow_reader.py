"""A client that asks and never reads cannot grow daphne's memory: past the
bound of what one socket may be owed, it is closed with 1008, and its
neighbours do not notice."""

import asyncio
import re
import urllib.request

import pytest
from websockets.asyncio.client import connect

from realtime.chat.models import Message, Room
from tests.integration.raw_ws import StalledClient

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def read_metrics(server) -> str:
    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as response:
        return response.read().decode()


@pytest.fixture
def big_room(transactional_db):
    """A public room whose history pages are about 100 KB each."""
    room = Room.objects.create(slug="big", name="Big", last_seq=100, published_seq=100)
    Message.objects.bulk_create(
        Message(room=room, author_name="ann", text="x" * 1000, seq=seq)
        for seq in range(1, 101)
    )
    return room


async def test_an_anonymous_reader_that_never_reads_is_closed_not_buffered(
    daphne, big_room
):
    """Hundreds of valid history requests, nothing read: the server closes the
    socket with 1008 once it owes it 256 KiB, counts what it dropped, and the
    echo still answers."""
    server = daphne(
        DUPLEX_FRAME_RATE="1000",
        DUPLEX_FRAME_BURST="1000",
        DUPLEX_OUTBOX_MAX_BYTES=str(256 * 1024),
    )
    client = StalledClient(server, "/ws/chat/big/")
    for _ in range(300):  # about 30 MB of replies, far more than any buffer
        client.send_json({"type": "chat.history", "before": 101, "limit": 100})
    # Read nothing while the server works through them (the operator's log
    # says when it gave up on this socket).
    for _ in range(200):
        if "Closing a socket owed" in server.log():
            break
        await asyncio.sleep(0.1)
    try:
        close = client.close_frame(most=400)
    except ConnectionResetError:
        # The close frame was sent, but this client did not answer it within
        # autobahn's 1-s close handshake (a loaded machine): the server then
        # dropped the connection, and the kernel discarded what it held.
        close = "reset"
    finally:
        client.sock.close()
    if close == "reset":
        assert "Closing a socket owed" in server.log()
    else:
        assert close == (1008, "Too many unread frames.")
    async with connect(server.ws_url + "/ws/echo/", origin=server.origin) as echo:
        await echo.send("still here")
        assert await echo.recv() == "still here"
    # The operator sees what was dropped, and why.
    scrape = await asyncio.to_thread(read_metrics, server)
    dropped = re.search(r'duplex_fanout_dropped_total\{kind="overflow"\} (\S+)', scrape)
    assert dropped and float(dropped.group(1)) > 0
