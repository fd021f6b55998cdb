"""Close frames a hostile client may send: counted, never breaking ``/metrics``."""

import base64
import os
import socket
import struct
import urllib.request

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def open_raw_socket(server, path: str) -> socket.socket:
    """A WebSocket handshake by hand, for frames no client library sends."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {server.origin}\r\n\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def send_close(sock: socket.socket, payload: bytes) -> bytes:
    """Send a masked close frame, then read until the server hangs up."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x88, 0x80 | len(payload)]) + mask + masked)
    reply = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:  # the server failed the connection
            break
        if not chunk:
            break
        reply += chunk
    return reply


def scrape(server) -> tuple[int, str]:
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
        return response.status, response.read().decode()


def test_a_one_byte_close_frame_is_counted_and_metrics_stay_readable(daphne):
    """A one-byte close payload is invalid, and daphne reports such a close with
    no code, as it does an empty close frame. Both count as 1005 (no status
    received), next to the codes of well-formed closes, and /metrics answers
    200 afterwards (a None label once broke its sorting until a restart)."""
    server = daphne(redis=False)
    for payload in (struct.pack("!H", 1000), b"\x03", b"\x03", b""):
        with open_raw_socket(server, "/ws/site/") as sock:
            send_close(sock, payload)
    status, text = scrape(server)
    assert status == 200
    assert 'duplex_ws_closes_total{endpoint="site",code="1000"} 1' in text
    assert 'duplex_ws_closes_total{endpoint="site",code="1005"} 3' in text
    assert 'code="None"' not in text
