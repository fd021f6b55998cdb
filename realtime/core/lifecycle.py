"""Graceful shutdown under daphne: close every socket with 1012, then stop.

On SIGTERM daphne stops its reactor, cancels every consumer and drops every
connection: browsers see 1006 (abnormal closure) and consumers never run
their disconnect code (presence, cleanup). With this module, SIGTERM first
sends each open WebSocket a close frame with 1012 (service restart), waits up
to ``DUPLEX_SHUTDOWN_GRACE`` seconds (default 5) for the closing handshakes and
the consumers' disconnect handlers, and only then stops the reactor. Clients
reconnect (to another process, behind nginx) and resume their streams.

The drain also waits for the database calls in flight, and the process only
stops once none is left (or the grace is over): a socket's database work runs
on asgiref's one thread-sensitive thread or the reader threads
(``realtime.core.dbthreads``), and a call that publishes (a
``chat.send`` after its commit, holding the room's row lock) needs the event
loop to finish on the in-memory layer (on Redis it publishes from its own
thread: ``realtime.core.fanout.direct``). Stopping the loop under it hung the
process in its exit, holding that lock, so every other process' posts to the
room waited for it.
Frames a socket receives after the SIGTERM start no new work: the socket has
been sent 1012, and a client resends what was not acknowledged (``client.js``
``request``, with a ``cid``). Past the grace, a call still running cannot
hold the exit: ``EXIT_BOUND`` seconds after the loop stops the process ends.
"""

import logging
import os
import signal
import sys
import threading
import time
import weakref

from asgiref.sync import SyncToAsync
from channels.security.websocket import WebsocketDenier

from realtime.core.admission import retry_reason
from realtime.core.dbthreads import READERS, TrackedExecutor
from realtime.core.envelope import CloseCode
from realtime.core.transport import _daphne_protocol, close_protocol

log = logging.getLogger(__name__)

# Sockets per second the other processes are expected to take back while
# serving their own (DUPLEX_REJOIN_RATE; bench/rolling.py measures it), and
# client.js' restartSpread in seconds.
REJOIN_RATE = 100.0
RESTART_SPREAD = 5.0

_sockets: "weakref.WeakSet" = weakref.WeakSet()
# Fallback event streams (realtime.core.fallback): closed with 1012 too.
_streams: "weakref.WeakSet" = weakref.WeakSet()
_state = {"stopping": False}
EXIT_BOUND = 3.0  # seconds from the loop's stop to a forced exit
# Connections the kernel queues for a listening port (DUPLEX_LISTEN_BACKLOG;
# capped by net.core.somaxconn). daphne listens with Twisted's 50.
LISTEN_BACKLOG = 2048


def draining() -> bool:
    """True from the moment SIGTERM begins the drain: ``/readyz`` answers 503,
    and sockets start no new work for the frames they receive."""
    return _state["stopping"]


def _executors() -> list[TrackedExecutor]:
    """The database threads: the thread-sensitive one and the readers."""
    executor = SyncToAsync.single_thread_executor
    tracked = [executor] if isinstance(executor, TrackedExecutor) else []
    return [*tracked, READERS]


def _database_busy() -> bool:
    return any(executor.unfinished for executor in _executors())


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
    SyncToAsync.single_thread_executor = TrackedExecutor()
    reactor.callWhenRunning(_take_signals, reactor)
    reactor.callWhenRunning(_widen_backlogs, reactor)


def _widen_backlogs(reactor) -> None:
    """Listen again on daphne's ports with a queue of ``DUPLEX_LISTEN_BACKLOG``.

    daphne builds its endpoints without a backlog, so Twisted listens with 50.
    While the loop is busy (a room's fan-out, a pause) a reconnect storm fills
    that accept queue within a fraction of a second; past it the kernel drops
    each SYN, and the client waits its SYN retries (1, 3, 7 s...) until
    ``client.js`` gives up on the socket stuck in CONNECTING. Linux lets a
    listening socket call ``listen()`` again to change its queue; a backlog
    asked for at least as long (``-e tcp:...:backlog=N``) is kept."""
    from twisted.internet import tcp

    wanted = int(os.environ.get("DUPLEX_LISTEN_BACKLOG") or LISTEN_BACKLOG)
    for reader in list(reactor.getReaders()):
        if isinstance(reader, tcp.Port) and reader.backlog < wanted:
            reader.socket.listen(wanted)
            reader.backlog = wanted
            log.info("Listening on %s with a backlog of %d", reader.getHost(), wanted)


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
    reason = restart_reason(len(open_sockets))
    try:
        for protocol in open_sockets:
            close_protocol(protocol, CloseCode.SERVICE_RESTART, reason)
        for stream in streams:
            stream.close_for_restart()
    finally:
        _wait(reactor, time.monotonic() + grace)


def restart_reason(sockets: int) -> str:
    """The 1012 reason: a process closing more sockets than the others take
    back in ``client.js``'s 5-s restart spread asks for a wider one."""
    rate = float(os.environ.get("DUPLEX_REJOIN_RATE") or REJOIN_RATE)
    spread = sockets / max(rate, 1.0)
    if spread <= RESTART_SPREAD:
        return "server restarting"
    return retry_reason("server restarting", spread)


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
    if (still_open or _database_busy()) and time.monotonic() < deadline:
        reactor.callLater(0.05, _wait, reactor, deadline)
        return
    # One more turn of the loop so the last disconnect handlers finish.
    reactor.callLater(0.2, _stop, reactor)


def _stop(reactor) -> None:
    """Stop the loop; what waits for the database thread now never will."""
    cancelled = sum(executor.cancel_waiting() for executor in _executors())
    running = sum(len(executor.unfinished) for executor in _executors())
    if cancelled or running:
        log.warning(
            "SIGTERM grace over: %d database calls cancelled, %d running",
            cancelled,
            running,
        )
    watchdog = threading.Timer(EXIT_BOUND, _force_exit)
    watchdog.daemon = True
    watchdog.start()
    reactor.stop()


def _force_exit() -> None:
    """The exit is held (a database call still running): end the process."""
    os.write(2, b"SIGTERM: exit held by a running database call; exiting now\n")
    os._exit(1)
