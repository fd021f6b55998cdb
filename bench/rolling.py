"""Rolling restart: two daphne processes, one room, one of them SIGTERMed.

``rolling_clients`` distinct logged-in users join one room over two daphne
processes (the suite's ``duplex-redis`` configuration, Redis layer and
PostgreSQL, serving ``project.asgi``: its graceful shutdown and admission
control); each client follows ``client.js``'s reconnect and resume rules
(``bench.room_client``, ``bench.reconnect``). There is no proxy: each attempt
goes where the nginx upstream of ``deploy/nginx/duplex.conf`` would send it
(``bench.room_client.LeastConn``: the process with the fewest connections; a
refused TCP connection, from a process that stopped listening, or a connection
dropped before the upgrade's answer marks it down for 5 s and passes to the
next process at once). ``POSTERS`` users post through ``chat.send``, ``RATE``
messages per second in all, none over 1 per second; each send carries a
``cid`` and is a ``client.js`` ``request``: kept until its ``chat.ack`` and
sent again on every reconnect, as chat.js sends a message. ``BEFORE_S`` into
the posting the first process gets SIGTERM (``realtime/core/lifecycle.py``:
stop listening, close every socket with 1012, exit); ``RESTART_S`` after the
SIGTERM it is started again on its port, and the room keeps running
``rolling_seconds``.

Measured: for each client closed after the SIGTERM, the time from the SIGTERM
to its next ``chat.joined`` (all of them must be back within 20 s); closes,
refusals and failed attempts by kind; and, once posting stops and the room is
quiet, each client's seqs against the room's stored messages (the database):
a stored seq it never got is lost, a seq it was sent again is a duplicate.
"""

import asyncio
import functools
import os
import re
import signal
import subprocess
import time
from collections import Counter

import psycopg
from picows import WSCloseCode

from bench.client import summary
from bench.product import People, server_warnings
from bench.reconnect import RETRY_HINT
from bench.room_client import Client, LeastConn

JOIN_LIMIT = 600.0  # seconds the first joins of every client may take


class Run:
    """The clients, what they share, and the restart's timeline."""

    def __init__(self, servers, cookie: str, room: str, in_flight: int):
        self.servers = servers
        self.balancer = LeastConn(len(servers))
        self.cookie = cookie + "="
        self.path = f"/ws/chat/{room}/"
        self.gate = asyncio.Semaphore(in_flight)
        self.stopping = False
        self.sigterm_at: float | None = None
        self.frames: Counter = Counter()
        self.errors: Counter = Counter()
        self.failures: Counter = Counter()  # failed attempts, by kind
        self.closes: Counter = Counter()  # closes after the SIGTERM, by code
        self.hints: dict[int, list[float]] = {}  # retry hints given, by code
        self.requests: Counter = Counter()  # acked, resent, errors, dropped
        self.cids: dict[str, Client] = {}  # every chat.send's cid, its poster
        self.clients: list[Client] = []

    def note_close(self, client: Client, code: int, reason: str) -> None:
        if self.sigterm_at is None or self.stopping:
            return
        self.closes[f"{code} {re.sub(r'[0-9.]+', '#', reason)}".strip()] += 1
        hint = RETRY_HINT.search(reason or "")
        if hint:
            self.hints.setdefault(code, []).append(float(hint.group(1)))
        if client.closed_at is None:
            client.closed_at = time.monotonic()

    def back(self) -> tuple[int, int]:
        """(clients closed since the SIGTERM, those of them joined again)."""
        hit = [c for c in self.clients if c.closed_at is not None]
        return len(hit), sum(c.back_at is not None for c in hit)

    async def post(self, posters: list[Client], rate: float, sent: Counter) -> None:
        """``rate`` messages per second, in turn by ``posters``, until
        cancelled. A user does not type into a page that shows "reconnecting":
        a poster whose socket is not open hands its turn to the next one
        (client.js would queue it and flush it on open, a burst that flood
        control refuses), and so does one that posted less than a second ago
        (flood control's rate): the room keeps its rate while enough posters
        are open, and nobody passes 1/s."""
        started = time.monotonic()
        last: dict[int, float] = {}  # poster's number -> its last post
        for n in range(10**9):
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            cid = f"rolling-{n}"
            frame = {"type": "chat.send", "text": f"rolling {n}", "cid": cid}
            now = time.monotonic()
            for k in range(len(posters)):
                poster = posters[(n + k) % len(posters)]
                if now - last.get(poster.number, -PER_POSTER_S) < PER_POSTER_S:
                    continue
                if poster.socket is not None and poster.socket.transport is not None:
                    poster.request(frame)  # chat.js: socket.request(...)
                    last[poster.number] = now
                    self.cids[cid] = poster
                    sent["sent"] += 1
                    if self.sigterm_at is not None:
                        sent["sent after the SIGTERM"] += 1
                    break
            else:
                sent["no poster open"] += 1  # or none that may post yet

    async def stop(self, tasks) -> None:
        self.stopping = True
        for client in self.clients:
            socket = client.socket
            if socket is not None and socket.transport is not None:
                socket.transport.send_close(WSCloseCode.OK)
                socket.transport.disconnect()
        await asyncio.sleep(0.5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def stored_seqs(room: str) -> list[int]:
    """The seqs of the room's stored messages, from PostgreSQL."""
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        rows = conn.execute(
            "SELECT e.seq FROM realtime_roomevent e JOIN realtime_room r"
            " ON r.id = e.room_id WHERE r.slug = %s ORDER BY e.seq",
            [room],
        ).fetchall()
    return [row[0] for row in rows]


def stored_cids(room: str) -> list[str]:
    """The cids of the room's stored messages (one row per message)."""
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        rows = conn.execute(
            "SELECT m.cid FROM realtime_message m JOIN realtime_room r"
            " ON r.id = m.room_id WHERE r.slug = %s",
            [room],
        ).fetchall()
    return [row[0] for row in rows]


def listen_overflows() -> int | None:
    """The kernel's count of connections dropped at a full accept queue
    (``TcpExtListenOverflows``, every port of the machine), or None."""
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            row = dict(zip(names.split()[1:], values.split()[1:], strict=True))
            return int(row["ListenOverflows"]) if "ListenOverflows" in row else None
    return None


def _send_figures(run: Run, cids: list[str]) -> dict:
    """Each chat.send (by cid) against the stored messages: a send stored
    twice, acked but not stored, or never stored nor answered."""
    stored = Counter(cids)
    sent = set(run.cids)
    acked = {cid for c in run.clients for cid in c.answers}
    unanswered = sum(len(c.pending) for c in run.clients)
    return {
        "sends": len(sent),
        "sends_stored": len(sent & set(stored)),
        "sends_stored_twice": sum(1 for n in stored.values() if n > 1),
        "sends_acked": len(acked),
        "sends_acked_not_stored": len(acked - set(stored)),
        "sends_lost": len(sent - set(stored)),
        "sends_unanswered_at_end": unanswered,
        "requests": dict(run.requests),
    }


async def _until(check, limit: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(step)
    return check()


def _have_all(run: Run, last: int) -> bool:
    return all(c.stream.last >= last for c in run.clients)


async def _settled(run: Run, room: str) -> list[int]:
    """The stored seqs once the room is quiet: every client has the last one
    (or DRAIN_S passed) and no new message was stored meanwhile."""
    stored = await asyncio.to_thread(stored_seqs, room)
    deadline = time.monotonic() + DRAIN_S
    while time.monotonic() < deadline:
        last = stored[-1] if stored else 0
        await _until(functools.partial(_have_all, run, last), 5.0)
        again = await asyncio.to_thread(stored_seqs, room)
        if again == stored:
            return stored
        stored = again
    return stored


async def _restart(run: Run, server, after_s: float) -> dict:
    """SIGTERM ``server``, wait for its exit, start it again ``after_s`` after
    the SIGTERM (on its port); the timeline in seconds from the SIGTERM."""
    run.sigterm_at = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.to_thread(server.proc.wait, 30)
    except subprocess.TimeoutExpired:  # reported, and the run goes on
        server.proc.kill()
        code = f"killed: no exit 30 s after SIGTERM (then {server.proc.wait()})"
    exited = time.monotonic() - run.sigterm_at
    await asyncio.sleep(max(0.0, after_s - exited))
    restarting = time.monotonic() - run.sigterm_at
    await asyncio.to_thread(server.start)
    listening = time.monotonic() - run.sigterm_at
    return {
        "exit_code": code,
        "exited_s": round(exited, 2),
        "restart_at_s": round(restarting, 2),
        "listening_s": round(listening, 2),
    }


def _seq_figures(run: Run, stored: list[int]) -> dict:
    want = set(stored)
    lost = [len(want - c.received) for c in run.clients]
    extra = [len(c.received - want) for c in run.clients]
    dups = [c.duplicates for c in run.clients]
    return {
        "stored_messages": len(stored),
        "stored_contiguous": stored == list(range(1, len(stored) + 1)),
        "lost": sum(lost),
        "clients_with_loss": sum(1 for n in lost if n),
        "unknown_seqs": sum(extra),
        "duplicates": sum(dups),
        "clients_with_duplicates": sum(1 for n in dups if n),
        "resyncs": sum(c.resyncs for c in run.clients),
    }


def _back_figures(run: Run) -> dict:
    hit = [c for c in run.clients if c.closed_at is not None]
    times = [c.back_at - run.sigterm_at for c in hit if c.back_at is not None]
    every = times and len(times) == len(hit)
    closed = [c.closed_at - run.sigterm_at for c in hit]
    return {
        "clients_closed": len(hit),
        "clients_back": len(times),
        "clients_not_back": len(hit) - len(times),
        "all_back_s": round(max(times), 2) if every else None,
        "back": summary(times),
        "closed": summary(closed),
        "refused_for_good": sum(1 for c in run.clients if c.refused is not None),
        "closes_by_code_and_reason": dict(run.closes),
        # The retry hints the closes gave (summary's milliseconds: a p50_ms
        # of 20000 is a hint of 20 s).
        "retry_hints_by_code": {
            str(code): summary(hints) for code, hints in sorted(run.hints.items())
        },
    }


RATE = 10.0  # messages per second in the room
POSTERS = 30  # users posting in turn: 1/3 message per second each
PER_POSTER_S = 1.0  # and none more often than this (flood control's rate)
BEFORE_S = 5.0  # posting before the SIGTERM
RESTART_S = 5.0  # from the SIGTERM to the restart
DRAIN_S = 30.0  # after posting stops, for the last messages to arrive


async def _join_all(run: Run, sessions: list[str]) -> tuple[list, dict]:
    started = time.monotonic()
    run.clients = [Client(n, s, run) for n, s in enumerate(sessions)]
    tasks = [asyncio.create_task(c.loop()) for c in run.clients]
    joined = await _until(lambda: all(c.joined.done() for c in run.clients), JOIN_LIMIT)
    if not joined:
        missing = sum(not c.joined.done() for c in run.clients)
        await run.stop(tasks)
        raise RuntimeError(f"{missing} clients never joined: {dict(run.failures)}")
    return tasks, summary([c.joined.result() - started for c in run.clients])


async def _roll(run: Run, load, room: str) -> dict:
    """Post, SIGTERM and restart the first process, post on, drain, count."""
    posters = run.clients[: min(POSTERS, len(run.clients))]
    wall, cpu = time.monotonic(), time.process_time()
    sent = Counter()
    posting = asyncio.create_task(run.post(posters, RATE, sent))
    await asyncio.sleep(BEFORE_S)
    setup_failures = dict(run.failures)
    run.failures.clear()
    overflows = listen_overflows()
    restart = asyncio.create_task(_restart(run, run.servers[0], RESTART_S))
    await asyncio.sleep(load.rolling_seconds)
    await _until(lambda: run.back()[0] == run.back()[1], 60.0)  # past the run
    timeline = await restart
    if overflows is not None:
        overflows = listen_overflows() - overflows
    posting.cancel()
    await asyncio.sleep(1.0)  # the last chat.send frames reach the database
    stored = await _settled(run, room)
    await _until(lambda: not any(c.pending for c in run.clients), 10.0)
    cids = await asyncio.to_thread(stored_cids, room)
    client_cpu = (time.process_time() - cpu) / (time.monotonic() - wall)
    return {
        "client_cpu_share": round(client_cpu, 2),  # of its one core
        "loadavg_after": round(os.getloadavg()[0], 2),
        "sent": sent["sent"],
        "sent_after_sigterm": sent["sent after the SIGTERM"],
        **_send_figures(run, cids),
        "not_sent_no_poster_open": sent["no poster open"],
        "restart": timeline,
        # SYNs the kernel dropped at a full accept queue after the SIGTERM
        # (the machine's count): each is a client waiting its SYN retries.
        "listen_overflows": overflows,
        "drained": bool(stored)
        and all(c.stream.last >= stored[-1] for c in run.clients),
        "setup_failures_by_kind": setup_failures,
        "posting_s": round(BEFORE_S + load.rolling_seconds, 1),
        **_seq_figures(run, stored),
    }


async def rolling(servers, load) -> dict:
    """The scenario: ``rolling_clients`` users in one room over two processes."""
    clients = load.rolling_clients
    in_flight = min(load.crowd_in_flight, 100)
    result, cleanup = None, None
    try:
        async with People(servers[0], clients) as people:
            run = Run(servers, people.cookie, people.room, in_flight)
            tasks, first_join = await _join_all(run, people.sessions)
            per_process = Counter(c.server for c in run.clients)
            try:
                result = await _roll(run, load, people.room)
            finally:
                await run.stop(tasks)
                await asyncio.sleep(2.0)  # chat.send frames still on their way
    except RuntimeError as exc:  # a late message can race the room's deletion
        if result is None:
            raise
        cleanup = str(exc)[-300:]
    return {
        "cleanup_error": cleanup,
        "clients": clients,
        "processes": len(servers),
        "in_flight_at_first_join": in_flight,
        "first_join": first_join,
        "clients_per_process_at_sigterm": {str(k): v for k, v in per_process.items()},
        "rate": RATE,
        "posters": min(POSTERS, clients),
        **result,
        **_back_figures(run),
        "failures_by_kind": dict(run.failures),
        "errors_by_code": {str(k): v for k, v in run.errors.items()},
        "frames": dict(run.frames),
        "server_log": {s.port: server_warnings(s) for s in servers},
    }
