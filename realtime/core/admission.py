"""Admission control: a storm of handshakes queues at the door, not in daphne.

Every handshake's work (the session, the user, the room's access rules) runs
through the database, one query at a time per process. Past
``DUPLEX_MAX_HANDSHAKES`` handshakes in flight a new one is accepted and
closed at once with 1013 and a retry hint, instead of waiting its turn until
daphne's handshake timeout drops the TCP connection (which the browser sees
as an error with no code, and retries at once).

The hint is part of the close reason, ``"...; retry=S"``, S in seconds:
``client.js`` waits at least that long, spread over as long again, before it
tries again. Each refusal books the next place in a queue that moves at the
rate this process has been answering handshakes (``Door``), so the hints of
a storm grow one after another and its retries come back about as fast as
they can be served: a thousand refused clients are spread over the seconds
the process needs for them, not all told "2 s" to come back together.
"""

import logging
import time

from django.conf import settings

from realtime.core import metrics
from realtime.core.envelope import CloseCode
from realtime.core.transport import SCOPE_KEY

log = logging.getLogger(__name__)

MAX_HANDSHAKES = 50  # the default of DUPLEX_MAX_HANDSHAKES

in_flight = metrics.Gauge(
    "duplex_ws_handshakes_in_flight", "WebSocket handshakes not yet answered."
)
admission_refused = metrics.Counter(
    "duplex_ws_admission_refused_total",
    "Handshakes closed with 1013 at once because too many were in flight.",
)


class Door:
    """The retry hints of one process: a queue of places booked by refusals,
    moving at the rate this process answers handshakes when full.

    That rate is the limit over the time a handshake takes (Little's law: at
    ``limit`` in flight, each taking ``t`` seconds, ``limit / t`` are answered
    per second), ``t`` being a moving average of the handshakes answered.
    """

    ALPHA = 0.1  # weight of the newest handshake in the moving average
    FIRST_GUESS = 0.05  # seconds a handshake takes, before one is measured
    MAX_WAIT = 60.0  # seconds: the longest hint
    # client.js waits the hint times 1 to 2; with places 1/(SPREAD * rate)
    # apart, a storm's retries come back at about the rate served.
    SPREAD = 1.5

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.takes = self.FIRST_GUESS
        self.booked_until = 0.0

    def answered(self, seconds: float) -> None:
        self.takes += self.ALPHA * (seconds - self.takes)

    def hint(self, limit: int) -> float:
        """Seconds the next refused client should wait (at least 1)."""
        now = self.clock()
        rate = limit / max(self.takes, 1e-3)
        start = max(now, self.booked_until)
        self.booked_until = min(start + 1 / (self.SPREAD * rate), now + self.MAX_WAIT)
        return max(1.0, self.booked_until - now)


def retry_reason(text: str, seconds: float) -> str:
    """A close reason carrying the retry hint ``client.js`` honours."""
    return f"{text}; retry={max(1, round(seconds))}"


async def close_now(
    scope, send, code: int, reason: str, subprotocol: str | None = None
) -> None:
    """Accept (selecting ``subprotocol``) and close with ``code`` and ``reason``
    (which daphne's ASGI close drops; the daphne socket sends it)."""
    await send({"type": "websocket.accept", "subprotocol": subprotocol})
    socket = scope.get(SCOPE_KEY)
    if socket is not None:
        socket.close(code, reason)
    else:
        await send({"type": "websocket.close", "code": code, "reason": reason})


class AdmissionGuard:
    """ASGI middleware in front of session auth: count handshakes until the
    application answers (accept or close), and refuse past the limit."""

    def __init__(self, app):
        self.app = app
        self.pending = 0
        self.door = Door()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        limit = settings.DUPLEX.get("MAX_HANDSHAKES", MAX_HANDSHAKES)
        if self.pending >= limit:
            admission_refused.inc()
            wait = self.door.hint(limit)
            await close_now(
                scope, send, CloseCode.TRY_AGAIN_LATER, retry_reason("busy", wait)
            )
            return None
        answered = False
        started = self.door.clock()
        self.pending += 1
        in_flight.inc()

        def done() -> None:
            nonlocal answered
            if not answered:
                answered = True
                self.pending -= 1
                in_flight.dec()
                self.door.answered(self.door.clock() - started)

        async def answering_send(message):
            if message["type"] in ("websocket.accept", "websocket.close"):
                done()
            await send(message)

        try:
            return await self.app(scope, receive, answering_send)
        finally:
            done()
