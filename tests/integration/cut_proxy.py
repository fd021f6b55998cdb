"""A TCP proxy in front of daphne that can cut a WebSocket connection at the
worst moment: right after a client frame reached the server, before the answer
gets back. Threads, so sync (Playwright) and async tests both use it."""

import re
import socket
import struct
import threading
from collections.abc import Callable

HEADERS_END = b"\r\n\r\n"
# Without the extension, client frames are plain text the proxy can read.
EXTENSIONS = re.compile(rb"\r\nsec-websocket-extensions:[^\r]*", re.IGNORECASE)


def client_frames(buffer: bytearray):
    """Take each complete frame off ``buffer``: (raw, unmasked payload)."""
    while len(buffer) >= 2:
        length, at = buffer[1] & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                return
            (length,), at = struct.unpack(">H", buffer[2:4]), 4
        elif length == 127:
            if len(buffer) < 10:
                return
            (length,), at = struct.unpack(">Q", buffer[2:10]), 10
        masked = buffer[1] & 0x80
        end = at + (4 if masked else 0) + length
        if len(buffer) < end:
            return
        key = buffer[at : at + 4] if masked else b"\0\0\0\0"
        body = buffer[end - length : end]
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(body))
        raw = bytes(buffer[:end])
        del buffer[:end]
        yield raw, payload


class CutProxy:
    """Forwards 127.0.0.1:``port`` to the upstream port; ``cut_after(match)``
    arms one cut: the next client frame whose payload ``match`` accepts is
    forwarded, then the client's connection is dropped and nothing the server
    sends after it (its acknowledgement) is passed back: the frames it sent
    into the void are kept in ``swallowed``. With ``forward=False`` the frame
    is lost with the connection instead, before it reaches the server."""

    def __init__(self, upstream_port: int):
        self.upstream = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._match: Callable[[bytes], bool] | None = None
        self._forward = True
        self._lock = threading.Lock()
        self.cut = threading.Event()
        self.swallowed: list[bytes] = []
        self.answered = threading.Event()  # a swallowed frame holds "chat.ack"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    origin = url

    def start(self) -> "CutProxy":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self.listener.close()

    def cut_after(self, match: Callable[[bytes], bool], forward: bool = True) -> None:
        self.cut.clear()
        with self._lock:
            self._match, self._forward = match, forward

    def _take_cut(self, payload: bytes) -> bool:
        with self._lock:
            if self._match is not None and self._match(payload):
                self._match = None
                return True
        return False

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            link = {"cut": False}
            threading.Thread(
                target=self._upstream, args=(client, server, link), daemon=True
            ).start()
            threading.Thread(
                target=self._downstream, args=(server, client, link), daemon=True
            ).start()

    def _upstream(self, client, server, link) -> None:
        """Client to server: the request (without extensions), then frames."""
        head = bytearray()
        try:
            while HEADERS_END not in head:
                data = client.recv(65536)
                if not data:
                    return _close(client, server)
                head += data
            request, rest = bytes(head).split(HEADERS_END, 1)
            upgrade = b"upgrade: websocket" in request.lower()
            server.sendall(EXTENSIONS.sub(b"", request) + HEADERS_END)
            if not upgrade:  # a page or a static file: pass it all through
                server.sendall(rest)
                return _pump(client, server)
            frames = bytearray(rest)
            while True:
                for raw, payload in client_frames(frames):
                    cut = self._take_cut(payload)
                    if self._forward or not cut:
                        server.sendall(raw)
                    if cut:
                        link["cut"] = True
                        # Set before the drop: the client may check it as soon
                        # as it sees its connection die.
                        self.cut.set()
                        # The client loses its connection at once; the server
                        # keeps its end a moment, so it reads the frame and
                        # answers into the void.
                        _drop(client)
                        threading.Timer(1.0, _close, (server,)).start()
                        return
                data = client.recv(65536)
                if not data:
                    return _close(client, server)
                frames += data
        except OSError:
            _close(client, server)

    def _downstream(self, server, client, link) -> None:
        lost = bytearray()
        try:
            while data := server.recv(65536):
                if link["cut"]:
                    lost += data
                    self._swallow(lost)
                    continue
                client.sendall(data)
        except OSError:
            pass
        if not link["cut"]:
            _close(client, server)

    def _swallow(self, lost: bytearray) -> None:
        for _, payload in client_frames(lost):  # server frames: the same, unmasked
            self.swallowed.append(payload)
            if b'"chat.ack"' in payload:
                self.answered.set()


def _pump(source, target) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    _close(source, target)


def _drop(sock) -> None:
    """Close with a reset, as a dead network path or a killed proxy would."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def _close(*socks) -> None:
    """Shut down, then close: a close alone sends no FIN while another thread
    is blocked in ``recv`` on the socket, and the client would wait out its
    close timeout for the end of a connection the server already ended."""
    for sock in socks:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass
