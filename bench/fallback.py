"""The fallback transport against WebSocket: bytes and delay per frame, one run.

One client per transport echoes the same quotes ticks (bench/compression.py's
frames, 222 bytes of JSON each) through ``/ws/echo/`` on the project's own
application, one frame at a time, the two transports taking turns frame by
frame so both see the same machine load:

- WebSocket: a ``websockets`` client without permessage-deflate (the event
  stream is not compressed either), counting the bytes it writes and reads on
  its TCP connection, the opening handshake excluded;
- fallback: the event stream ``GET /sse/ws/echo/`` and ``POST /sse/send/``
  on a second, kept-alive connection, both over plain sockets as a browser
  would talk HTTP/1.1, counting every byte each connection writes and reads,
  the stream's response head and accept event excluded.

Delay is the round trip of one frame, from the client's write to the echo
read. Bytes are per frame, in each direction; the fallback's down direction
is the event on the stream plus the POST's ``204`` answer.
"""

import asyncio
import json
import statistics
import time

from websockets.asyncio.client import ClientConnection, connect

from bench.compression import frames

HEAD_END = b"\r\n\r\n"


class Counting(ClientConnection):
    """A client connection that counts the bytes it reads and writes."""

    received = sent = 0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        super().data_received(data)

    def connection_made(self, transport) -> None:
        write = transport.write

        def counted(data) -> None:
            self.sent += len(data)
            write(data)

        transport.write = counted
        super().connection_made(transport)


class Wire:
    """One TCP connection that counts what crosses it."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.sent = self.received = 0

    async def write(self, data: bytes) -> None:
        self.sent += len(data)
        self.writer.write(data)
        await self.writer.drain()

    async def head(self) -> bytes:
        data = await self.reader.readuntil(HEAD_END)
        self.received += len(data)
        return data

    async def chunk(self) -> bytes:
        """One chunk of a chunked body, its size line and CRLF counted."""
        size_line = await self.reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        data = await self.reader.readexactly(size + 2)
        self.received += len(size_line) + len(data)
        return data[:-2]


class FallbackEcho:
    """The echo over the event stream and POSTs, as fallback.js talks to it."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.authority = f"{host}:{port}"
        self.batch = 0
        self.buffer = b""

    async def open(self) -> None:
        self.stream = Wire(*await asyncio.open_connection(self.host, self.port))
        await self.stream.write(
            f"GET /sse/ws/echo/ HTTP/1.1\r\nHost: {self.authority}\r\n"
            "Accept: text/event-stream\r\nSec-Fetch-Site: same-origin\r\n"
            "Sec-Fetch-Mode: cors\r\n\r\n".encode()
        )
        assert b" 200 " in (await self.stream.head()).split(b"\r\n")[0]
        accept = await self.event()
        self.stream_id = json.loads(accept.split(b"data: ", 1)[1])["stream"]
        self.stream.received = self.stream.sent = 0  # the opening is not a frame's
        self.posts = Wire(*await asyncio.open_connection(self.host, self.port))

    async def event(self) -> bytes:
        while b"\n\n" not in self.buffer:
            self.buffer += await self.stream.chunk()
        event, self.buffer = self.buffer.split(b"\n\n", 1)
        return event

    async def round_trip(self, text: str) -> str:
        self.batch += 1
        body = json.dumps([text], ensure_ascii=False).encode()
        await self.posts.write(
            f"POST /sse/send/ HTTP/1.1\r\nHost: {self.authority}\r\n"
            f"Origin: http://{self.authority}\r\nContent-Type: application/json\r\n"
            f"X-Duplex-Stream: {self.stream_id}\r\nX-Duplex-Seq: {self.batch}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        answer = await self.posts.head()
        assert b" 204 " in answer.split(b"\r\n")[0], answer
        event = await self.event()
        return event.removeprefix(b"data: ").decode()

    def bytes_counted(self) -> tuple[int, int]:
        """Bytes (up, down) since the stream was accepted."""
        up = self.stream.sent + self.posts.sent
        return up, self.stream.received + self.posts.received

    async def close(self) -> None:
        for wire in (self.stream, self.posts):
            wire.writer.close()


def figures(up: int, down: int, delays: list[float], count: int) -> dict:
    delays = sorted(delays)
    return {
        "frames": count,
        "up_bytes_per_frame": round(up / count, 1),
        "down_bytes_per_frame": round(down / count, 1),
        "median_ms": round(statistics.median(delays) * 1000, 2),
        "p95_ms": round(delays[int(len(delays) * 0.95)] * 1000, 2),
    }


async def timed(call, text: str, delays: list[float]) -> None:
    started = time.perf_counter()
    echoed = await asyncio.wait_for(call(text), 10)
    delays.append(time.perf_counter() - started)
    assert echoed == text


async def fallback(servers, load) -> dict:
    """The same ticks echoed over WebSocket and over the fallback, in turns."""
    server = servers[0]
    texts = frames("tick", load.fallback_frames, 3)
    ws = await connect(
        server.url + "/ws/echo/", compression=None, create_connection=Counting
    )
    ws.sent = ws.received = 0  # the handshake is not a frame's

    async def ws_round_trip(text: str) -> str:
        await ws.send(text)
        return await ws.recv()

    stream = FallbackEcho("127.0.0.1", server.port)
    await stream.open()
    delays = {"websocket": [], "fallback": []}
    for text in texts:
        await timed(ws_round_trip, text, delays["websocket"])
        await timed(stream.round_trip, text, delays["fallback"])
    result = {
        "websocket": figures(ws.sent, ws.received, delays["websocket"], len(texts)),
        "fallback": figures(*stream.bytes_counted(), delays["fallback"], len(texts)),
        "json_bytes_per_frame": round(sum(len(t.encode()) for t in texts) / len(texts)),
    }
    await ws.close()
    await stream.close()
    return result


def tables(scenarios: dict, table, md: bool) -> list[str]:
    """The fallback table, drawn by ``table(title, header, rows, md)``."""
    if "fallback" not in scenarios:
        return []
    rows = []
    for server, result in scenarios["fallback"].items():
        if "error" in result:
            rows.append([server, "error: " + result["error"][:60]] + [None] * 4)
            continue
        for transport in ("websocket", "fallback"):
            run = result[transport]
            rows.append(
                [
                    f"{transport} ({result['json_bytes_per_frame']} B JSON)",
                    run["up_bytes_per_frame"],
                    run["down_bytes_per_frame"],
                    run["median_ms"],
                    run["p95_ms"],
                ]
            )
    header = ["transport", "up B/frame", "down B/frame", "median ms", "p95 ms"]
    title = "Fallback transport against WebSocket: one echoed tick per round trip"
    return [table(title, header, rows, md)]
