"""The quotes feature's reads and its one publish outside the feed.

Shared by the socket, the HTTP endpoints, the admin and the feed, so they all
describe an instrument and a quote the same way.
"""

from django.db import transaction

from realtime.core import fanout
from realtime.models import Instrument, PricePoint, Quote
from realtime.quotes.protocol import (
    INSTRUMENTS_TOPIC,
    InstrumentInfo,
    QuoteInfo,
    instruments_frame,
    quote_info,
)


def instrument_info(instrument: Instrument) -> InstrumentInfo:
    return {
        "symbol": instrument.symbol,
        "name": instrument.name,
        "kind": instrument.kind,
        "currency": instrument.currency,
        "decimals": instrument.decimals,
    }


def active_instruments() -> list[InstrumentInfo]:
    return [instrument_info(i) for i in Instrument.objects.filter(active=True)]


def active_symbols(symbols) -> set[str]:
    """Which of ``symbols`` name an active instrument."""
    return set(
        Instrument.objects.filter(symbol__in=list(symbols), active=True).values_list(
            "symbol", flat=True
        )
    )


def latest_quotes(symbols=None) -> list[QuoteInfo]:
    """The latest quote of each active instrument (of ``symbols`` if given).

    An instrument the feed has not ticked yet shows its reference price and
    ``ts: null``.
    """
    instruments = Instrument.objects.filter(active=True).select_related("quote")
    if symbols is not None:
        instruments = instruments.filter(symbol__in=list(symbols))
    return [_quote_of(instrument) for instrument in instruments]


def _quote_of(instrument: Instrument) -> QuoteInfo:
    try:
        quote = instrument.quote
    except Quote.DoesNotExist:
        price = instrument.reference_price
        return quote_info(
            instrument.symbol,
            last=price,
            open=price,
            high=price,
            low=price,
            prev_close=price,
            volume=0,
            at=None,
            decimals=instrument.decimals,
        )
    return quote_info(
        instrument.symbol,
        last=quote.last,
        open=quote.open,
        high=quote.high,
        low=quote.low,
        prev_close=quote.prev_close,
        volume=quote.volume,
        at=quote.updated_at,
        decimals=instrument.decimals,
    )


def history(symbol: str, limit: int) -> list[list[float]] | None:
    """``[[epoch ms, price], ...]`` oldest first, or None for an unknown symbol."""
    instrument = Instrument.objects.filter(symbol=symbol, active=True).first()
    if instrument is None:
        return None
    points = PricePoint.objects.filter(instrument=instrument).order_by("-at")[:limit]
    return [[round(p.at.timestamp() * 1000), p.price] for p in reversed(points)]


def publish_instruments_on_commit() -> None:
    """Send every open board the current instrument list, once the write commits."""

    def send():
        frame = instruments_frame(active_instruments())
        # Keyed: a slow socket only needs the newest list.
        fanout.publish(INSTRUMENTS_TOPIC, frame, key="instruments")

    transaction.on_commit(send)
