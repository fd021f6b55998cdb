"""The production topology: nginx with TLS in front of two daphne processes."""

import asyncio
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.fallback_client import HttpStream
from tests.integration.http_session import Browser
from tests.integration.topology import ChatClient
from tests.servers import ROOT

pytestmark = pytest.mark.integration


async def open_sockets(topology, count: int, path: str = "/ws/site/"):
    return [
        await connect(
            topology.ws_url + path, origin=topology.url, ssl=topology.ssl_context()
        )
        for _ in range(count)
    ]


def per_process_connections(topology) -> list[int]:
    return [daphne.log().count('"WSCONNECT /ws/site/"') for daphne in topology.daphnes]


async def announce(topology, text: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "manage.py", "announce", text, cwd=ROOT, env=topology.env,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    assert await process.wait() == 0


async def test_wss_clients_on_both_processes_receive_a_publish(topology):
    """Sockets spread over both daphne processes by nginx all get one announcement."""
    sockets = await open_sockets(topology, 6)
    assert all(count > 0 for count in per_process_connections(topology))
    await announce(topology, "over TLS / 加密")
    for ws in sockets:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame["text"] == "over TLS / 加密"
    for ws in sockets:
        await ws.close()


async def test_fallback_stream_passes_nginx_unbuffered(topology):
    """An event stream through nginx and TLS gets each frame as it is sent (not
    when a buffer fills), and its POSTs reach it from either process."""
    stream = HttpStream(topology, "/ws/site/", ssl=topology.ssl_context())
    assert await stream.open() == 200
    await announce(topology, "over the fallback / 备用")
    frame = await stream.next_frame("site.announcement", wait=10)
    assert frame["text"] == "over the fallback / 备用"
    for _ in range(4):  # least_conn spreads them over both processes
        assert await stream.post(topology, [{"type": "ping"}]) == 204
        assert await stream.next_frame("pong", wait=10) == {"type": "pong"}
    await stream.close()


def test_nginx_serves_static_files_and_proxies_pages(topology):
    """Static files come from nginx itself; pages come from daphne with HSTS."""
    context = topology.ssl_context()
    with urllib.request.urlopen(
        topology.url + "/static/realtime/js/client.js", context=context
    ) as r:
        assert r.status == 200 and r.headers["Server"].startswith("nginx")
        assert b"Duplex" in r.read()
    with urllib.request.urlopen(topology.url + "/", context=context) as r:
        assert r.status == 200
        assert "max-age=31536000" in r.headers["Strict-Transport-Security"]


def test_nginx_caches_hashed_static_files_for_a_year(topology):
    """The page names client.js by its hash, which nginx marks immutable for a
    year; the plain name (not hashed, so it changes in place) is revalidated."""
    context = topology.ssl_context()
    with urllib.request.urlopen(topology.url + "/", context=context) as r:
        page = r.read().decode()
    # The import map sends every import of client.js to its hashed name.
    hashed = re.search(r'"(/static/realtime/js/client\.[0-9a-f]{12}\.js)"', page)
    assert hashed, "the page does not name a hashed client.js"
    with urllib.request.urlopen(topology.url + hashed[1], context=context) as r:
        assert r.status == 200 and b"Duplex" in r.read()
        cache = r.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache
    with urllib.request.urlopen(
        topology.url + "/static/realtime/js/client.js", context=context
    ) as r:
        assert r.status == 200
        assert r.headers["Cache-Control"] == "no-cache"


async def test_sigterm_sends_clients_through_nginx_to_the_other_process(topology):
    """A stopped process closes its sockets with 1012; they reconnect elsewhere."""
    sockets = await open_sockets(topology, 4)
    stopping = topology.daphnes[0]
    on_stopping = stopping.log().count('"WSCONNECT /ws/site/"')
    stopping.proc.send_signal(signal.SIGTERM)
    done, _ = await asyncio.wait(
        [asyncio.ensure_future(ws.wait_closed()) for ws in sockets], timeout=8
    )
    closed = [ws.close_code for ws in sockets if ws.close_code is not None]
    assert len(done) == len(closed) == on_stopping > 0
    assert set(closed) == {1012}
    assert await asyncio.to_thread(stopping.proc.wait, 10) == 0
    again = await open_sockets(topology, len(closed))
    await announce(topology, "still here")
    for ws in again:
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["text"] == "still here"
    for ws in [*sockets, *again]:
        await ws.close()


def test_a_trickling_handshake_is_cut_by_nginx(topology):
    """A client sending its handshake a byte at a time is disconnected (10 s limit)."""
    raw = socket.create_connection(("127.0.0.1", topology.port))
    tls = topology.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")
    request = b"GET /ws/site/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    started = time.monotonic()
    cut = False
    for byte in request:
        try:
            tls.send(bytes([byte]))
        except (ssl.SSLError, OSError):
            cut = True
            break
        time.sleep(0.5)
        if time.monotonic() - started > 20:
            break
    tls.close()
    assert cut, (
        "nginx should drop a header that takes longer than client_header_timeout"
    )
    assert time.monotonic() - started < 16


@pytest.fixture
def chat_topology(live_database_url, redis_prefix, tmp_path):
    """The topology with chat's flood limit raised for one fast writer."""
    from tests.conftest import REDIS_URL
    from tests.integration.topology import Topology

    env = {"DUPLEX_CHAT_RATE": "50", "DUPLEX_CHAT_BURST": "100"}
    site = Topology(live_database_url, REDIS_URL, redis_prefix, tmp_path, **env)
    try:
        yield site.start()
    finally:
        site.stop()


@pytest.mark.django_db(transaction=True)
async def test_sigterm_during_a_chat_burst_loses_and_duplicates_nothing(
    chat_topology, make_user
):
    """While ann writes 60 messages, the daphne under the chat sockets stops with
    SIGTERM; clients reconnect through nginx and resume: the reader gets every
    stored message exactly once, in seq order."""
    from realtime.chat.models import Message, Room

    topology = chat_topology
    room = await sync_to_async(Room.objects.create)(slug="lobby", name="Lobby")
    for name in ("ann", "bob"):
        await sync_to_async(make_user)(name)
    sessions = []
    for name in ("ann", "bob"):
        visitor = Browser(topology.url, context=topology.ssl_context())
        sessions.append(await asyncio.to_thread(visitor.log_in, name, f"pw-{name}-123"))
    writer, reader = (
        ChatClient(topology, sessions[0]),
        ChatClient(topology, sessions[1]),
    )
    await writer.open()
    await reader.open()

    async def write():
        for n in range(60):
            if n == 20:
                victims = [
                    d for d in topology.daphnes if '"WSCONNECT /ws/chat/' in d.log()
                ]
                victims[0].proc.send_signal(signal.SIGTERM)
            try:
                await writer.ws.send(json.dumps({"type": "chat.send", "text": f"m{n}"}))
            except ConnectionClosed:
                pass  # in flight to the stopping process: never stored
            await asyncio.sleep(0.1)

    writing = asyncio.ensure_future(write())
    reading = asyncio.ensure_future(reader.run(lambda: writing.done() and settled()))
    draining = asyncio.ensure_future(writer.run(writing.done))

    stored: list[int] = []

    def settled():
        return bool(stored) and reader.last_seq >= stored[-1]

    await writing
    await draining
    stored[:] = await sync_to_async(
        lambda: list(
            Message.objects.filter(room=room)
            .order_by("seq")
            .values_list("seq", flat=True)
        )
    )()
    await asyncio.wait_for(reading, 20)
    print(
        f"sent 60, stored {len(stored)}, reader received {len(reader.seen)} "
        f"(distinct {len(set(reader.seen))}), closes {reader.closes + writer.closes}"
    )
    assert 1012 in reader.closes + writer.closes
    assert len(stored) >= 50
    assert reader.seen == stored  # every stored message, once, in order
    for client in (writer, reader):
        await client.ws.close()
