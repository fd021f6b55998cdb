"""The WebSocket origin check: only pages of this site may open its sockets.

Channels' ``AllowedHostsOriginValidator`` compares the Origin's host name with
``ALLOWED_HOSTS`` and ignores its scheme and port, so ``http://site:8080`` or
``http://site`` under an HTTPS deployment would pass. Duplex asks for the same
origin as the page: the Origin's host and port must be the handshake's Host,
its scheme must match the connection's (``https`` behind a TLS proxy), and the
host must be allowed. ``WS_EXTRA_ORIGINS`` lists exact origins that may also
connect (another front end of the same site); ``*`` in ``ALLOWED_HOSTS``
disables the check.

The public sockets (``PUBLIC_PATHS``: the echo playground's echo and
handshake mirror) act on behalf of no one, so any page, ``file://`` pages
(``Origin: null``) and clients that send no Origin may open them. They get
the handshake without its credentials (``Cookie``, ``Authorization``): the
session middleware finds no session, the user is anonymous, and nothing
downstream can read or echo a visitor's cookie to another site's page.

A handshake with an ``Authorization`` header (a personal access token,
checked by ``realtime.tokens.middleware``) loses its cookie instead: the
token alone says who it is. It may come without an Origin (a non-browser
client); when it has one, the same-origin rule applies as to any other.
A cookie without a valid Origin is still refused, so another site's page
cannot open a socket as its visitor.
"""

import os
import re
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}
# The echo playground's sockets (realtime/routing.py): /ws/echo/, /echo and
# /ws/echo/handshake/. Nothing else may be added here that reads a user.
PUBLIC_PATHS = re.compile(r"^/(?:echo/?|ws/echo/(?:handshake/)?)$")
CREDENTIAL_HEADERS = (b"cookie", b"authorization")
COOKIE_HEADERS = (b"cookie",)


def _headers(scope) -> dict[bytes, bytes]:
    return dict(scope.get("headers", []))


def _split_host(value: str, scheme: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"//{value}")
        return (parts.hostname or "", parts.port or DEFAULT_PORTS[scheme])
    except ValueError:
        return None


def connection_scheme(scope) -> str:
    """``https`` when the browser reached us over TLS (directly or via the proxy)."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        proto = _headers(scope).get(b"x-forwarded-proto", b"").decode("latin1")
        if proto.split(",")[0].strip() == "https":
            return "https"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


def origin_allowed(scope) -> bool:
    headers = _headers(scope)
    raw_origin = headers.get(b"origin")
    allowed_hosts = settings.ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
    if "*" in allowed_hosts:
        return True
    if raw_origin is None:
        return False
    origin = raw_origin.decode("latin1").strip()
    extra = [o.strip() for o in os.environ.get("WS_EXTRA_ORIGINS", "").split(",") if o]
    if origin in extra:
        return True
    try:
        parts = urlsplit(origin)
        origin_host, origin_port = parts.hostname, parts.port
    except ValueError:
        return False
    if parts.scheme not in DEFAULT_PORTS or not origin_host:
        return False
    if parts.path or parts.query or parts.username:
        return False
    if not validate_host(origin_host, allowed_hosts):
        return False
    origin_port = origin_port or DEFAULT_PORTS[parts.scheme]
    host_header = headers.get(b"host")
    if host_header is None:
        return True  # no Host (only in-process test clients): host name checked above
    if parts.scheme != connection_scheme(scope):
        return False
    return _split_host(host_header.decode("latin1"), parts.scheme) == (
        origin_host,
        origin_port,
    )


def is_public(scope) -> bool:
    return bool(PUBLIC_PATHS.match(scope.get("path", "")))


def without_credentials(scope, names=CREDENTIAL_HEADERS) -> dict:
    """The scope with its ``Cookie`` and ``Authorization`` headers removed."""
    headers = [
        (name, value)
        for name, value in scope.get("headers", [])
        if name.lower() not in names
    ]
    return {**scope, "headers": headers}


class SameOriginValidator:
    """ASGI middleware: refuse (HTTP 403) a handshake from any other origin.

    Exceptions: the public sockets (any origin, credentials removed) and a
    token handshake without an Origin (cookie removed; the token is checked
    further in, by ``realtime.tokens.middleware``)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if is_public(scope):
            return await self.application(without_credentials(scope), receive, send)
        headers = _headers(scope)
        if b"authorization" in headers:
            scope = without_credentials(scope, COOKIE_HEADERS)
            if b"origin" not in headers:
                return await self.application(scope, receive, send)
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
