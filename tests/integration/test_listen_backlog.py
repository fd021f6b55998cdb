"""A reconnect storm while the process is busy is queued by the kernel, not
dropped: daphne listens with Twisted's backlog of 50, and a SYN past a full
accept queue is dropped, so the client waits its SYN retries (1, 3, 7 s...)
and ``client.js`` gives up on a socket stuck in CONNECTING after 10 s.
``realtime.core.lifecycle`` listens again with ``DUPLEX_LISTEN_BACKLOG``."""

import asyncio
import os
import selectors
import signal
import socket
import time

import pytest
from websockets.asyncio.client import connect

from tests.servers import DaphneProcess, server_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CLIENTS = 300


@pytest.fixture
def server(live_database_url, redis_prefix, tmp_path):
    from tests.conftest import REDIS_URL

    env = server_env(
        live_database_url, REDIS_URL, redis_prefix, DUPLEX_MAX_HANDSHAKES="1000"
    )
    process = DaphneProcess(env, tmp_path, "backlog")
    yield process.start()
    process.stop()


def connect_all(host: str, port: int, count: int, wait: float) -> list[socket.socket]:
    """Start ``count`` TCP connections at once; those the kernel completed
    within ``wait`` seconds (a dropped SYN is retried only after 1 s)."""
    pending = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((host, port))
        pending.append(sock)
    done: list[socket.socket] = []
    with selectors.DefaultSelector() as selector:
        for sock in pending:
            selector.register(sock, selectors.EVENT_WRITE)
        deadline = time.monotonic() + wait
        while len(selector.get_map()) and time.monotonic() < deadline:
            for key, _ in selector.select(0.1):
                selector.unregister(key.fileobj)
                if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    done.append(key.fileobj)
    for sock in pending:
        if sock not in done:
            sock.close()
    return done


async def echo_over(server, sock: socket.socket, n: int) -> str:
    async with connect(
        server.ws_url + "/ws/echo/", sock=sock, origin=server.origin, open_timeout=60
    ) as ws:
        await ws.send(f"hello {n}")
        return await ws.recv()


def test_a_storm_against_a_paused_process_waits_in_the_queue_not_dropped(server):
    """300 clients connect while the process does not run (SIGSTOP: a long
    fan-out, a pause): the kernel completes every connection and queues it;
    once the process runs again, every one of them is upgraded and echoed."""
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        # Less than the first SYN retry: a dropped SYN is not connected yet.
        sockets = connect_all(server.host, server.port, CLIENTS, wait=0.8)
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    assert len(sockets) == CLIENTS, (
        f"the kernel queued {len(sockets)} of {CLIENTS} connections: the others'"
        " SYNs were dropped (listen backlog too short)"
    )

    async def all_echo():
        return await asyncio.gather(
            *(echo_over(server, sock, n) for n, sock in enumerate(sockets))
        )

    replies = asyncio.run(all_echo())
    assert replies == [f"hello {n}" for n in range(CLIENTS)]
