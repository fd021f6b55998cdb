"""The WebSocket origin check: only pages of this site may open its sockets.

Channels' ``AllowedHostsOriginValidator`` compares the Origin's host name with
``ALLOWED_HOSTS`` and ignores its scheme and port, so ``http://site:8080`` or
``http://site`` under an HTTPS deployment would pass. Duplex asks for the same
origin as the page: the Origin's host and port must be the handshake's Host,
its scheme must match the connection's (``https`` behind a TLS proxy), and the
host must be allowed. ``WS_EXTRA_ORIGINS`` lists exact origins that may also
connect (another front end of the same site); ``*`` in ``ALLOWED_HOSTS``
disables the check (used only to run protocol conformance tools).
"""

import os
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


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


class SameOriginValidator:
    """ASGI middleware: refuse (HTTP 403) a handshake from any other origin."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
