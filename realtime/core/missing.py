"""The socket behind every path no endpoint matches."""

from channels.generic.websocket import AsyncWebsocketConsumer

from realtime.core.envelope import CloseCode


class NoSuchEndpoint(AsyncWebsocketConsumer):
    """Refuse with 4004: without it the router raises and daphne logs a server
    error for every mistyped or probing URL (``/ws/nope/``, ``/ws/game/abc/``)."""

    async def connect(self):
        await self.accept()
        # int(): autobahn refuses an IntEnum as a close code (a 1011 instead).
        await self.close(int(CloseCode.NOT_FOUND), "No such endpoint.")
