"""FragmentGuard on autobahn's own protocol (the class daphne's derives from).

The guard wraps autobahn's streaming hooks and relies on two of its internals
(the ``data`` buffer and the ``failedByMe`` flag); these tests fail when an
autobahn release changes them. The real-daphne test is
``tests/integration/test_fragments.py``.
"""

import pprint
import struct

import pytest
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet.testing import StringTransport

from realtime.core.transport import FragmentGuard
from tests.integration.test_fragments import fragment, one_byte_fragments

HANDSHAKE = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)


class Recorder(WebSocketServerProtocol):
    def onMessage(self, payload, isBinary):
        self.factory.messages.append(payload)


@pytest.fixture
def protocol():
    """An open server connection on an in-memory transport."""
    factory = WebSocketServerFactory("ws://127.0.0.1:9/")
    factory.protocol, factory.messages = Recorder, []
    proto = factory.buildProtocol(None)
    proto.makeConnection(StringTransport())
    proto.dataReceived(HANDSHAKE)
    assert proto.state == proto.STATE_OPEN
    proto.transport.clear()
    yield proto
    for call in (proto.closeHandshakeTimeoutCall, proto.autoPingPendingCall):
        if call is not None:
            call.cancel()


def test_autobahn_still_has_what_the_guard_relies_on(protocol):
    """If this fails, autobahn renamed an internal: adapt FragmentGuard.refuse."""
    assert isinstance(vars(protocol).get("data"), bytes), "autobahn's input buffer"
    assert vars(protocol).get("failedByMe") is False, "autobahn's failed flag"
    assert "onMessageFrameBegin" in dir(protocol)


def test_messages_within_the_allowance_pass(protocol):
    """Up to the base count of tiny fragments, or more when they carry bytes."""
    FragmentGuard(protocol, 4, 1024)
    protocol.dataReceived(one_byte_fragments(b"abcd", True))
    kib = b"k" * 1024
    big = [fragment(0x1, b"")] + [
        bytes([0x00, 0xFE]) + struct.pack("!H", len(kib)) + b"\0" * 4 + kib
        for _ in range(40)
    ]
    protocol.dataReceived(b"".join(big) + fragment(0x0, b"", fin=True))
    assert protocol.factory.messages == [b"abcd", kib * 40]
    assert protocol.transport.value() == b""  # nothing refused


def test_too_many_fragments_close_with_1009_and_stop_reading(protocol):
    """The fifth one-byte fragment fails the socket: a 1009 close frame, nothing
    delivered, the rest of what arrived unparsed, and the socket no longer read."""
    guard = FragmentGuard(protocol, 4, 1024)
    protocol.dataReceived(one_byte_fragments(b"x" * 1000, True))
    close = protocol.transport.value()
    assert close[0] == 0x88
    assert struct.unpack("!H", close[2:4])[0] == 1009
    assert close[4:] == b"too many fragments"
    assert protocol.factory.messages == []
    assert guard.fragments == 5 and protocol.data == b""
    assert protocol.transport.producerState == "paused"


def test_a_connection_does_not_pretty_print_autobahns_options(monkeypatch):
    """autobahn formats its option list for a debug line on every connection;
    with debug logging off (daphne's default) nothing is rendered."""
    rendered = []
    real = pprint.PrettyPrinter.pformat
    monkeypatch.setattr(
        pprint.PrettyPrinter,
        "pformat",
        lambda self, value: rendered.append(value) or real(self, value),
    )
    factory = WebSocketServerFactory("ws://127.0.0.1:9/")
    factory.protocol = Recorder
    proto = factory.buildProtocol(None)
    proto.makeConnection(StringTransport())
    proto.dataReceived(HANDSHAKE)
    assert proto.state == proto.STATE_OPEN
    assert rendered == []
