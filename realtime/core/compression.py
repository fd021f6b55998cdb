"""permessage-deflate (RFC 7692) on daphne's sockets, which daphne never enables.

autobahn implements the extension but its factory accepts no offer unless told
to, and daphne builds that factory itself (also under the ``daphne`` command,
where no project code runs first). autobahn copies its options from the
factory to each connection and lets a connection override them, and daphne
starts the application before it answers the handshake: so
``DaphneSocketMiddleware`` calls ``install`` on each connection, which sets that
connection's ``perMessageCompressionAccept``.

What is negotiated, and why (docs/performance.md, "Compression", has the
figures):

- The server compresses each message on its own (``server_no_context_takeover``,
  a fresh compressor per message, dropped once the message is written), with a
  window of ``2**DEFLATE_WINDOW_BITS`` bytes and zlib memory level
  ``DEFLATE_MEM_LEVEL``. A compressor kept for the connection's life would hold
  about 38 KiB (at 12 and 5; 256 KiB at zlib's defaults) on every socket, more
  than an idle socket costs today. The frames worth compressing are snapshots
  and history pages, which compress as well alone as in context.
- Fan-out frames, framed once for every subscriber (``transport.prepare``),
  go out uncompressed (RFC 7692 lets a sender choose per message): compressing
  them per socket would multiply a fan-out's cost by several.
- If the client accepts it, it is asked to use the same window
  (``client_max_window_bits``), which bounds the decompressor the server keeps
  for the client's messages.
- A decompressed message is held to daphne's message size limit, as an
  uncompressed one is (1009 past it).
"""

from collections.abc import Callable

from autobahn.websocket.compress import (
    PerMessageDeflate,
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
)
from autobahn.websocket.protocol import WebSocketProtocol
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class TransientDeflate(PerMessageDeflate):
    """Server side of permessage-deflate holding no compressor between messages."""

    def end_compress_message(self):
        data = super().end_compress_message()
        self._compressor = None
        return data


def accept_offer(offers: list, *, window_bits: int, mem_level: int):
    """The first permessage-deflate offer, accepted on the server's terms; or None."""
    for offer in offers:
        if not isinstance(offer, PerMessageDeflateOffer):
            continue
        bits = window_bits
        if offer.request_max_window_bits:  # the client asked for a smaller window
            bits = min(bits, offer.request_max_window_bits)
        return PerMessageDeflateOfferAccept(
            offer,
            request_max_window_bits=window_bits if offer.accept_max_window_bits else 0,
            no_context_takeover=True,
            window_bits=bits,
            mem_level=mem_level,
        )
    return None


def acceptor() -> Callable[[list], PerMessageDeflateOfferAccept | None] | None:
    """The accept function the settings ask for, or None when compression is off."""
    config = settings.DUPLEX
    if not config["DEFLATE"]:
        return None
    window_bits, mem_level = config["DEFLATE_WINDOW_BITS"], config["DEFLATE_MEM_LEVEL"]
    if window_bits not in range(9, 16) or mem_level not in range(1, 10):
        raise ImproperlyConfigured(
            "DUPLEX_DEFLATE_WINDOW_BITS must be 9-15 and DUPLEX_DEFLATE_MEM_LEVEL 1-9."
        )
    return lambda offers: accept_offer(
        offers, window_bits=window_bits, mem_level=mem_level
    )


def install(protocol: WebSocketProtocol) -> None:
    """Let this connection accept permessage-deflate on the settings' terms."""
    accept = acceptor()
    if accept is None:
        return
    protocol.perMessageCompressionAccept = accept
    opened = protocol.onOpen

    def on_open():
        # autobahn has built the extension's state by now, before any message.
        if isinstance(protocol._perMessageCompress, PerMessageDeflate):
            protocol._perMessageCompress.__class__ = TransientDeflate
        opened()

    protocol.onOpen = on_open
