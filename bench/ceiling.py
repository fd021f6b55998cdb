"""The ceiling: a minimal ``websockets`` server with the same three endpoints.

``/sub?topics=a,b`` follows topics, ``/pub`` takes ``"<mode> <topic> <json>"``
frames and ``websockets.broadcast``s the JSON to the topic's sockets, ``/echo``
echoes. No framework, no channel layer: what the raw library can do.

    python -m bench.ceiling PORT
"""

import asyncio
import resource
import sys
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import broadcast, serve

subscribers: dict[str, set] = defaultdict(set)


async def handler(ws):
    url = urlsplit(ws.request.path)
    if url.path.startswith("/sub"):
        topics = [t for t in parse_qs(url.query).get("topics", [""])[0].split(",") if t]
        for topic in topics:
            subscribers[topic].add(ws)
        try:
            await ws.wait_closed()
        finally:
            for topic in topics:
                subscribers[topic].discard(ws)
    elif url.path.startswith("/pub"):
        async for message in ws:
            _mode, topic, payload = message.split(" ", 2)
            broadcast(subscribers.get(topic, ()), payload)
    else:
        async for message in ws:
            await ws.send(message)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, max_size=2**20):
        await asyncio.Future()


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(int(sys.argv[1])))
