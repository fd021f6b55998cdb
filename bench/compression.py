"""permessage-deflate: bytes on the wire and server CPU per message, on and off.

The clients are ``websockets`` connections (picows has no deflate), each
counting the bytes it reads from its TCP socket; one set offers
permessage-deflate as browsers do, the other offers nothing. Three realistic
frames go per socket through plain ASGI sends (``/bench/duplex/burst/``, as
every reply and snapshot does): a quotes tick, a chat message, and the
history snapshot a chat join sends (``CHAT_HISTORY`` messages). A fourth row
sends ticks through the fan-out (framed once for every subscriber). Server
CPU is the process' user and system time over the burst, per message
received. ``memory`` is the server's RSS per connection once each socket has
been sent one history snapshot (the connection's whole cost, compressor and
all, on a freshly started server).
"""

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta

from websockets.asyncio.client import ClientConnection, connect

from realtime.quotes.protocol import quote_info, tick_frame

WORDS = (
    "今天 行情 不错 hello world 我们 讨论 一下 websocket 的 压缩 效果 lunch "
    "好的 谢谢 明天 见 the market opened higher 涨 跌 基金 净值"
).split()
SYMBOLS = ["600519", "000001", "AAPL", "TSLA", "510300", "MSFT", "0700.HK", "BABA"]
OFFERS = {"deflate": "deflate", "off": None}


def tick(rng: random.Random, at: datetime) -> dict:
    prev = round(rng.uniform(5, 500), 2)
    last = round(prev * (1 + rng.uniform(-0.02, 0.02)), 2)
    return tick_frame(
        quote_info(
            rng.choice(SYMBOLS),
            last=last,
            open=prev,
            high=max(prev, last),
            low=min(prev, last),
            prev_close=prev,
            volume=rng.randint(10_000, 50_000_000),
            at=at,
        )
    )


def message(rng: random.Random, seq: int, at: datetime) -> dict:
    """A ``MessageData`` as chat sends it: mixed Chinese and English text."""
    user = rng.randint(1, 40)
    return {
        "id": 10_000 + seq,
        "seq": seq,
        "kind": "text",
        "user": {"id": user, "name": f"user{user}"},
        "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 25))),
        "image": None,
        "at": (at + timedelta(seconds=seq)).isoformat(),
        "edited_at": None,
        "deleted": False,
    }


def frames(kind: str, count: int, seed: int, history: int = 50) -> list[str]:
    """``count`` different frames of one kind, as the server would write them."""
    rng = random.Random(seed)
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    out = []
    for n in range(count):
        if kind == "tick":
            frame = tick(rng, at + timedelta(milliseconds=n))
        elif kind == "chat":
            frame = {"type": "chat.message", **message(rng, n + 1, at)}
        else:  # the join snapshot: the last ``history`` messages of a room
            first = rng.randint(1, 10_000)
            messages = [message(rng, first + i, at) for i in range(history)]
            frame = {
                "type": "chat.history",
                "messages": messages,
                "has_more": True,
                "last_seq": first + history - 1,
            }
        out.append(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))
    return out


class Counting(ClientConnection):
    """A client connection that counts the bytes the server sent it."""

    received = 0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        super().data_received(data)


async def open_sockets(server, path: str, count: int, offer) -> list[Counting]:
    return [
        await connect(
            server.url + path,
            origin=server.origin,
            compression=offer,
            create_connection=Counting,
            max_size=None,
        )
        for _ in range(count)
    ]


async def drain(ws, count: int) -> None:
    for _ in range(count):
        await asyncio.wait_for(ws.recv(), 30)


async def measure(server, sockets, send, per_socket: int) -> dict:
    """Bytes and server CPU per message while every socket reads ``per_socket``."""
    before = sum(ws.received for ws in sockets)
    cpu = server.cpu_seconds()
    await send()
    await asyncio.gather(*(drain(ws, per_socket) for ws in sockets))
    cpu = server.cpu_seconds() - cpu
    messages = per_socket * len(sockets)
    return {
        "messages": messages,
        "wire_bytes_per_msg": round(
            (sum(ws.received for ws in sockets) - before) / messages
        ),
        "server_us_per_msg": round(cpu / messages * 1e6, 1),
    }


async def unicast(server, kind: str, offer, load) -> dict:
    """Each socket asks for ``count`` frames of ``kind`` and reads them."""
    count = load.compression_messages // (10 if kind == "history" else 1)
    sockets = await open_sockets(
        server, "/bench/duplex/burst/", load.compression_sockets, offer
    )
    await asyncio.gather(*(ws.send(f"{kind} 1") for ws in sockets))
    await asyncio.gather(*(drain(ws, 1) for ws in sockets))

    async def send():
        await asyncio.gather(*(ws.send(f"{kind} {count}") for ws in sockets))

    result = await measure(server, sockets, send, count)
    result["raw_bytes_per_msg"] = round(
        sum(len(f.encode()) for f in frames(kind, 200, 1)) / 200
    )
    result["negotiated"] = sockets[0].response.headers.get("Sec-WebSocket-Extensions")
    for ws in sockets:
        await ws.close()
    return result


async def fanned_out(server, offer, load) -> dict:
    """Ticks published once, delivered to every subscriber by the hub."""
    count = load.compression_messages // 2
    sockets = await open_sockets(
        server, server.spec.sub + "?topics=bench.zip", load.compression_sockets, offer
    )
    async with connect(server.url + server.spec.pub, origin=server.origin) as pub:
        await asyncio.sleep(0.2)

        async def send():
            for frame in frames("tick", count, 2):
                await pub.send(f"e bench.zip {frame}")

        result = await measure(server, sockets, send, count)
    for ws in sockets:
        await ws.close()
    return result


async def memory(server, offer, load) -> dict:
    """Server RSS per connection after each socket got one history snapshot, on
    a fresh process (memory another run freed would hide the growth)."""
    server.stop()
    server.start()
    warm = await open_sockets(server, "/bench/duplex/burst/", 10, offer)
    await asyncio.gather(*(ws.send("history 1") for ws in warm))
    await asyncio.gather(*(drain(ws, 1) for ws in warm))
    await asyncio.sleep(0.5)
    before = server.rss()
    sockets = await open_sockets(
        server, "/bench/duplex/burst/", load.compression_idle, offer
    )
    await asyncio.gather(*(ws.send("history 1") for ws in sockets))
    await asyncio.gather(*(drain(ws, 1) for ws in sockets))
    await asyncio.sleep(0.5)
    after = server.rss()
    for ws in sockets + warm:
        await ws.close()
    return {
        "connections": len(sockets),
        "kib_per_connection": round((after - before) / len(sockets) / 1024, 1),
    }


async def compression(servers, load) -> dict:
    """Every frame kind with and without permessage-deflate, on one server."""
    server = servers[0]
    result = {}
    for name, offer in OFFERS.items():
        runs = {kind: await unicast(server, kind, offer, load) for kind in KINDS}
        runs["fanout tick"] = await fanned_out(server, offer, load)
        runs["memory"] = await memory(server, offer, load)
        result[name] = runs
    return result


KINDS = ("tick", "chat", "history")


def tables(scenarios: dict, table, md: bool) -> list[str]:
    """The compression table, drawn by ``table(title, header, rows, md)``."""
    if "compression" not in scenarios:
        return []
    rows = []
    for server, result in scenarios["compression"].items():
        if "error" in result:
            rows.append([server, "error: " + result["error"][:60]] + [None] * 6)
            continue
        on, off = result["deflate"], result["off"]
        for kind in (*KINDS, "fanout tick"):
            rows.append(
                [
                    f"{server} {kind}",
                    on[kind].get("raw_bytes_per_msg"),
                    off[kind]["wire_bytes_per_msg"],
                    on[kind]["wire_bytes_per_msg"],
                    off[kind]["server_us_per_msg"],
                    on[kind]["server_us_per_msg"],
                ]
            )
        rows.append(
            [
                f"{server} KiB/conn",
                None,
                off["memory"]["kib_per_connection"],
                on["memory"]["kib_per_connection"],
                None,
                None,
            ]
        )
    header = [
        "frames",
        "JSON B",
        "wire B off",
        "wire B deflate",
        "us off",
        "us deflate",
    ]
    title = "Compression: per message received, permessage-deflate off and on"
    return [table(title, header, rows, md)]
