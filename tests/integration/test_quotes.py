"""Quotes on real processes: the feed on its own, two daphnes on Redis, and a
client too slow to read."""

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from websockets.asyncio.client import connect

from project.config import redis_channel_layer
from realtime.core import fanout
from realtime.demo import seed_instruments
from realtime.quotes.protocol import quote_info, tick_frame, topic
from tests.conftest import REDIS_URL
from tests.servers import ROOT, DaphneProcess, server_env

pytestmark = pytest.mark.integration

SYMBOLS = ["AAPL", "MSFT", "NVDA", "600519.SS", "0700.HK"]


@pytest.fixture
def market_feed():
    """``market_feed(server, **env)``: ``manage.py run_feeds market`` as its own
    process, on the server's database and Redis; stopped at teardown."""
    started = []

    def start(server, **env):
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "run_feeds", "market"],
            cwd=ROOT,
            env={**server.env, **{k: str(v) for k, v in env.items()}},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def subscribed(server, symbols):
    ws = await connect(server.ws_url + "/ws/quotes/", origin=server.origin)
    assert json.loads(await ws.recv())["type"] == "quotes.instruments"
    await ws.send(json.dumps({"type": "quotes.subscribe", "symbols": symbols}))
    assert json.loads(await ws.recv())["type"] == "quotes.snapshot"
    return ws


async def collect_ticks(ws, count):
    ticks = []
    while len(ticks) < count:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if frame["type"] == "quotes.tick":
            ticks.append((frame["symbol"], frame["ts"], frame["last"]))
    return ticks


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


async def test_feed_process_ticks_reach_subscribers_on_two_daphne_processes(
    daphne, market_feed
):
    """The standalone feed's ticks arrive, identical, on sockets of both servers,
    and it keeps the latest quotes and chart history in the database."""
    await sync_to_async(seed_instruments)()
    a, b = daphne(), daphne()
    on_a = await subscribed(a, ["AAPL", "MSFT", "NVDA"])
    on_b = await subscribed(b, ["AAPL", "MSFT", "NVDA"])
    market_feed(a, DUPLEX_MARKET_INTERVAL=0.2, DUPLEX_MARKET_SEED=4)
    got_a, got_b = await asyncio.gather(
        collect_ticks(on_a, 15), collect_ticks(on_b, 15)
    )
    start = max(got_a[0][1], got_b[0][1])
    end = min(got_a[-1][1], got_b[-1][1])
    window_a = [t for t in got_a if start <= t[1] <= end]
    window_b = [t for t in got_b if start <= t[1] <= end]
    assert len(window_a) >= 5 and window_a == window_b
    assert {t[0] for t in got_a} <= {"AAPL", "MSFT", "NVDA"}
    await on_a.close()
    await on_b.close()

    latest = {q["symbol"]: q for q in get_json(b.url + "/quotes/api/latest/")["quotes"]}
    assert latest["AAPL"]["ts"] is not None
    points = get_json(a.url + "/quotes/api/history/AAPL/")["points"]
    assert len(points) >= 2


class RawClient:
    """A WebSocket client on a bare socket, so the test decides when it reads."""

    def __init__(self, server):
        self.sock = socket.socket()
        # A small receive window: the server's buffers fill fast once we stop.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                "GET /ws/quotes/ HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nOrigin: {server.origin}\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101")

    def send_json(self, frame):
        payload = json.dumps(frame).encode()
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv_json(self):
        """The next text message (server frames are unmasked and unfragmented)."""
        while True:
            opcode, length = self._read(2)
            length &= 0x7F
            if length == 126:
                length = int.from_bytes(self._read(2), "big")
            elif length == 127:
                length = int.from_bytes(self._read(8), "big")
            payload = self._read(length)
            if opcode & 0x0F == 0x1:
                return json.loads(payload)


@pytest.fixture
def patient_daphne(live_database_url, redis_prefix, tmp_path):
    """daphne that waits long for pongs: a client that does not read cannot answer
    a ping queued behind megabytes, and the kernel's send buffer (autotuned up to
    4 MiB here) must fill before daphne's own buffer passes the outbox's high
    water, which takes longer than the default 20 s ping interval on 2 cores."""
    env = server_env(live_database_url, REDIS_URL, redis_prefix)
    patience = ["--ping-interval", "300", "--ping-timeout", "300"]
    server = DaphneProcess(env, tmp_path, args=patience)
    yield server.start()
    server.stop()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.timeout(600)
async def test_a_client_that_stops_reading_gets_current_prices_in_bounded_memory(
    patient_daphne, settings, redis_prefix
):
    """Ticks flood a socket that does not read: the server's memory stays flat
    (the outbox keeps one tick per symbol), and on reading again the client gets
    the newest price of every symbol, not a backlog."""
    await sync_to_async(seed_instruments)()
    server = patient_daphne
    client = RawClient(server)
    assert client.recv_json()["type"] == "quotes.instruments"
    client.send_json({"type": "quotes.subscribe", "symbols": SYMBOLS})
    assert client.recv_json()["type"] == "quotes.snapshot"

    # Publish through Redis like the feed process does, from this process.
    settings.CHANNEL_LAYERS = {
        "default": redis_channel_layer([REDIS_URL], redis_prefix)
    }
    rounds, published_bytes = 10_000, 0

    async def publish_round(n):
        nonlocal published_bytes
        for symbol in SYMBOLS:
            price = 100 + n / 100
            info = quote_info(
                symbol,
                last=price,
                open=100,
                high=price,
                low=100,
                prev_close=100,
                volume=n,
                at=timezone.now(),
            )
            frame = tick_frame(info)
            published_bytes += len(json.dumps(frame))
            await fanout.apublish(topic(symbol), frame, key=symbol)

    await publish_round(0)
    baseline = rss_kib(server.proc.pid)
    began = time.monotonic()
    for start in range(1, rounds, 50):
        await asyncio.gather(*(publish_round(n) for n in range(start, start + 50)))
    flood_seconds = time.monotonic() - began
    final = {s: 500.0 + i for i, s in enumerate(SYMBOLS)}
    for symbol, price in final.items():
        info = quote_info(
            symbol,
            last=price,
            open=100,
            high=price,
            low=100,
            prev_close=100,
            volume=0,
            at=timezone.now(),
        )
        await fanout.apublish(topic(symbol), tick_frame(info), key=symbol)
    await asyncio.sleep(1)  # let the server take the last publishes off Redis
    grown_kib = rss_kib(server.proc.pid) - baseline

    latest, frames = {}, 0
    client.sock.settimeout(10)
    while latest != final:
        frame = await asyncio.to_thread(client.recv_json)
        if frame["type"] == "quotes.tick":
            frames += 1
            latest[frame["symbol"]] = frame["last"]
    client.sock.close()

    published = rounds * len(SYMBOLS)
    print(
        f"published {published} ticks ({published_bytes / 1e6:.1f} MB) in "
        f"{flood_seconds:.1f}s; received {frames}; RSS grew {grown_kib} KiB"
    )
    # The kernel's socket buffers take several MB (their size varies with the
    # machine's TCP autotuning) before daphne's own buffer passes HIGH_WATER;
    # past that, the outbox keeps one tick per symbol, so some never arrive.
    assert frames < published, "the slow socket was conflated"
    assert grown_kib * 1024 < published_bytes / 4, "memory did not follow the flood"
