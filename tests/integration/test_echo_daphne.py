"""The echo playground's sockets on a real daphne, with the ``websockets`` client."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

pytestmark = pytest.mark.integration


async def test_the_mirror_reports_the_response_the_client_received(daphne):
    """The handshake mirror's response headers are the ones daphne really sent,
    the negotiated extension and subprotocol included."""
    server = daphne(redis=False)
    url = server.ws_url + "/ws/echo/handshake/"
    async with connect(url, subprotocols=["chat"]) as ws:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        received = [[name, value] for name, value in ws.response.headers.raw_items()]
    assert frame["response_status"] == "HTTP/1.1 101 Switching Protocols"
    assert frame["response_headers"] == received
    sent = dict(frame["response_headers"])
    assert sent["Sec-WebSocket-Accept"] == frame["accept"]
    assert sent["Sec-WebSocket-Protocol"] == "chat"
    assert sent["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
    assert "Sec-WebSocket-Location" not in sent  # a pre-RFC 6455 header


async def test_the_echo_answers_a_close_with_the_same_code_and_reason(daphne):
    """A client's close code and reason come back in the server's close frame."""
    server = daphne(redis=False)
    for code, reason in [(4001, "bye 再见"), (3000, ""), (1000, "done")]:
        async with connect(server.ws_url + "/ws/echo/") as ws:
            await ws.close(code, reason)
        assert (ws.close_code, ws.close_reason) == (code, reason)
