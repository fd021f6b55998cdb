"""Echo playground: ``/ws/echo/`` (and ``/echo``) and ``/ws/echo/handshake/``.

The echo endpoint has no envelope: every text or binary frame, empty ones
included, comes back unchanged, up to ``settings.DUPLEX["ECHO_MAX_BYTES"]``;
a larger one closes the socket with 1009. A close frame comes back too: the
server answers a client's close with the same code and reason. The handshake
endpoint answers once with the frame below and closes with 1000.
"""

import base64
import hashlib
from typing import Literal, TypedDict

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
SWITCHING = "HTTP/1.1 101 Switching Protocols"
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
    response_status: str
    response_headers: list[list[str]]  # [name, value] pairs, in the order sent


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_response(raw: str) -> tuple[str, list[list[str]]]:
    """The status line and the headers of an HTTP response head."""
    status, *lines = [line for line in raw.split("\r\n") if line]
    headers = [[part.strip() for part in line.split(":", 1)] for line in lines]
    return status, [pair for pair in headers if len(pair) == 2]


def expected_response(accept: str, selected: str | None) -> list[list[str]]:
    """What RFC 6455 requires of a 101 answer, where the real one is not known."""
    headers = [["Upgrade", "websocket"], ["Connection", "Upgrade"]]
    if selected:
        headers.append(["Sec-WebSocket-Protocol", selected])
    return [*headers, ["Sec-WebSocket-Accept", accept]]


def handshake_frame(
    scope: dict, selected: str | None, response: str | None = None
) -> HandshakeFrame:
    """The mirror's frame; ``response`` is the head the server sent, if known."""
    headers = {
        name.decode("latin1"): value.decode("latin1")
        for name, value in scope.get("headers", [])
        if name.decode("latin1") in SHOWN_HEADERS
    }
    key = headers.get("sec-websocket-key", "")
    accept = accept_key(key) if key else ""
    if response:
        status, sent = parse_response(response)
    else:
        status, sent = SWITCHING, expected_response(accept, selected)
    return {
        "type": "echo.handshake",
        "headers": headers,
        "key": key,
        "accept": accept,
        "offered_protocols": list(scope.get("subprotocols", [])),
        "selected_protocol": selected,
        "response_status": status,
        "response_headers": sent,
    }
