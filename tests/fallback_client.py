"""A fallback-transport client for tests: an event stream and its POSTs.

``AsgiStream`` drives ``project.asgi.application`` in process;
``HttpStream`` talks to a real daphne over a socket (tests/integration).
Both parse the stream's events (docs/protocol.md, "Fallback transport").
"""

import asyncio
import base64
import json

from asgiref.testing import ApplicationCommunicator
from channels.testing import HttpCommunicator

from tests.frames import check_frame

HOST = "localhost"
ORIGIN = f"http://{HOST}"
BROWSER = [(b"host", HOST.encode()), (b"sec-fetch-site", b"same-origin")]


def parse_events(buffer: str) -> tuple[list[tuple[str, str]], str]:
    """Complete events in ``buffer`` as (name, data), and the rest."""
    events = []
    while "\n\n" in buffer:
        block, buffer = buffer.split("\n\n", 1)
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if data:
            events.append((name, "\n".join(data)))
    return events, buffer


def message_of(name: str, data: str):
    """The WebSocket message an event stands for."""
    if name == "text":
        return json.loads(data)
    if name == "binary":
        return base64.b64decode(data)
    return data


def post_body(frames) -> bytes:
    """A POST's body: dicts as JSON text frames, bytes as binary frames."""
    items = [
        json.dumps(f)
        if isinstance(f, dict)
        else {"binary": base64.b64encode(f).decode()}
        if isinstance(f, bytes)
        else f
        for f in frames
    ]
    return json.dumps(items).encode()


class StreamEvents:
    """What both clients share: reading frames from the parsed events."""

    def __init__(self):
        self.pending: list[tuple[str, str]] = []
        self.buffer = ""
        self.stream_id = None
        self.accepted_protocol = None
        self.batch = 0

    def feed(self, chunk: bytes) -> None:
        events, self.buffer = parse_events(self.buffer + chunk.decode())
        self.pending.extend(events)

    async def event(self, wait: float = 5) -> tuple[str, str]:
        while not self.pending:
            await self.read(wait)
        return self.pending.pop(0)

    async def frame(self, wait: float = 5):
        """The next frame the socket's consumer sent (JSON frames are checked)."""
        name, data = await self.event(wait)
        assert name in ("message", "text", "binary"), (name, data)
        message = message_of(name, data)
        if isinstance(message, str) and message.startswith("{"):
            frame = json.loads(message)
            check_frame(frame)
            return frame
        return message

    async def next_frame(self, *types, wait: float = 5) -> dict:
        while True:
            frame = await self.frame(wait)
            if isinstance(frame, dict) and frame.get("type") in types:
                return frame

    async def closed(self, wait: float = 5) -> dict:
        """Skip frames until the close event; its code and reason."""
        while True:
            name, data = await self.event(wait)
            if name == "close":
                return json.loads(data)

    def accepted(self, name: str, data: str) -> None:
        assert name == "accept", (name, data)
        accept = json.loads(data)
        self.stream_id = accept["stream"]
        self.accepted_protocol = accept["protocol"]

    def post_headers(self, batch=None, stream_id=None) -> list[tuple[bytes, bytes]]:
        batch = self.batch + 1 if batch is None else batch
        return [
            (b"content-type", b"application/json"),
            (b"x-duplex-stream", (stream_id or self.stream_id).encode()),
            (b"x-duplex-seq", str(batch).encode()),
        ]


class AsgiStream(StreamEvents):
    """A stream on the in-process application, with POSTs through it too."""

    def __init__(self, application, path, headers=(), query=b""):
        super().__init__()
        self.application = application
        self.headers = [*BROWSER, *headers]
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/sse" + path,
            "raw_path": ("/sse" + path).encode(),
            "query_string": query,
            "root_path": "",
            "headers": self.headers,
            "client": ("127.0.0.1", 40000),
            "server": (HOST, 80),
        }
        self.communicator = ApplicationCommunicator(application, scope)
        self.status = None

    async def open(self, wait: float = 5) -> int:
        """Send the request; the status, and for 200 the accept event read."""
        await self.communicator.send_input({"type": "http.request", "body": b""})
        start = await self.communicator.receive_output(wait)
        assert start["type"] == "http.response.start"
        self.status = start["status"]
        self.response_headers = dict(start["headers"])
        if self.status == 200:
            self.accepted(*await self.event(wait))
        return self.status

    async def read(self, wait: float) -> None:
        message = await self.communicator.receive_output(wait)
        assert message["type"] == "http.response.body"
        if not message.get("more_body"):
            self.ended = True
        self.feed(message.get("body", b""))

    async def post(self, frames, headers=None, origin=ORIGIN, body=None, **kwargs):
        """POST ``frames`` (see ``post_body``), or ``body`` as is; the response."""
        head = self.post_headers(**kwargs) if headers is None else headers
        cookies = [
            (k, v) for k, v in self.headers if k in (b"cookie", b"authorization")
        ]
        extra = [(b"origin", origin.encode())] if origin else []
        communicator = HttpCommunicator(
            self.application,
            "POST",
            "/sse/send/",
            body=post_body(frames) if body is None else body,
            headers=[(b"host", HOST.encode()), *extra, *cookies, *head],
        )
        response = await communicator.get_response(timeout=5)
        if response["status"] == 204 and headers is None and "batch" not in kwargs:
            self.batch += 1  # the next batch number, as client.js counts them
        return response

    async def close(self) -> None:
        await self.communicator.send_input({"type": "http.disconnect"})
        try:
            await self.communicator.wait(5)
        except asyncio.CancelledError:
            pass


class HttpStream(StreamEvents):
    """A stream on a real server, read over a plain socket as a browser's
    EventSource would; ``post`` may go to any other server of the site."""

    def __init__(self, server, path, cookie=None, site_host=None, ssl=None):
        super().__init__()
        self.server, self.path, self.cookie, self.ssl = server, path, cookie, ssl
        self.scheme = "https" if ssl else "http"
        # The Host and Origin the page sees: one site, whichever process answers.
        self.site_host = site_host or f"127.0.0.1:{server.port}"
        self.reader = self.writer = None
        self.status = None

    async def open(self, wait: float = 10) -> int:
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.server.port, ssl=self.ssl
        )
        lines = [
            f"GET /sse{self.path} HTTP/1.1",
            f"Host: {self.site_host}",
            "Accept: text/event-stream",
            "Sec-Fetch-Site: same-origin",
            "Sec-Fetch-Mode: cors",
        ]
        if self.cookie:
            lines.append(f"Cookie: {self.cookie}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), wait)
        self.status = int(head.split(b" ", 2)[1])
        self.chunked = b"transfer-encoding: chunked" in head.lower()
        if self.status == 200:
            self.accepted(*await self.event(wait))
        return self.status

    async def read(self, wait: float) -> None:
        if not self.chunked:
            self.feed(await asyncio.wait_for(self.reader.read(65536), wait))
            return
        size = int(await asyncio.wait_for(self.reader.readline(), wait), 16)
        chunk = await asyncio.wait_for(self.reader.readexactly(size + 2), wait)
        self.feed(chunk[:-2])

    def post_sync(self, server, frames) -> int:
        """POST ``frames`` to ``server`` (blocking); the status."""
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            server.url + "/sse/send/", data=post_body(frames), method="POST"
        )
        for name, value in self.post_headers():
            request.add_header(name.decode().title(), value.decode())
        request.add_header("Host", self.site_host)
        request.add_header("Origin", f"{self.scheme}://{self.site_host}")
        if self.cookie:
            request.add_header("Cookie", self.cookie)
        try:
            with urllib.request.urlopen(
                request, timeout=10, context=self.ssl
            ) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        if status == 204:
            self.batch += 1
        return status

    async def post(self, server, frames) -> int:
        return await asyncio.to_thread(self.post_sync, server, frames)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
