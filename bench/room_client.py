"""A chat page's room socket for the bench: ``client.js`` and ``chat.js``.

``Client`` opens ``/ws/chat/<room>/`` as ``chat.js`` does (subprotocol offer
``superchat``, hello ``chat.join`` with ``after`` = the last seq seen), keeps
the seqs it received (``chat.history``/``chat.reset`` messages, then
``chat.message`` through ``seen``, resyncing after a hole), queues sends while
not open (``maxQueue``), keeps each ``request`` (a ``chat.send`` with a
``cid``, tagged with a ``ref``) until a frame echoing its ref answers it and
sends it again on every open, as ``client.js`` ``request`` does, and, when
its socket closes, waits what
``bench.reconnect`` (client.js' rules) says before it opens again. It has no
proxy in front: ``LeastConn`` picks the process as the upstream of
``deploy/nginx/duplex.conf`` does. ``run`` is what the clients share
(``bench.rolling.Run``): servers, balancer, cookie, path, gate, counters.
"""

import asyncio
import contextlib
import json
import re
import time

from picows import WSCloseCode, WSListener, WSMsgType, WSTransport, ws_connect
from picows.common import WSHandshakeError

from bench.crowd import frame_type
from bench.reconnect import ABNORMAL, CONNECT_TIMEOUT, Backoff, Stream

SEQ = re.compile(rb'"seq":(\d+)')


class LeastConn:
    """The upstream of ``deploy/nginx/duplex.conf``, for clients with no nginx.

    ``least_conn``: an attempt goes to the process with the fewest
    connections through the balancer (open sockets and attempts in flight),
    taking turns among equals. ``max_fails=1 fail_timeout=5s`` with
    ``proxy_next_upstream error``: a refused connection or one dropped before
    the upgrade's answer marks the process down for 5 s and passes the
    attempt to the next one; when every process is down, all are tried.
    """

    FAIL_TIMEOUT = 5.0

    def __init__(self, count: int, clock=time.monotonic):
        self.active = [0] * count
        self.down_until = [0.0] * count
        self.turn = 0
        self.clock = clock

    def order(self) -> list[int]:
        """The processes to try, in turn, for one attempt."""
        count = len(self.active)
        now = self.clock()
        up = [i for i in range(count) if self.down_until[i] <= now]
        self.turn += 1
        ranked = sorted(up, key=lambda i: (self.active[i], (i - self.turn) % count))
        return ranked or list(range(count))

    def failed(self, index: int) -> None:
        self.down_until[index] = self.clock() + self.FAIL_TIMEOUT


REF = re.compile(rb'"ref":(\d+)')
MAX_QUEUE = 100  # client.js DEFAULTS.maxQueue (also its cap of pending requests)


class Socket(WSListener):
    """One WebSocket of a client; frames of a replaced socket are ignored."""

    def __init__(self, client: "Client"):
        self.client = client
        self.transport: WSTransport | None = None
        self.close_code = ABNORMAL
        self.close_reason = ""
        self.done = asyncio.get_running_loop().create_future()

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame) -> None:
        if frame.msg_type is WSMsgType.CLOSE:
            self.close_code = int(frame.get_close_code())
            self.close_reason = frame.get_close_message().decode(errors="replace")
            transport.disconnect()
        elif frame.msg_type is WSMsgType.TEXT and self.client.socket is self:
            self.client.on_frame(frame.get_payload_as_bytes())

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if not self.done.done():
            self.done.set_result(None)


class Client:
    """A chat page's room socket: ``client.js`` rules, chat.js' seq handling."""

    def __init__(self, number: int, session: str, run):
        self.number = number
        self.session = session
        self.run = run
        self.server: int | None = None  # the process of the last attempt
        self.backoff = Backoff()
        self.stream = Stream()
        self.socket: Socket | None = None
        self.queue: list[bytes] = []
        self.pending: dict[int, bytes] = {}  # client.js pending: ref -> frame
        self.refs = 0
        self.answers: dict[str, int] = {}  # cid -> seq of its chat.ack
        self.received: set[int] = set()
        self.duplicates = 0
        self.resyncs = 0
        self.resyncing = False
        self.joined = asyncio.get_running_loop().create_future()
        self.closed_at: float | None = None  # first close after the SIGTERM
        self.back_at: float | None = None  # first chat.joined after that
        self.refused = None

    def send(self, data: bytes) -> None:
        """client.js ``send``: now if open, else queued (oldest dropped)."""
        if self.socket is not None and self.socket.transport is not None:
            self.socket.transport.send(WSMsgType.TEXT, data)
            return
        self.queue.append(data)
        del self.queue[:-MAX_QUEUE]

    def request(self, frame: dict) -> None:
        """client.js ``request``: tag with a fresh ref, keep until answered,
        send now if open (and again on every open until answered)."""
        self.refs += 1
        data = json.dumps({**frame, "ref": self.refs}).encode()
        self.pending[self.refs] = data
        if len(self.pending) > MAX_QUEUE:
            del self.pending[next(iter(self.pending))]
            self.run.requests["dropped past maxQueue"] += 1
        if self.socket is not None and self.socket.transport is not None:
            self.socket.transport.send(WSMsgType.TEXT, data)

    def _answer(self, kind: str, payload: bytes) -> None:
        """client.js ``_answer``: a frame echoing a pending ref answers it."""
        ref = REF.search(payload)
        if ref is None or self.pending.pop(int(ref.group(1)), None) is None:
            return
        if kind == "chat.ack":
            ack = json.loads(payload)
            self.answers[ack["cid"]] = ack["seq"]
            self.run.requests["acked"] += 1
        else:  # client.js rejects it: the page shows the error, no resend
            code = json.loads(payload).get("code") if kind == "error" else kind
            self.run.requests[f"answered {code}"] += 1

    def on_frame(self, payload: bytes) -> None:
        kind = frame_type(payload)
        self.run.frames[kind] += 1
        if b'"ref":' in payload:
            self._answer(kind, payload)
        if kind == "chat.message":
            self._message(int(SEQ.search(payload).group(1)))
        elif kind in ("chat.history", "chat.reset"):
            snap = json.loads(payload)
            for message in snap["messages"]:
                self._keep(message["seq"])
            self.stream.reset(snap["last_seq"])  # chat.js: lastSeq = last_seq
        elif kind == "chat.joined":
            self._joined()
        elif kind == "error":
            self.run.errors[json.loads(payload).get("code")] += 1

    def _keep(self, seq: int) -> None:
        if seq in self.received:
            self.duplicates += 1
        self.received.add(seq)

    def _message(self, seq: int) -> None:
        accepted, resync = self.stream.seen(seq)
        if accepted:
            self._keep(seq)
        elif seq in self.received:
            self.duplicates += 1  # sent again; client.js drops it
        if resync:  # client.js resync: a fresh socket at once, after = last
            self.resyncs += 1
            self.resyncing = True
            self.socket.transport.send_close(WSCloseCode.OK, b"resync")
            self.socket.transport.disconnect()

    def _joined(self) -> None:
        now = time.monotonic()
        if not self.joined.done():
            self.joined.set_result(now)
        if self.closed_at is not None and self.back_at is None:
            self.back_at = now

    async def loop(self) -> None:
        """Open, run until closed, wait what client.js would wait; repeat."""
        gate = self.run.gate
        while not self.run.stopping:
            code, reason = await self._session(gate)
            gate = contextlib.nullcontext()  # only the first page load is gated
            if self.run.stopping:
                return
            self.backoff.closed()
            if reason == "resync":
                continue
            delay = self.backoff.delay(code, reason)
            if delay is None:
                self.refused = code
                self.run.failures[f"refused {code}"] += 1
                return
            await asyncio.sleep(delay)

    async def _session(self, gate) -> tuple[int, str]:
        async with gate:  # set-up: hold the gate until the first answer
            socket = await self._connect()
            if socket is None:
                return ABNORMAL, ""
            self.socket = socket
            self.backoff.opened()
            hello = {"type": "chat.join", "after": self.stream.last}
            socket.transport.send(WSMsgType.TEXT, json.dumps(hello).encode())
            pending, self.queue = self.queue, []
            for data in pending:
                socket.transport.send(WSMsgType.TEXT, data)
            # client.js: requests never answered are sent again on every open.
            for data in self.pending.values():
                socket.transport.send(WSMsgType.TEXT, data)
                self.run.requests["resent"] += 1
            if not self.joined.done():
                answered = [self.joined, socket.done]
                await asyncio.wait(answered, timeout=30, return_when="FIRST_COMPLETED")
        await socket.done
        self.run.balancer.active[self.server] -= 1
        self.socket = None
        reason = "resync" if self.resyncing else socket.close_reason
        self.resyncing = False
        self.run.note_close(self, socket.close_code, socket.close_reason)
        return socket.close_code, reason

    async def _connect(self) -> Socket | None:
        """One attempt through the balancer: the least busy process first, the
        next on a refusal or a drop before the upgrade's answer."""
        balancer = self.run.balancer
        for index in balancer.order():
            self.server = index
            balancer.active[index] += 1
            try:
                socket = await asyncio.wait_for(
                    self._open(self.run.servers[index]), CONNECT_TIMEOUT
                )
            except (ConnectionRefusedError, ConnectionResetError, EOFError) as exc:
                balancer.active[index] -= 1
                balancer.failed(index)
                self.run.failures[f"{type(exc).__name__} @{index}, next"] += 1
                continue
            except TimeoutError:
                balancer.active[index] -= 1
                self.run.failures[f"connect timeout @{index}"] += 1
                return None
            except WSHandshakeError as exc:
                balancer.active[index] -= 1
                status = getattr(exc.response, "status", None)
                kind = f"HTTP {int(status)}" if status else "drop"
                self.run.failures[f"{kind} @{index}"] += 1
                return None
            if socket is None or socket.transport is None:
                balancer.active[index] -= 1
                balancer.failed(index)
                self.run.failures[f"drop in handshake @{index}, next"] += 1
                continue
            return socket
        return None

    async def _open(self, server) -> Socket | None:
        headers = {
            "Origin": server.origin,
            "Cookie": self.run.cookie + self.session,
            "Sec-WebSocket-Protocol": "superchat",  # chat.js' offer
        }
        url = server.url + self.run.path
        _, socket = await ws_connect(lambda: Socket(self), url, extra_headers=headers)
        return socket
