"""Reach daphne's own socket from a consumer, for what plain ASGI cannot say.

Through ASGI, daphne cannot send an empty message (it drops ``text=""``), close
with 1008, 1009, 1011 or 1012 (autobahn's ``sendClose`` refuses them) or with a
reason (daphne drops it); and ASGI has no way to send one pre-framed message to
many sockets or to ask how many bytes wait in a socket's buffer.

daphne hands every application ``send=partial(server.handle_reply, protocol)``;
this middleware finds that autobahn protocol and puts a small wrapper in the
scope under ``SCOPE_KEY``. Under any other server (or the test
communicator) the key is absent and callers use plain ASGI messages. It also
gives every daphne connection a ``FragmentGuard`` (docs/protocol.md,
"Fragments") and lets it negotiate permessage-deflate (``compression``).
"""

import functools
import pprint

import txaio
from autobahn.util import encode_truncate
from autobahn.websocket import protocol as autobahn_protocol
from autobahn.websocket.protocol import PreparedMessage, WebSocketProtocol
from django.conf import settings
from twisted.internet import tcp

from realtime.core import compression

SCOPE_KEY = "duplex.socket"
OPEN = WebSocketProtocol.STATE_OPEN


def _pformat_if_logged(value, *args, **kwargs) -> str:
    """autobahn's ``pformat``, rendering only when debug lines are logged.

    autobahn pretty-prints its 30-odd options on every new connection for a
    debug line (``_connectionMade``), whatever the log level: a quarter of
    daphne's main thread during a reconnect storm (py-spy, docs/performance.md
    "Crowds"). Its other uses are debug lines too (and ``Timings``, off).
    """
    if txaio.get_global_log_level() in ("debug", "trace"):
        return pprint.pformat(value, *args, **kwargs)
    return "(not rendered: debug logging is off)"


autobahn_protocol.pformat = _pformat_if_logged


class DaphneSocket:
    """A thin, read-mostly view of one daphne WebSocket connection."""

    __slots__ = ("protocol",)

    def __init__(self, protocol: WebSocketProtocol):
        self.protocol = protocol

    @property
    def is_open(self) -> bool:
        proto = self.protocol
        return proto.state == OPEN and not getattr(proto, "muted", False)

    def buffered_bytes(self) -> int:
        """Bytes written to this socket that the kernel has not taken yet."""
        return buffered_bytes(self.protocol.transport)

    def send_prepared(self, prepared: PreparedMessage) -> bool:
        """Write a frame built once for many sockets; False if the socket is gone."""
        proto = self.protocol
        if proto.state != OPEN or getattr(proto, "muted", False):
            return False
        send_framed(proto, prepared)
        return True

    def offer(self, prepared: PreparedMessage, high_water: int) -> bool:
        """The fan-out fast path: write unless ``high_water`` bytes already wait.

        False means "hold it, the socket is behind"; a closed socket takes
        (and drops) everything, since nothing is worth holding for it.
        """
        proto = self.protocol
        if proto.state != OPEN or getattr(proto, "muted", False):
            return True
        transport = proto.transport
        if transport._tempDataLen or transport.dataBuffer:
            waiting = (
                len(transport.dataBuffer) - transport.offset + transport._tempDataLen
            )
            if waiting >= high_water:
                return False
        send_framed(proto, prepared)
        return True

    def close(self, code: int, reason: str | None = None) -> None:
        """Close with ``code`` and ``reason``, which daphne's ASGI close cannot."""
        close_protocol(self.protocol, code, reason)

    def send_message(self, payload: bytes, binary: bool) -> bool:
        """Send any message, empty ones included."""
        if not self.is_open:
            return False
        self.protocol.sendMessage(payload, binary)
        return True


def buffered_bytes(transport) -> int:
    """Bytes written to a Twisted TCP transport that the kernel has not taken yet."""
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:  # no transport yet, or not a Twisted socket
        return 0


def http_transport(send):
    """The TCP transport under a daphne HTTP response, or None elsewhere."""
    if isinstance(send, functools.partial) and send.args:
        channel = getattr(send.args[0], "channel", None)
        return getattr(channel, "transport", None)
    return None


def close_protocol(protocol: WebSocketProtocol, code: int, reason: str | None) -> None:
    """Send a close frame with any RFC 6455 code and a reason (max 123 bytes)."""
    if protocol.state in (protocol.STATE_CLOSING, protocol.STATE_CLOSED):
        return
    reason_bytes = encode_truncate(reason, 123) if reason else None
    protocol.sendCloseFrame(code=int(code), reasonUtf8=reason_bytes, isReply=False)


def send_framed(proto: WebSocketProtocol, prepared: PreparedMessage) -> None:
    """Write a prepared message: as framed, unless it is to be deflated per socket.

    ``prepare`` marks its frames "do not compress", so they keep the fast path
    on a socket with permessage-deflate too (realtime/core/compression.py).
    """
    if proto._perMessageCompress is None or prepared.doNotCompress:
        write_through(proto, prepared.payloadHybi)
    else:
        proto.sendPreparedMessage(prepared)


def write_through(proto: WebSocketProtocol, data: bytes) -> None:
    """Write framed bytes to the kernel now when nothing waits before them.

    ``transport.write`` always buffers, registers the socket with the event loop
    for writability and sends on the next turn: three system calls and a trip
    through Twisted's logging context per message, which is most of what a
    fan-out costs. When the socket's buffer is empty (the usual case) one
    ``send()`` does it, as asyncio's own transports do; whatever the kernel
    does not take, and every error, goes the ordinary way.
    """
    transport = proto.transport
    if (
        isinstance(transport, tcp.Connection)
        and not transport.TLS
        and not transport._tempDataLen
        and not transport.dataBuffer
        and not transport.disconnecting
        and not proto.send_queue
    ):
        try:
            sent = transport.socket.send(data)
        except OSError:  # EAGAIN, EPIPE...: Twisted's own write finds out
            sent = 0
        if sent == len(data):
            return
        data = data[sent:]
    transport.write(data)


def prepare(text: str) -> PreparedMessage:
    """Frame a text message once so it can go to any number of sockets.

    It is never compressed: deflating it would cost once per socket.
    """
    return PreparedMessage(text.encode(), False, False, True)


class FragmentGuard:
    """Fail a message that arrives in more fragments than its size warrants.

    autobahn does a frame's full Python bookkeeping for every fragment, so a
    message sent one byte per continuation frame costs the event loop about as
    much per byte as a whole small message does, without reaching the
    application's flood limit (that counts whole messages). A message may have
    ``MAX_FRAGMENTS`` fragments, plus one per ``FRAGMENT_BYTES`` it carries. Past
    that the socket gets a 1009 close frame, the bytes autobahn holds are
    dropped and the socket is no longer read (RFC 6455 7.1.7: after failing a
    connection an endpoint processes no more data); autobahn's close handshake
    timeout then drops the TCP connection.

    It wraps the protocol's ``onMessageBegin`` and ``onMessageFrameBegin``
    hooks (autobahn's streaming API) on this one connection. Besides those it
    relies on autobahn's ``data`` buffer and ``failedByMe`` flag:
    ``tests/test_transport.py`` fails if autobahn changes them.
    """

    __slots__ = ("_begin", "_frame", "base", "fragments", "octets", "per", "protocol")

    REASON = "too many fragments"

    def __init__(self, protocol: WebSocketProtocol, base: int, per: int):
        self.protocol = protocol
        self.base, self.per = base, max(1, per)
        self.fragments = self.octets = 0
        self._begin = protocol.onMessageBegin
        self._frame = protocol.onMessageFrameBegin
        protocol.onMessageBegin = self.message_begin
        protocol.onMessageFrameBegin = self.frame_begin

    def message_begin(self, is_binary: bool) -> None:
        self.fragments = self.octets = 0
        self._begin(is_binary)

    def frame_begin(self, length: int) -> None:
        self._frame(length)
        self.fragments += 1
        self.octets += length
        if self.fragments > self.base + self.octets // self.per:
            self.refuse()

    def refuse(self) -> None:
        proto = self.protocol
        if proto.failedByMe:
            return
        close_protocol(
            proto, WebSocketProtocol.CLOSE_STATUS_CODE_MESSAGE_TOO_BIG, self.REASON
        )
        proto.failedByMe = True  # autobahn delivers nothing more of this message
        proto.data = b""  # nor parses the frames already read
        if proto.transport is not None:
            proto.transport.pauseProducing()  # nor reads any more


def _daphne_protocol(send):
    if isinstance(send, functools.partial) and send.args:
        candidate = send.args[0]
        if isinstance(candidate, WebSocketProtocol):
            return candidate
    return None


class DaphneSocketMiddleware:
    """Outermost ASGI middleware: expose daphne's socket in the WebSocket scope."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            protocol = _daphne_protocol(send)
            if protocol is not None:
                # On a protocol error (an oversized message, bad UTF-8) send a close
                # frame with the RFC 6455 code (1009, 1007...) instead of dropping
                # the TCP connection, so the client learns why.
                protocol.failByDrop = False
                compression.install(protocol)
                FragmentGuard(
                    protocol,
                    settings.DUPLEX["MAX_FRAGMENTS"],
                    settings.DUPLEX["FRAGMENT_BYTES"],
                )
                scope = dict(scope, **{SCOPE_KEY: DaphneSocket(protocol)})
        return await self.app(scope, receive, send)
