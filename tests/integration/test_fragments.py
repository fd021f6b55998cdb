"""Fragmented messages on a real daphne: the per-message fragment allowance.

A raw-socket client writes WebSocket frames itself, so it can send what no
browser does: one message in thousands of one-byte continuation frames.
"""

import asyncio
import struct

import pytest
from websockets.asyncio.client import connect

from tests.integration.raw_ws import StalledClient

pytestmark = pytest.mark.integration

MASK = b"\x00\x00\x00\x00"  # a valid mask that leaves the payload as it is


def fragment(opcode: int, payload: bytes, fin: bool = False) -> bytes:
    """One masked client frame with a payload under 126 bytes."""
    return bytes([opcode | (0x80 if fin else 0), 0x80 | len(payload)]) + MASK + payload


def one_byte_fragments(text: bytes, fin: bool) -> bytes:
    """``text`` as a text message of one-byte fragments; unfinished unless ``fin``."""
    frames = [fragment(0x1, text[:1])]
    frames += [fragment(0x0, text[i : i + 1]) for i in range(1, len(text) - 1)]
    frames.append(fragment(0x0, text[-1:], fin=fin))
    return b"".join(frames)


class FragmentingClient(StalledClient):
    def send(self, data: bytes) -> bool:
        """Write everything; False if the server hung up first."""
        try:
            self.sock.sendall(data)
        except OSError:  # reset, broken pipe, or blocked because nobody reads
            return False
        return True

    def next_frame(self) -> tuple[int, bytes]:
        """The next server frame: (opcode, payload); the server never masks."""
        opcode, length = struct.unpack("!BB", self._read(2))
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        return opcode & 0x0F, self._read(length)

    def hung_up(self) -> bool:
        """True once the server closes the TCP connection."""
        try:
            while self.sock.recv(65536):
                pass
        except ConnectionResetError:
            pass
        return True


async def test_one_byte_fragments_close_with_1009_and_spare_the_echo(daphne):
    """A few fragments pass; 900 KiB in one-byte fragments gets 1009 "too many
    fragments" and a hang-up, while another client's echo still answers."""
    server = daphne(redis=False)
    modest = FragmentingClient(server, "/ws/echo/")
    modest.send(one_byte_fragments(b"forty bytes, one fragment per byte. ok!!", True))
    assert await asyncio.to_thread(modest.next_frame) == (
        0x1,
        b"forty bytes, one fragment per byte. ok!!",
    )
    modest.close()

    attacker = FragmentingClient(server, "/ws/echo/")
    flood = asyncio.create_task(
        asyncio.to_thread(attacker.send, one_byte_fragments(b"x" * 900 * 1024, False))
    )
    async with connect(server.ws_url + "/ws/echo/", origin=server.origin) as echo:
        await echo.send("still here")
        assert await asyncio.wait_for(echo.recv(), 10) == "still here"
    opcode, payload = await asyncio.to_thread(attacker.next_frame)
    assert opcode == 0x8, "a close frame"
    code, reason = struct.unpack("!H", payload[:2])[0], payload[2:].decode()
    assert (code, reason) == (1009, "too many fragments")
    assert await asyncio.to_thread(attacker.hung_up)
    await flood
    attacker.close()
