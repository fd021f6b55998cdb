"""A WebSocket client on a raw socket, for tests of clients that stop reading.

It shrinks its receive buffer and reads only when told to, so the server's
kernel and Twisted buffers fill for real.
"""

import base64
import json
import os
import socket
import struct


class StalledClient:
    """A WebSocket client on a raw socket that reads only when told to."""

    def __init__(self, server, path: str):
        self.sock = socket.socket()
        # A small window: the server's buffers, not ours, must fill up.
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

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the connection"
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def raw_frame(self) -> tuple[int, bytes]:
        """Read the next frame: its opcode and payload (the server never masks)."""
        opcode, length = struct.unpack("!BB", self._read(2))
        length &= 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        return opcode & 0x0F, self._read(length)

    def frame(self) -> dict:
        """Read the next text frame as JSON."""
        opcode, payload = self.raw_frame()
        assert opcode == 0x1, f"expected a text frame, got opcode {opcode}"
        return json.loads(payload)

    def send_json(self, frame: dict) -> None:
        """Send one small text frame, masked as a client must."""
        payload = json.dumps(frame).encode()
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def close_frame(self, most: int) -> tuple[int, str] | None:
        """Read up to ``most`` frames; the close frame's code and reason, if any."""
        for _ in range(most):
            opcode, payload = self.raw_frame()
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0], payload[2:].decode()
        return None

    def close(self):
        self.sock.close()
