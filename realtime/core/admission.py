"""Admission control: a storm of handshakes queues at the door, not in daphne.

Every handshake's work (the session, the user, the room's access rules) runs
through the database, one query at a time per process. Past
``DUPLEX_MAX_HANDSHAKES`` handshakes in flight a new one is accepted and
closed at once with 1013 and a retry hint, instead of waiting its turn until
daphne's handshake timeout drops the TCP connection (which the browser sees
as an error with no code, and retries at once).

The hint is part of the close reason, ``"...; retry=S"``, S in seconds:
``client.js`` waits at least that long, spread over a window, before it
tries again. It grows with the queue, so a larger storm spreads wider.
"""

import logging

from django.conf import settings

from realtime.core import metrics
from realtime.core.envelope import CloseCode
from realtime.core.transport import SCOPE_KEY

log = logging.getLogger(__name__)

MAX_HANDSHAKES = 200  # the default of DUPLEX_MAX_HANDSHAKES

in_flight = metrics.Gauge(
    "duplex_ws_handshakes_in_flight", "WebSocket handshakes not yet answered."
)
admission_refused = metrics.Counter(
    "duplex_ws_admission_refused_total",
    "Handshakes closed with 1013 at once because too many were in flight.",
)


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

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        limit = settings.DUPLEX.get("MAX_HANDSHAKES", MAX_HANDSHAKES)
        if self.pending >= limit:
            admission_refused.inc()
            # One second per limit's worth of handshakes queued: the time the
            # process needs to work through them.
            wait = 1 + self.pending / limit
            await close_now(
                scope, send, CloseCode.TRY_AGAIN_LATER, retry_reason("busy", wait)
            )
            return None
        answered = False
        self.pending += 1
        in_flight.inc()

        def done() -> None:
            nonlocal answered
            if not answered:
                answered = True
                self.pending -= 1
                in_flight.dec()

        async def answering_send(message):
            if message["type"] in ("websocket.accept", "websocket.close"):
                done()
            await send(message)

        try:
            return await self.app(scope, receive, answering_send)
        finally:
            done()
