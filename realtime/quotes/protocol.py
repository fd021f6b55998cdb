"""Stock and fund quotes: ``/ws/quotes/``.

Client -> server: ``quotes.subscribe`` / ``quotes.unsubscribe`` with a list of
symbols (the socket stays open; no reconnect to change the list), and
``quotes.handshake`` (what the opening handshake cost, for the compare page).
Server -> client: ``quotes.instruments`` on connect and whenever an admin
changes the list, ``quotes.snapshot`` answering a subscribe, ``quotes.tick``
per price change of a subscribed symbol (conflated per symbol: a slow socket
gets the newest), ``quotes.unsubscribed``, ``quotes.handshake``.

Each symbol is its own topic ``quotes.<SYMBOL>``: a socket following five
symbols follows five topics, and a tick costs nothing to sockets not watching.
"""

from datetime import datetime
from typing import Literal, TypedDict

from django.conf import settings
from django.utils.translation import gettext as _

from realtime.core.envelope import (
    ErrorCode,
    ProtocolError,
    Reply,
    Request,
    str_list_field,
)

INSTRUMENTS_TOPIC = "quotes.instruments"
MAX_SYMBOL_LENGTH = 20


def max_subscriptions() -> int:
    """Symbols one socket may follow at once; ``DUPLEX`` may override it."""
    return settings.DUPLEX["QUOTES_MAX_SUBSCRIPTIONS"]


def topic(symbol: str) -> str:
    return f"quotes.{symbol}"


class InstrumentInfo(TypedDict):
    symbol: str
    name: str
    kind: Literal["stock", "fund"]
    currency: str
    decimals: int


class QuoteInfo(TypedDict):
    symbol: str
    last: float
    open: float
    high: float
    low: float
    prev_close: float
    change: float
    change_pct: float
    volume: int
    at: str | None  # ISO 8601, when the feed produced ``last``; None: no tick yet
    ts: int | None  # the same instant in epoch milliseconds, for latency


class TickFrame(QuoteInfo):
    type: Literal["quotes.tick"]


class SnapshotFrame(Reply):
    type: Literal["quotes.snapshot"]
    quotes: list[QuoteInfo]
    subscribed: list[str]


class UnsubscribedFrame(Reply):
    type: Literal["quotes.unsubscribed"]
    symbols: list[str]
    subscribed: list[str]


class InstrumentsFrame(TypedDict):
    type: Literal["quotes.instruments"]
    instruments: list[InstrumentInfo]


class HandshakeFrame(Reply):
    type: Literal["quotes.handshake"]
    request_bytes: int | None  # None when the server cannot tell (not daphne)
    response_bytes: int | None


class SubscribeFrame(Request):
    type: Literal["quotes.subscribe", "quotes.unsubscribe"]
    symbols: list[str]


CLIENT_FRAMES = (SubscribeFrame,)


def read_symbols(frame: dict) -> list[str]:
    """The ``symbols`` of a (un)subscribe frame, upper-cased, without duplicates."""
    symbols = str_list_field(
        frame,
        "symbols",
        max_items=max_subscriptions(),
        max_length=MAX_SYMBOL_LENGTH,
    )
    if not symbols:
        raise ProtocolError(ErrorCode.INVALID, _('"symbols" must not be empty.'))
    return list(dict.fromkeys(s.strip().upper() for s in symbols))


def quote_info(
    symbol: str,
    *,
    last: float,
    open: float,
    high: float,
    low: float,
    prev_close: float,
    volume: int,
    at: datetime | None,
    decimals: int = 2,
) -> QuoteInfo:
    change = last - prev_close
    return {
        "symbol": symbol,
        "last": last,
        "open": open,
        "high": high,
        "low": low,
        "prev_close": prev_close,
        "change": round(change, decimals),
        "change_pct": round(100 * change / prev_close, 2) if prev_close else 0.0,
        "volume": volume,
        "at": at.isoformat() if at else None,
        "ts": round(at.timestamp() * 1000) if at else None,
    }


def tick_frame(info: QuoteInfo) -> TickFrame:
    return {"type": "quotes.tick", **info}


def snapshot_frame(quotes: list[QuoteInfo], subscribed) -> SnapshotFrame:
    return {
        "type": "quotes.snapshot",
        "quotes": quotes,
        "subscribed": sorted(subscribed),
    }


def instruments_frame(instruments: list[InstrumentInfo]) -> InstrumentsFrame:
    return {"type": "quotes.instruments", "instruments": instruments}
