"""The fallback transport: the same consumers over server-sent events and POST.

For a browser whose network lets HTTP through but not WebSocket.
``GET /sse/<socket path>`` (``/sse/ws/chat/lobby/``) opens an event stream;
the adapter runs that path's WebSocket consumer, through the same middleware
as a handshake (origin, admission, outages, session, token), in a websocket
scope built from the request: ``websocket.connect`` first, each frame the
client POSTs as ``websocket.receive``, ``websocket.disconnect`` when the
request ends. What the consumer sends goes out as events (docs/protocol.md,
"Fallback transport"): ``accept`` (the stream id), unnamed ``data:`` events
(text frames), ``text`` (a JSON string, for text SSE cannot carry as is),
``binary`` (base64) and ``close`` (code and reason).

``POST /sse/send/`` carries frames to a stream wherever it lives: the stream
id is the stream's channel-layer channel, signed, with a hash of the
credential that opened it (the session cookie or the bearer token). Any
process checks the signature and the credential and ``layer.send``s the
frames to that channel; no sticky sessions. The id is also the POST's CSRF
token: only a page that read the stream knows it, it travels in a header
(which a cross-site form cannot set), and the POST's Origin must pass the
handshake's same-origin rule.

An EventSource request sends no Origin on the same origin: the stream then
needs ``Sec-Fetch-Site: same-origin`` (a browser sets it and a page cannot),
and is not a navigation; the adapter gives the consumer the page's origin.

Bounds: a POST holds at most ``MAX_BATCH`` frames and ``MAX_POST_BYTES``; a
stream holds at most ``MAX_PENDING`` frames its consumer has not taken, and
is closed with 1008 past that (a flood, as on a socket); a stream whose
client does not read is closed once ``OUTBOX_MAX_BYTES`` wait in its
connection's buffer.
"""

import asyncio
import base64
import json
import logging
from collections import deque
from urllib.parse import parse_qsl, urlencode

from channels.layers import get_channel_layer
from django.conf import settings
from django.core import signing
from django.http.cookie import parse_cookie
from django.utils.crypto import salted_hmac

from realtime.core import lifecycle
from realtime.core.envelope import CloseCode
from realtime.core.fanout.hub import spawn
from realtime.core.outages import OUTAGE_RETRY, SERVICE_ERRORS
from realtime.core.security import connection_scheme, origin_allowed
from realtime.core.transport import buffered_bytes, http_transport

log = logging.getLogger(__name__)

PREFIX = "/sse"
SEND_PATH = "/sse/send/"
STREAM_HEADER = b"x-duplex-stream"
SEQ_HEADER = b"x-duplex-seq"
SUBPROTOCOL_PARAM = "_subprotocol"
SALT = "duplex.fallback"
FALLBACK_KEY = "duplex.fallback"  # in the consumer's scope: True on a stream
KEEPALIVE = 15  # seconds between comments that keep proxies and dead peers honest
MAX_BATCH = 32  # frames per POST
MAX_POST_BYTES = 256 * 1024
MAX_PENDING = 64  # frames a stream holds for its consumer before closing 1008
LOST_FRAMES = CloseCode.INTERNAL_ERROR  # a POST's frames never reached the stream
RETRY = [(b"retry-after", str(OUTAGE_RETRY).encode())]
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
]


def credential(scope) -> str:
    """A keyed hash of what authenticates the request: its bearer token, else
    its session cookie (empty for a visitor without one). The stream id shows
    it to the page, which learns nothing from it."""
    headers = dict(scope.get("headers", []))
    value = headers.get(b"authorization", b"").decode("latin1")
    if not value:
        cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin1"))
        value = cookies.get(settings.SESSION_COOKIE_NAME, "")
    return salted_hmac(SALT, value).hexdigest()[:32] if value else ""


def sse_event(text: str | None = None, data: bytes | None = None) -> bytes:
    """One message as an event: plain ``data:`` lines when SSE carries the text
    unchanged (no CR, not empty), else a JSON string or base64."""
    if data is not None:
        return b"event: binary\ndata: " + base64.b64encode(data) + b"\n\n"
    if not text or "\r" in text:
        return named_event("text", text or "")
    lines = "".join(f"data: {line}\n" for line in text.split("\n"))
    return (lines + "\n").encode()


def named_event(name: str, value) -> bytes:
    return f"event: {name}\ndata: {json.dumps(value)}\n\n".encode()


async def respond(send, status: int, text: str, headers=()) -> None:
    head = [(b"content-type", b"text/plain; charset=utf-8"), *headers]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": text.encode()})


def stream_origin(scope) -> list:
    """The request's headers, with the page's Origin where a same-origin
    EventSource sent none; a request that is not one is left without."""
    headers = list(scope.get("headers", []))
    named = dict(headers)
    if b"origin" in named or b"authorization" in named:
        return headers
    same = named.get(b"sec-fetch-site") == b"same-origin"
    if same and named.get(b"sec-fetch-mode") != b"navigate" and b"host" in named:
        origin = f"{connection_scheme(scope)}://{named[b'host'].decode('latin1')}"
        headers.append((b"origin", origin.encode("latin1")))
    return headers


def websocket_scope(scope) -> dict:
    """The websocket scope a handshake for this stream's socket path would have."""
    path = scope["path"][len(PREFIX) :]
    query = parse_qsl(scope.get("query_string", b"").decode("latin1"), True)
    protocols = [v for k, v in query if k == SUBPROTOCOL_PARAM]
    rest = urlencode([(k, v) for k, v in query if k != SUBPROTOCOL_PARAM])
    return {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "http_version": scope.get("http_version", "1.1"),
        "scheme": "wss" if scope.get("scheme") == "https" else "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": rest.encode("latin1"),
        "root_path": scope.get("root_path", ""),
        "headers": stream_origin(scope),
        "client": scope.get("client"),
        "server": scope.get("server"),
        "subprotocols": protocols,
        FALLBACK_KEY: True,
    }


class EventStream:
    """One stream: the consumer's ASGI peer, in place of daphne's socket."""

    def __init__(self, app, scope, receive, send):
        self.app, self.scope, self.http_receive, self.http_send = (
            app,
            scope,
            receive,
            send,
        )
        self.transport = http_transport(send)
        self.inbox: deque[dict] = deque()
        self.wake = asyncio.Event()
        self.connected = False
        self.started = self.finished = False
        self.closed_code: int | None = None  # set: the consumer hears disconnect
        self.last_batch = 0
        self.stream_id = ""
        self.channel = ""
        self.tasks: list[asyncio.Future] = []
        self.ended = False  # the consumer has returned

    def close_for_restart(self) -> None:
        """SIGTERM: close with 1012, as the process' sockets are."""
        reason = {"reason": "server restarting"}
        spawn(self.finish(CloseCode.SERVICE_RESTART, reason))

    async def run(self) -> None:
        layer = get_channel_layer()
        try:
            self.channel = await layer.new_channel("fallback.")
        except SERVICE_ERRORS as exc:  # Redis is down: as a handshake's 1013
            log.warning("fallback stream failed: %s", exc, extra={"event": "outage"})
            return await respond(self.http_send, 503, "unavailable", RETRY)
        claim = {"c": self.channel, "h": credential(self.scope)}
        self.stream_id = signing.dumps(claim, salt=SALT, compress=True)
        self.tasks = [spawn(self.pump(layer)), spawn(self.watch())]
        lifecycle.track_stream(self)
        try:
            await self.app(websocket_scope(self.scope), self.receive, self.send)
        finally:
            self.ended = True
            for task in self.tasks:
                task.cancel()
            await self.finish(CloseCode.INTERNAL_ERROR, "")

    async def receive(self) -> dict:
        """The consumer's next event: connect, a frame, or disconnect."""
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        while True:
            if self.inbox:
                return self.inbox.popleft()
            if self.closed_code is not None:
                return {"type": "websocket.disconnect", "code": self.closed_code}
            self.wake.clear()
            await self.wake.wait()

    async def send(self, message: dict) -> None:
        """Turn the consumer's websocket messages into the response."""
        kind = message["type"]
        if self.finished:
            return
        if kind == "websocket.accept":
            await self.accept(message.get("subprotocol"))
        elif kind == "websocket.close":
            if not self.started:  # refused in the handshake: HTTP 403, as there
                self.finished = True
                self.gone(int(message.get("code") or CloseCode.NORMAL))
                await respond(self.http_send, 403, "refused")
                return
            await self.finish(message.get("code") or CloseCode.NORMAL, message)
        elif kind == "websocket.send" and self.started:
            if buffered_bytes(self.transport) > settings.DUPLEX["OUTBOX_MAX_BYTES"]:
                log.warning("Closing a fallback stream whose client does not read")
                unread = {"reason": "Too many unread frames."}
                await self.finish(CloseCode.POLICY_VIOLATION, unread)
                return
            await self.write(sse_event(message.get("text"), message.get("bytes")))

    async def accept(self, subprotocol: str | None) -> None:
        self.started = True
        start = {"type": "http.response.start", "status": 200}
        await self.http_send({**start, "headers": STREAM_HEADERS})
        await self.write(
            named_event("accept", {"stream": self.stream_id, "protocol": subprotocol})
        )
        self.tasks.append(spawn(self.keepalive()))

    async def write(self, body: bytes) -> None:
        await self.http_send(
            {"type": "http.response.body", "body": body, "more_body": True}
        )

    async def finish(self, code: int, message) -> None:
        """Send the close event (when open) and end the response."""
        if self.finished:
            return
        self.finished = True
        if not self.started:
            await respond(self.http_send, 500, "no answer")
            return
        reason = (message.get("reason") or "") if isinstance(message, dict) else ""
        self.gone(int(code))
        await self.write(named_event("close", {"code": int(code), "reason": reason}))
        await self.http_send({"type": "http.response.body", "body": b""})

    def gone(self, code: int) -> None:
        """The connection is over: the consumer hears it on its next receive."""
        if self.closed_code is None:
            self.closed_code = code
        self.wake.set()

    async def watch(self) -> None:
        """Notice the client going away (it closed the stream or was cut off)."""
        while True:
            message = await self.http_receive()
            if message["type"] == "http.disconnect":
                self.finished = True
                self.gone(CloseCode.GOING_AWAY)
                return

    async def keepalive(self) -> None:
        while not self.finished:
            await asyncio.sleep(KEEPALIVE)
            if not self.finished:
                await self.write(b": keepalive\n\n")

    async def pump(self, layer) -> None:
        """Take every POSTed batch off the layer at once (the layer's own queue
        is unbounded), in order; a repeated batch is skipped, a lost one ends
        the stream, and too many frames waiting close it as a flood."""
        while self.closed_code is None:
            batch = await layer.receive(self.channel)
            number = batch.get("n", 0)
            if number <= self.last_batch:
                continue  # a POST the client retried after its answer was lost
            if number != self.last_batch + 1:
                await self.finish(LOST_FRAMES, {"reason": "lost frames"})
                return
            self.last_batch = number
            frames = batch.get("frames", [])
            if len(self.inbox) + len(frames) > MAX_PENDING:
                await self.finish(CloseCode.POLICY_VIOLATION, {"reason": "flood"})
                return
            for frame in frames:
                key = "bytes" if isinstance(frame, bytes) else "text"
                self.inbox.append({"type": "websocket.receive", key: frame})
            self.wake.set()


class FallbackRouter:
    """ASGI middleware for HTTP: ``/sse/`` requests to the fallback, the rest on."""

    def __init__(self, http_app, websocket_app):
        self.http_app = http_app
        self.websocket_app = websocket_app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX + "/"):
            return await self.http_app(scope, receive, send)
        if path == SEND_PATH:
            return await post_frames(scope, receive, send)
        if scope["method"] != "GET":
            return await respond(send, 405, "GET opens a stream", [(b"allow", b"GET")])
        if lifecycle.draining():  # as a handshake is refused: try another process
            return await respond(send, 503, "restarting", [(b"retry-after", b"1")])
        await EventStream(self.websocket_app, scope, receive, send).run()


class Refused(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


async def post_frames(scope, receive, send) -> None:
    """``POST /sse/send/``: hand a batch of frames to the stream's consumer."""
    try:
        channel, number, frames = await read_post(scope, receive)
        await get_channel_layer().send(
            channel, {"type": "fallback.frames", "n": number, "frames": frames}
        )
    except Refused as exc:
        return await respond(send, exc.status, exc.detail)
    except SERVICE_ERRORS as exc:
        log.warning("fallback POST failed: %s", exc, extra={"event": "outage"})
        return await respond(send, 503, "unavailable", RETRY)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def read_post(scope, receive) -> tuple[str, int, list]:
    """Check a POST as a handshake is checked; its channel, batch and frames."""
    if scope["method"] != "POST":
        raise Refused(405, "POST frames here")
    headers = dict(scope.get("headers", []))
    token_client = b"authorization" in headers and b"origin" not in headers
    if not token_client and not origin_allowed(scope):
        raise Refused(403, "cross-origin")
    try:
        claim = signing.loads(headers.get(STREAM_HEADER, b"").decode(), salt=SALT)
    except (signing.BadSignature, UnicodeDecodeError):
        raise Refused(403, "unknown stream") from None
    if claim.get("h") != credential(scope):
        raise Refused(403, "not your stream")
    if not headers.get(b"content-type", b"").startswith(b"application/json"):
        raise Refused(415, "send application/json")
    try:
        number = int(headers.get(SEQ_HEADER, b""))
    except ValueError:
        raise Refused(400, "X-Duplex-Seq must be an integer") from None
    if not 0 < number < 2**53:
        raise Refused(400, "X-Duplex-Seq must be positive")
    return claim["c"], number, parse_frames(await read_body(receive))


async def read_body(receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400, "incomplete body")
        body += message.get("body", b"")
        if len(body) > MAX_POST_BYTES:
            raise Refused(413, f"at most {MAX_POST_BYTES} bytes per POST")
        if not message.get("more_body"):
            return body


def parse_frames(body: bytes) -> list[str | bytes]:
    """A JSON array of frames: strings (text) or ``{"binary": base64}``."""
    try:
        items = json.loads(body)
    except ValueError:
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(items, list) or not items:
        raise Refused(400, "send a non-empty JSON array of frames")
    if len(items) > MAX_BATCH:
        raise Refused(413, f"at most {MAX_BATCH} frames per POST")
    frames: list[str | bytes] = []
    for item in items:
        if isinstance(item, str):
            frames.append(item)
        elif isinstance(item, dict) and isinstance(item.get("binary"), str):
            try:
                frames.append(base64.b64decode(item["binary"], validate=True))
            except ValueError:
                raise Refused(400, "bad base64") from None
        else:
            raise Refused(400, 'a frame is a string or {"binary": base64}')
    return frames
