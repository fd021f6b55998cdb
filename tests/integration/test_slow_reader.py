"""A client that asks and never reads cannot grow daphne's memory: past the
bound of what one socket may be owed, it is closed with 1008, and its
neighbours do not notice."""

import asyncio
import base64
import json
import os
import socket
import struct

import pytest
from websockets.asyncio.client import connect

from realtime.chat.models import Message, Room

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class AskingClient:
    """A raw WebSocket client with a tiny receive window, which sends requests
    and reads nothing until told to."""

    def __init__(self, server, path: str):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Origin: {server.origin}\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.sock.settimeout(10)

    def send_json(self, frame: dict) -> None:
        payload = json.dumps(frame).encode()
        mask = os.urandom(4)
        assert len(payload) < 126
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed without a close frame")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def close_frame(self, most: int) -> tuple[int, str] | None:
        """Read up to ``most`` frames; the close frame's code and reason, if any."""
        for _ in range(most):
            opcode, length = struct.unpack("!BB", self._read(2))
            length &= 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read(8))
            payload = self._read(length)
            if opcode & 0x0F == 0x8:
                return struct.unpack("!H", payload[:2])[0], payload[2:].decode()
        return None


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
    socket with 1008 once it owes it 256 KiB, and the echo still answers."""
    server = daphne(
        DUPLEX_FRAME_RATE="1000",
        DUPLEX_FRAME_BURST="1000",
        DUPLEX_OUTBOX_MAX_BYTES=str(256 * 1024),
    )
    client = AskingClient(server, "/ws/chat/big/")
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
    finally:
        client.sock.close()
    assert close == (1008, "Too many unread frames.")
    async with connect(server.ws_url + "/ws/echo/", origin=server.origin) as echo:
        await echo.send("still here")
        assert await echo.recv() == "still here"
