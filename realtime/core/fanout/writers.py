"""The two ways an outbox's queue reaches the wire.

``DaphneWriter`` writes straight to daphne's autobahn protocol while it is
writable (``realtime.core.transport``); ``AsgiWriter`` awaits each ASGI
``send`` (any other server, and the tests' communicator).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from realtime.core.fanout.frame import Frame
from realtime.core.fanout.hub import get_hub
from realtime.core.fanout.items import Closing, Text

if TYPE_CHECKING:
    from realtime.core.fanout.outbox import Outbox

HIGH_WATER = 256 * 1024  # bytes waiting in a socket before its outbox holds frames


class DaphneWriter:
    """Writes straight to daphne's protocol while its buffer is under HIGH_WATER;
    the hub's drain loop calls back while anything is held."""

    def __init__(self, outbox: Outbox, socket):
        self.outbox = outbox
        self.socket = socket

    def can_write(self) -> bool:
        return self.socket.buffered_bytes() < HIGH_WATER

    def offer(self, frame: Frame) -> bool:
        """Write a hub frame now if the socket can take it; True when handled."""
        prepared = frame.prepared_for(self.outbox.fmt)
        return prepared is None or self.socket.offer(prepared, HIGH_WATER)

    def kick(self) -> None:
        outbox = self.outbox
        if self.can_write() and not outbox.replaying:
            self.flush()
        if outbox.queue or outbox.gaps:
            get_hub().backlog(outbox)

    def gap(self) -> None:
        get_hub().backlog(self.outbox)

    def flush(self) -> None:
        outbox, socket = self.outbox, self.socket
        while outbox.queue and socket.buffered_bytes() < HIGH_WATER:
            item = outbox.next_item()
            if item is None:
                break
            if isinstance(item, Frame):
                socket.send_prepared(item.prepared_for(outbox.fmt))
            elif isinstance(item, Closing):  # a close queued before the socket slowed
                socket.close(item.code, item.reason)
            else:
                socket.send_message(item.text.encode(), False)

    async def close(self, code: int, reason: str | None) -> None:
        if self.socket.is_open:
            # daphne drops the reason of an ASGI close; autobahn sends it.
            self.flush()
            self.socket.close(code, reason)
            return
        await self.outbox.send(Closing(code, reason).message())

    def abort(self, code: int, reason: str) -> None:
        """Close now, ahead of anything buffered (autobahn drops the connection
        if the close handshake does not complete)."""
        if self.socket.is_open:
            self.socket.close(code, reason)

    def drain(self) -> bool:
        outbox = self.outbox
        if outbox.closed:
            return True
        if not self.socket.is_open:
            outbox.close()
            return True
        if outbox.replaying or not self.can_write():
            return False
        self.flush()
        if outbox.queue:
            return False
        if outbox.gaps:
            outbox.start_replay()
            return False
        return True

    def stop(self) -> None:
        pass


class AsgiWriter:
    """Plain ASGI servers (and the test communicator): one task awaits each send."""

    def __init__(self, outbox: Outbox):
        self.outbox = outbox
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def can_write(self) -> bool:
        return True

    def offer(self, frame: Frame) -> bool:
        text = frame.text_for(self.outbox.fmt)
        if text is not None:
            self.outbox._put(Text(text))
        return True

    def kick(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
        self._wake.set()

    gap = kick

    async def close(self, code: int, reason: str | None) -> None:
        if self.outbox.closed:
            await self.outbox.send(Closing(code, reason).message())
        else:
            self.outbox._put(Closing(code, reason))

    def abort(self, code: int, reason: str) -> None:
        self.outbox.queue.append(Closing(code, reason))
        self.kick()

    def drain(self) -> bool:
        return True

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        outbox = self.outbox
        while not outbox.closed:
            await self._wake.wait()
            self._wake.clear()
            while not outbox.replaying:
                item = outbox.next_item()
                if item is None:
                    break
                if isinstance(item, Closing):
                    await outbox.send(item.message())
                    outbox.closed = True
                    return
                text = (
                    item.text if isinstance(item, Text) else item.text_for(outbox.fmt)
                )
                await outbox.send({"type": "websocket.send", "text": text})
            if outbox.gaps and not outbox.replaying:
                outbox.start_replay()
