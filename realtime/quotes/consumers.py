"""Live quotes: subscribe to symbols, get a snapshot, then their ticks."""

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from realtime.core.envelope import ErrorCode, ProtocolError
from realtime.core.sockets import JsonSocket
from realtime.core.transport import SCOPE_KEY
from realtime.quotes import service as quotes
from realtime.quotes.protocol import (
    INSTRUMENTS_TOPIC,
    instruments_frame,
    max_subscriptions,
    read_symbols,
    snapshot_frame,
    topic,
)


class QuotesSocket(JsonSocket):
    """Anyone may watch; each socket follows one topic per subscribed symbol."""

    async def connect(self):
        """Accept, then send the instrument list (kept current by admin edits)."""
        self.symbols: set[str] = set()
        await self.accept()
        await self.follow(INSTRUMENTS_TOPIC)
        instruments = await database_sync_to_async(quotes.active_instruments)()
        await self.send_json(instruments_frame(instruments))

    def handlers(self):
        return {
            "quotes.subscribe": self.on_subscribe,
            "quotes.unsubscribe": self.on_unsubscribe,
            "quotes.handshake": self.on_handshake,
        }

    async def on_subscribe(self, frame):
        """Follow the known symbols, snapshot them; unknown ones get an error."""
        wanted = [s for s in read_symbols(frame) if s not in self.symbols]
        limit = max_subscriptions()
        if len(self.symbols) + len(wanted) > limit:
            raise ProtocolError(
                ErrorCode.TOO_BIG,
                _("At most %(n)d symbols per connection; unsubscribe some first.")
                % {"n": limit},
            )
        known = await database_sync_to_async(quotes.active_symbols)(wanted)
        added = [s for s in wanted if s in known]
        # Follow before reading the snapshot, so no tick falls in between; a
        # tick queued ahead of the snapshot is older only if the client sees a
        # larger ``ts`` first, and clients keep the newest ``ts`` per symbol.
        for symbol in added:
            self.symbols.add(symbol)
            await self.follow(topic(symbol))
        if added:
            latest = await database_sync_to_async(quotes.latest_quotes)(added)
            await self.send_json(snapshot_frame(latest, self.symbols))
        unknown = [s for s in wanted if s not in known]
        if unknown:
            raise ProtocolError(
                ErrorCode.NOT_FOUND,
                _("Unknown symbol(s): %(symbols)s.") % {"symbols": ", ".join(unknown)},
            )

    async def on_unsubscribe(self, frame):
        """Stop the ticks of these symbols; symbols not followed are ignored."""
        removed = [s for s in read_symbols(frame) if s in self.symbols]
        for symbol in removed:
            self.symbols.discard(symbol)
            await self.unfollow(topic(symbol))
        await self.send_json(
            {
                "type": "quotes.unsubscribed",
                "symbols": removed,
                "subscribed": sorted(self.symbols),
            }
        )

    async def on_handshake(self, frame):
        """Report the opening handshake's real size, as daphne read and wrote it."""
        socket = self.scope.get(SCOPE_KEY)
        protocol = getattr(socket, "protocol", None)
        request = getattr(protocol, "http_request_data", None)
        response = getattr(protocol, "http_response_data", None)
        await self.send_json(
            {
                "type": "quotes.handshake",
                "request_bytes": len(request) if request else None,
                "response_bytes": len(response.encode()) if response else None,
            }
        )
