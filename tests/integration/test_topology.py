"""The production topology: nginx with TLS in front of two daphne processes."""

import asyncio
import json
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest
from websockets.asyncio.client import connect

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
