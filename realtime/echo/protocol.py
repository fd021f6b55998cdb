"""Echo playground: ``/ws/echo/`` (and ``/echo``) and ``/ws/echo/handshake/``.

The echo endpoint has no envelope: every text or binary frame, empty ones
included, comes back unchanged, up to ``settings.DUPLEX["ECHO_MAX_BYTES"]``;
a larger one closes the socket with 1009. The handshake endpoint answers once
with the frame below and closes with 1000.
"""

import base64
import hashlib
from typing import Literal, TypedDict

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
SHOWN_HEADERS = (
    "host",
    "upgrade",
    "connection",
    "origin",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "user-agent",
)


class HandshakeFrame(TypedDict):
    type: Literal["echo.handshake"]
    headers: dict[str, str]
    key: str
    accept: str
    offered_protocols: list[str]
    selected_protocol: str | None


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def handshake_frame(scope: dict, selected: str | None) -> HandshakeFrame:
    headers = {
        name.decode("latin1"): value.decode("latin1")
        for name, value in scope.get("headers", [])
        if name.decode("latin1") in SHOWN_HEADERS
    }
    key = headers.get("sec-websocket-key", "")
    return {
        "type": "echo.handshake",
        "headers": headers,
        "key": key,
        "accept": accept_key(key) if key else "",
        "offered_protocols": list(scope.get("subprotocols", [])),
        "selected_protocol": selected,
    }
