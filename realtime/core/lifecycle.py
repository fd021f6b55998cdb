"""Graceful shutdown under daphne: close every socket with 1012, then stop.

On SIGTERM daphne stops its reactor, cancels every consumer and drops every
connection: browsers see 1006 (abnormal closure) and consumers never run
their disconnect code (presence, cleanup). With this module, SIGTERM first
sends each open WebSocket a close frame with 1012 (service restart), waits up
to ``DUPLEX_SHUTDOWN_GRACE`` seconds (default 5) for the closing handshakes and
the consumers' disconnect handlers, and only then stops the reactor. Clients
reconnect (to another process, behind nginx) and resume their streams.
"""

import logging
import os
import signal
import sys
import time
import weakref

from channels.security.websocket import WebsocketDenier

from realtime.core.envelope import CloseCode
from realtime.core.transport import _daphne_protocol, close_protocol

log = logging.getLogger(__name__)

_sockets: "weakref.WeakSet" = weakref.WeakSet()
# Fallback event streams (realtime.core.fallback): closed with 1012 too.
_streams: "weakref.WeakSet" = weakref.WeakSet()
_state = {"stopping": False}


def draining() -> bool:
    """True from the moment SIGTERM begins the drain: ``/readyz`` answers 503."""
    return _state["stopping"]


class GracefulShutdownMiddleware:
    """Remember every daphne WebSocket, to close it properly on SIGTERM."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            if _state["stopping"]:
                # Refuse while draining: the client retries, elsewhere or later.
                await WebsocketDenier()(scope, receive, send)
                return
            protocol = _daphne_protocol(send)
            if protocol is not None:
                _sockets.add(protocol)
        return await self.app(scope, receive, send)


def track_stream(stream) -> None:
    """Close this fallback stream with 1012 on SIGTERM, and wait for it: it has
    ``ended`` and ``close_for_restart()``."""
    _streams.add(stream)


def install() -> None:
    """Take over SIGTERM once daphne's reactor runs (no-op outside daphne)."""
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None or not hasattr(reactor, "_asyncioEventloop"):
        return
    reactor.callWhenRunning(_take_signals, reactor)


def _take_signals(reactor) -> None:
    # Replaces the handler Twisted installed when the reactor started.
    reactor._asyncioEventloop.add_signal_handler(signal.SIGTERM, _begin, reactor)


def _begin(reactor) -> None:
    if _state["stopping"]:
        return
    _state["stopping"] = True
    grace = float(os.environ.get("DUPLEX_SHUTDOWN_GRACE") or 5)
    open_sockets = [p for p in list(_sockets) if p.state == p.STATE_OPEN]
    streams = [s for s in list(_streams) if not s.ended]
    _stop_listening(reactor)
    log.info(
        "SIGTERM: closing %d sockets and %d streams with 1012",
        len(open_sockets),
        len(streams),
    )
    try:
        for protocol in open_sockets:
            close_protocol(protocol, CloseCode.SERVICE_RESTART, "server restarting")
        for stream in streams:
            stream.close_for_restart()
    finally:
        _wait(reactor, time.monotonic() + grace)


def _stop_listening(reactor) -> None:
    """Close the listening ports, so nginx sends new connections elsewhere at
    once (a refused connection is retried on the next upstream; a 403 is not)."""
    from twisted.internet import tcp

    for reader in list(reactor.getReaders()):
        if isinstance(reader, tcp.Port):
            reader.stopListening()


def _wait(reactor, deadline: float) -> None:
    still_open = [p for p in list(_sockets) if p.state != p.STATE_CLOSED]
    still_open += [s for s in list(_streams) if not s.ended]
    if still_open and time.monotonic() < deadline:
        reactor.callLater(0.05, _wait, reactor, deadline)
        return
    # One more turn of the loop so the last disconnect handlers finish.
    reactor.callLater(0.2, reactor.stop)
