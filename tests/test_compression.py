"""permessage-deflate on autobahn's own protocol (the class daphne's derives from).

``realtime/core/compression.py`` sets autobahn options per connection and
relies on autobahn's deflate internals (``_perMessageCompress`` and its
``_compressor``); these tests fail when an autobahn release changes them. The
real-daphne tests are ``tests/integration/test_compression.py``.
"""

import json
import zlib

import pytest
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.compress import PerMessageDeflateOffer
from django.core.exceptions import ImproperlyConfigured
from twisted.internet.testing import StringTransport

from realtime.core import compression
from realtime.core.transport import prepare, send_framed


def handshake(extensions: str | None) -> bytes:
    offer = f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions else ""
    return (
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\n{offer}\r\n"
    ).encode()


def open_socket(extensions: str | None):
    """An open server connection with Duplex's compression, and its handshake reply."""
    factory = WebSocketServerFactory("ws://127.0.0.1:9/")
    factory.protocol = WebSocketServerProtocol
    proto = factory.buildProtocol(None)
    proto.makeConnection(StringTransport())
    compression.install(proto)  # where DaphneSocketMiddleware calls it
    proto.dataReceived(handshake(extensions))
    assert proto.state == proto.STATE_OPEN
    reply = proto.transport.value().decode()
    proto.transport.clear()
    return proto, reply


def read_frame(data: bytes) -> tuple[bool, bytes]:
    """(compressed, payload) of one unmasked server frame."""
    length, start = data[1] & 0x7F, 2
    if length == 126:
        length, start = int.from_bytes(data[2:4]), 4
    elif length == 127:
        length, start = int.from_bytes(data[2:10]), 10
    assert len(data) == start + length, "one whole frame"
    return bool(data[0] & 0x40), data[start:]


def extension_header(reply: str) -> str | None:
    for line in reply.split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "sec-websocket-extensions":
            return value.strip()
    return None


SNAPSHOT = json.dumps(
    {
        "type": "chat.history",
        "messages": [
            {"id": i, "seq": i, "kind": "text", "text": f"第 {i} 条消息 hello"}
            for i in range(50)
        ],
    },
    ensure_ascii=False,
).encode()


def test_a_browser_offer_is_accepted_with_the_servers_window():
    """Chromium's offer gets permessage-deflate; the client is asked for 4 KiB."""
    _, reply = open_socket("permessage-deflate; client_max_window_bits")
    assert extension_header(reply) == "permessage-deflate; client_max_window_bits=12"


def test_no_offer_and_other_extensions_get_no_compression():
    """Without a permessage-deflate offer the reply names no extension."""
    for extensions in (None, "x-webkit-deflate-frame"):
        proto, reply = open_socket(extensions)
        assert extension_header(reply) is None
        assert proto._perMessageCompress is None


def test_messages_are_compressed_alone_and_hold_no_compressor():
    """Each message inflates on its own (a fresh client window every time) and no
    compressor stays allocated between messages."""
    proto, _ = open_socket("permessage-deflate; client_max_window_bits")
    for _ in range(2):
        proto.sendMessage(SNAPSHOT, False)
        compressed, payload = read_frame(proto.transport.value())
        proto.transport.clear()
        assert compressed
        assert len(payload) < len(SNAPSHOT) / 4
        fresh = zlib.decompressobj(-12)
        assert fresh.decompress(payload + b"\x00\x00\xff\xff") == SNAPSHOT
        assert proto._perMessageCompress._compressor is None


def test_prepared_fanout_frames_go_out_uncompressed():
    """A frame framed once for many sockets is written as framed (RSV1 clear)."""
    proto, _ = open_socket("permessage-deflate")
    send_framed(proto, prepare('{"type": "quotes.tick", "symbol": "AAPL"}'))
    compressed, payload = read_frame(proto.transport.value())
    assert not compressed
    assert payload == b'{"type": "quotes.tick", "symbol": "AAPL"}'


def test_a_smaller_window_asked_by_the_client_is_honoured():
    """``server_max_window_bits=9`` makes the server compress with a 512-byte window."""
    proto, reply = open_socket("permessage-deflate; server_max_window_bits=9")
    assert extension_header(reply) == "permessage-deflate; server_max_window_bits=9"
    proto.sendMessage(SNAPSHOT, False)
    _, payload = read_frame(proto.transport.value())
    assert zlib.decompressobj(-9).decompress(payload + b"\x00\x00\xff\xff") == SNAPSHOT


def test_server_no_context_takeover_asked_by_the_client_is_granted():
    _, reply = open_socket("permessage-deflate; server_no_context_takeover")
    assert extension_header(reply) == "permessage-deflate; server_no_context_takeover"


def test_accept_offer_takes_the_first_deflate_offer():
    offers = [
        PerMessageDeflateOffer(request_max_window_bits=10),
        PerMessageDeflateOffer(),
    ]
    accept = compression.accept_offer(offers, window_bits=12, mem_level=5)
    assert accept.window_bits == 10
    assert accept.request_max_window_bits == 12
    assert compression.accept_offer([], window_bits=12, mem_level=5) is None


def test_turned_off_no_offer_is_accepted(settings):
    """``DUPLEX_DEFLATE=0`` leaves daphne's default: compression is never negotiated."""
    settings.DUPLEX = {**settings.DUPLEX, "DEFLATE": False}
    proto, reply = open_socket("permessage-deflate; client_max_window_bits")
    assert extension_header(reply) is None
    assert proto._perMessageCompress is None


@pytest.mark.parametrize("bits,level", [(8, 5), (16, 5), (12, 0), (12, 10)])
def test_impossible_parameters_are_a_configuration_error(settings, bits, level):
    settings.DUPLEX = {
        **settings.DUPLEX,
        "DEFLATE_WINDOW_BITS": bits,
        "DEFLATE_MEM_LEVEL": level,
    }
    with pytest.raises(ImproperlyConfigured, match="DUPLEX_DEFLATE_WINDOW_BITS"):
        compression.acceptor()
