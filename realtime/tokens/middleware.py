"""ASGI middleware: a handshake's ``Authorization: Bearer`` token says who it is.

It sits inside the session middleware (project/asgi.py), so a token's user
replaces whatever the session said; ``SameOriginValidator`` has already
removed the cookie from any handshake that carries an ``Authorization``
header, so the two never mix. A wrong, revoked, malformed or foreign-scheme
token is accepted and closed with 4001 ("invalid token"), never passed on as
an anonymous visitor, and the refusal is logged without the token.
"""

import logging

from channels.db import database_sync_to_async

from realtime.core.admission import close_now
from realtime.core.envelope import CloseCode
from realtime.tokens import service

log = logging.getLogger(__name__)

REFUSED_REASON = "invalid token"


def _authorization(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            return value.decode("latin1")
    return None


class BearerTokenMiddleware:
    """Authenticate a handshake by its personal access token, if it has one."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        authorization = _authorization(scope)
        if scope["type"] != "websocket" or authorization is None:
            return await self.app(scope, receive, send)
        try:
            user = await database_sync_to_async(service.authenticate)(authorization)
        except service.TokenRefused as refused:
            return await self.refuse(scope, receive, send, why=str(refused))
        return await self.app({**scope, "user": user}, receive, send)

    async def refuse(self, scope, receive, send, *, why: str) -> None:
        """Accept (with the first offered subprotocol, which clients insist on
        when they offered some) and close with 4001."""
        log.warning(
            "handshake refused: %s token",
            why,
            extra={
                "event": "token",
                "path": scope.get("path"),
                "code": int(CloseCode.UNAUTHENTICATED),
                "reason": why,
            },
        )
        await receive()  # websocket.connect
        offered = scope.get("subprotocols") or []
        await close_now(
            scope,
            send,
            int(CloseCode.UNAUTHENTICATED),
            REFUSED_REASON,
            subprotocol=offered[0] if offered else None,
        )
