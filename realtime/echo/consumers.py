"""The echo playground's sockets: a pure echo and a handshake mirror."""

from django.conf import settings

from realtime.core.envelope import CloseCode, encode
from realtime.core.sockets import NoDispatchHop, ObservedSocket
from realtime.core.transport import SCOPE_KEY
from realtime.echo.protocol import handshake_frame


class EchoConsumer(NoDispatchHop, ObservedSocket):
    """Send every frame back unchanged: text as text, binary as binary, empty too.

    It never touches the database, so it skips Channels' per-message thread hop.
    """

    channel_layer_alias = None

    async def connect(self):
        """Accept, choosing the first subprotocol offered (if any)."""
        offered = self.scope.get("subprotocols") or []
        await self.accept(offered[0] if offered else None)
        socket = self.scope.get(SCOPE_KEY)
        if socket is not None:
            # An echo answers a close with the client's own code and reason
            # (RFC 6455, 5.5.1), so the playground can show them coming back.
            socket.protocol.echoCloseCodeReason = True

    async def receive(self, text_data=None, bytes_data=None):
        """Echo one message; an oversized one closes with 1009."""
        binary = text_data is None
        payload = bytes_data if binary else text_data.encode()
        socket = self.scope.get(SCOPE_KEY)
        if len(payload) > settings.DUPLEX["ECHO_MAX_BYTES"]:
            if socket is not None:
                socket.close(CloseCode.MESSAGE_TOO_BIG, "message too big")
            else:
                await self.close(CloseCode.MESSAGE_TOO_BIG)
            return
        if socket is not None and not payload:
            # daphne drops an empty ASGI send; write the empty frame ourselves.
            socket.send_message(b"", binary)
        elif binary:
            await self.send(bytes_data=bytes_data)
        else:
            await self.send(text_data=text_data)


class HandshakeConsumer(ObservedSocket):
    """Report the opening handshake as the server saw it, then close."""

    channel_layer_alias = None

    async def connect(self):
        """Accept like the echo does, send one frame, close normally."""
        offered = self.scope.get("subprotocols") or []
        selected = offered[0] if offered else None
        await self.accept(selected)
        socket = self.scope.get(SCOPE_KEY)
        # daphne has written its 101 answer by now; autobahn keeps a copy.
        sent = getattr(socket.protocol, "http_response_data", None) if socket else None
        frame = handshake_frame(self.scope, selected, sent)
        await self.send(text_data=encode(dict(frame)))
        await self.close(CloseCode.NORMAL)
