"""permessage-deflate on real daphne processes, with the ``websockets`` client.

If a daphne or autobahn upgrade stops ``realtime/core/compression.py`` from
reaching the connection, the handshake here names no extension and these fail.
"""

import asyncio
import json

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.integration.test_outages import announce

pytestmark = pytest.mark.integration

# What Chromium and Firefox offer, and the websockets client by default.
BROWSER_OFFER = "permessage-deflate; client_max_window_bits"


class Counting(ClientConnection):
    """A client connection that counts the bytes the server sent it."""

    received = 0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        super().data_received(data)


def extensions(ws) -> str | None:
    return ws.response.headers.get("Sec-WebSocket-Extensions")


async def test_echo_negotiates_deflate_and_round_trips(daphne):
    """The handshake agrees on permessage-deflate; text, binary, empty and large
    messages come back unchanged, and a repetitive one crosses in a fraction of
    its size."""
    server = daphne(redis=False)
    async with connect(server.ws_url + "/ws/echo/", create_connection=Counting) as ws:
        assert extensions(ws) == "permessage-deflate; client_max_window_bits=12"
        for payload in ["hello", "你好 世界", b"\x00\xff", "", b""]:
            await ws.send(payload)
            assert await asyncio.wait_for(ws.recv(), 5) == payload
        big = json.dumps([{"symbol": "AAPL", "last": i} for i in range(20_000)])
        before = ws.received
        await ws.send(big)
        assert await asyncio.wait_for(ws.recv(), 10) == big
        assert ws.received - before < len(big) / 5


async def test_a_broadcast_arrives_on_a_compressed_socket(daphne):
    """A broadcast goes out framed once for every socket, uncompressed, and a
    socket that negotiated deflate reads it as any other."""
    server = daphne()
    async with connect(server.ws_url + "/ws/site/", origin=server.origin) as ws:
        assert extensions(ws).startswith("permessage-deflate")
        await asyncio.sleep(0.5)  # the socket follows the topic by now
        await announce(server, "维护 maintenance")
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame["type"] == "site.announcement"
        assert frame["text"] == "维护 maintenance"


async def test_a_message_that_inflates_past_the_limit_is_refused_with_1009(daphne):
    """A few KiB of deflate that would inflate past 1 MiB close the socket with
    1009; the server inflates no further and keeps serving."""
    server = daphne(redis=False)
    async with connect(server.ws_url + "/ws/echo/", max_size=None) as ws:
        await ws.send(b"\x00" * (4 * 1024 * 1024))
        await asyncio.wait_for(ws.wait_closed(), 10)
    assert ws.close_code == 1009
    async with connect(server.ws_url + "/ws/echo/") as ws:
        await ws.send("still here")
        assert await asyncio.wait_for(ws.recv(), 5) == "still here"


async def test_without_an_offer_or_turned_off_nothing_is_negotiated(daphne):
    """A client that offers nothing, and every client of ``DUPLEX_DEFLATE=0``,
    talks uncompressed."""
    on, off = daphne(redis=False), daphne(redis=False, DUPLEX_DEFLATE="0")
    async with connect(on.ws_url + "/ws/echo/", compression=None) as ws:
        assert extensions(ws) is None
    async with connect(off.ws_url + "/ws/echo/") as ws:
        assert extensions(ws) is None
        await ws.send("plain")
        assert await asyncio.wait_for(ws.recv(), 5) == "plain"
