"""What a dependency outage looks like from the code: Redis or PostgreSQL unreachable.

Code that can carry on without the service (presence, flood control, the
fan-out hub) catches these and degrades; sockets answer "unavailable" or 1013.
"""

import logging

import redis.exceptions
from django.db import InterfaceError, OperationalError

from realtime.core.admission import close_now, retry_reason
from realtime.core.envelope import CloseCode
from realtime.core.transport import SCOPE_KEY

log = logging.getLogger(__name__)

OUTAGE_RETRY = 5  # seconds the browser waits (spread) before retrying in an outage

SERVICE_ERRORS = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
)


class OutageGuard:
    """ASGI middleware around session auth: a handshake that meets an outage
    (the session store, PostgreSQL, is down) closes with 1013 (try again later)
    instead of failing with HTTP 500; the browser client retries with backoff."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        accepted = False

        async def tracking_send(message):
            nonlocal accepted
            accepted = accepted or message["type"] == "websocket.accept"
            await send(message)

        try:
            return await self.app(scope, receive, tracking_send)
        except SERVICE_ERRORS as exc:
            log.warning(
                "handshake failed in an outage: %s", exc, extra={"event": "outage"}
            )
            reason = retry_reason("service unavailable", OUTAGE_RETRY)
            if not accepted:
                await close_now(scope, send, CloseCode.TRY_AGAIN_LATER, reason)
                return
            socket = scope.get(SCOPE_KEY)
            if socket is not None:
                socket.close(CloseCode.TRY_AGAIN_LATER, reason)
            else:
                message = {"type": "websocket.close", "code": CloseCode.TRY_AGAIN_LATER}
                await send({**message, "reason": reason})
