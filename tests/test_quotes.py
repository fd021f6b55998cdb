"""Quotes over /ws/quotes/: subscriptions, snapshots, ticks, limits and errors."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from realtime.models import Instrument, Quote
from realtime.quotes.feed import MarketFeed, MarketTick
from realtime.signals import price_ticked

pytestmark = pytest.mark.django_db(transaction=True)


class NoSource:
    async def ticks(self):
        return
        yield


def make_instruments():
    Instrument.objects.create(
        symbol="AAPL", name="Apple", reference_price=200, volatility=2
    )
    Instrument.objects.create(
        symbol="MSFT", name="Microsoft", reference_price=400, volatility=2
    )
    fund = Instrument.objects.create(
        symbol="110022",
        name="易方达消费行业",
        kind="fund",
        currency="CNY",
        reference_price=3.5,
        volatility=0.5,
    )
    Quote.objects.create(
        instrument=fund,
        last=3.6,
        open=3.5,
        high=3.61,
        low=3.49,
        prev_close=3.5,
        volume=0,
        updated_at=timezone.now() - timedelta(seconds=5),
    )


async def feed():
    await sync_to_async(make_instruments)()
    market = MarketFeed(NoSource())
    await sync_to_async(market._load_sessions)()
    return market


async def tick(market, symbol, price):
    await market.process(MarketTick(symbol, price, 100, timezone.now()))


async def open_quotes(ws):
    communicator, connected, _ = await ws("/ws/quotes/")
    assert connected
    hello = await communicator.receive_json_from()
    assert hello["type"] == "quotes.instruments"
    return communicator, hello


async def subscribe(communicator, *symbols, kind="quotes.subscribe"):
    await communicator.send_json_to({"type": kind, "symbols": list(symbols)})
    return await communicator.receive_json_from()


async def test_connect_lists_the_active_instruments(ws):
    """A new socket gets every active instrument, with its kind and currency."""
    await sync_to_async(make_instruments)()
    await sync_to_async(Instrument.objects.filter(symbol="MSFT").update)(active=False)
    communicator, hello = await open_quotes(ws)
    assert [i["symbol"] for i in hello["instruments"]] == ["110022", "AAPL"]
    fund = hello["instruments"][0]
    assert (fund["name"], fund["kind"], fund["currency"]) == (
        "易方达消费行业",
        "fund",
        "CNY",
    )
    await communicator.disconnect()


async def test_subscribe_snapshots_then_ticks_only_subscribed_symbols(ws):
    """The snapshot fills the board at once; only subscribed symbols tick."""
    market = await feed()
    communicator, _ = await open_quotes(ws)
    snapshot = await subscribe(communicator, "110022", "aapl")
    assert snapshot["type"] == "quotes.snapshot"
    assert snapshot["subscribed"] == ["110022", "AAPL"]
    by_symbol = {q["symbol"]: q for q in snapshot["quotes"]}
    assert by_symbol["110022"]["last"] == 3.6
    assert by_symbol["110022"]["change_pct"] == 2.86
    assert by_symbol["AAPL"]["last"] == 200 and by_symbol["AAPL"]["ts"] is None

    await tick(market, "MSFT", 401.0)
    await tick(market, "AAPL", 201.5)
    frame = await communicator.receive_json_from()
    assert frame["type"] == "quotes.tick"
    assert (frame["symbol"], frame["last"], frame["change"]) == ("AAPL", 201.5, 1.5)
    assert frame["high"] == 201.5 and frame["volume"] == 100
    assert isinstance(frame["ts"], int)
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_unsubscribe_stops_ticks_on_the_same_socket(ws):
    """Unsubscribing needs no reconnect, and the other symbol keeps ticking."""
    market = await feed()
    communicator, _ = await open_quotes(ws)
    await subscribe(communicator, "AAPL", "MSFT")
    reply = await subscribe(communicator, "AAPL", "NOPE", kind="quotes.unsubscribe")
    assert reply == {
        "type": "quotes.unsubscribed",
        "symbols": ["AAPL"],
        "subscribed": ["MSFT"],
    }
    await tick(market, "AAPL", 199.0)
    await tick(market, "MSFT", 402.0)
    frame = await communicator.receive_json_from()
    assert (frame["symbol"], frame["last"]) == ("MSFT", 402.0)
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_unknown_symbols_get_an_error_and_known_ones_still_subscribe(ws):
    """An unknown symbol is named in a not_found error; the socket stays usable."""
    await sync_to_async(make_instruments)()
    communicator, _ = await open_quotes(ws)
    snapshot = await subscribe(communicator, "AAPL", "ZZZZ")
    assert snapshot["subscribed"] == ["AAPL"]
    error = await communicator.receive_json_from()
    assert error["type"] == "error" and error["code"] == "not_found"
    assert "ZZZZ" in error["detail"]
    error = await subscribe(communicator, "ZZZZ")
    assert error["code"] == "not_found"
    assert (await subscribe(communicator, "MSFT"))["subscribed"] == ["AAPL", "MSFT"]
    await communicator.disconnect()


async def test_too_many_subscriptions_are_refused_as_a_whole(ws, settings):
    """Past the per-socket limit nothing of the frame is subscribed."""
    settings.DUPLEX = {**settings.DUPLEX, "QUOTES_MAX_SUBSCRIPTIONS": 2}
    await sync_to_async(make_instruments)()
    communicator, _ = await open_quotes(ws)
    await subscribe(communicator, "AAPL")
    error = await subscribe(communicator, "MSFT", "110022")
    assert (error["type"], error["code"]) == ("error", "too_big")
    assert "2 symbols" in error["detail"]
    error = await subscribe(communicator, "A", "B", "C")
    assert error["code"] == "too_big"
    assert (await subscribe(communicator, "MSFT"))["subscribed"] == ["AAPL", "MSFT"]
    await communicator.disconnect()


async def test_malformed_subscriptions_get_clear_errors(ws):
    """Missing, empty, non-string and over-long symbol lists are invalid."""
    communicator, _ = await open_quotes(ws)
    for frame in [
        {"type": "quotes.subscribe"},
        {"type": "quotes.subscribe", "symbols": "AAPL"},
        {"type": "quotes.subscribe", "symbols": []},
        {"type": "quotes.subscribe", "symbols": [1, 2]},
        {"type": "quotes.unsubscribe", "symbols": ["X" * 50]},
    ]:
        await communicator.send_json_to(frame)
        error = await communicator.receive_json_from()
        assert (error["type"], error["code"]) == ("error", "invalid"), frame
    await communicator.send_json_to({"type": "quotes.buy", "symbols": ["AAPL"]})
    assert (await communicator.receive_json_from())["code"] == "unknown_type"
    await communicator.disconnect()


async def test_instruments_added_or_deactivated_reach_open_boards(ws):
    """An admin's change to the instrument list arrives without a reload."""
    await sync_to_async(make_instruments)()
    communicator, _ = await open_quotes(ws)
    await sync_to_async(Instrument.objects.create)(
        symbol="600519.SS", name="贵州茅台", currency="CNY", reference_price=1500
    )
    frame = await communicator.receive_json_from()
    assert frame["type"] == "quotes.instruments"
    assert "600519.SS" in [i["symbol"] for i in frame["instruments"]]

    aapl = await sync_to_async(Instrument.objects.get)(symbol="AAPL")
    aapl.active = False
    await sync_to_async(aapl.save)()
    frame = await communicator.receive_json_from()
    assert "AAPL" not in [i["symbol"] for i in frame["instruments"]]
    await communicator.disconnect()


async def test_each_tick_sends_price_ticked(ws):
    """Notifications can follow prices through the price_ticked signal."""
    market = await feed()
    seen = []

    async def receiver(sender, **kwargs):
        seen.append(kwargs)

    price_ticked.connect(receiver)
    try:
        await tick(market, "MSFT", 410.0)
    finally:
        price_ticked.disconnect(receiver)
    assert seen[0]["symbol"] == "MSFT"
    assert (seen[0]["price"], seen[0]["previous"]) == (410.0, 400)


async def test_handshake_size_is_unknown_outside_daphne(ws):
    """Without daphne's socket the server says it cannot tell, not a made-up size."""
    communicator, _ = await open_quotes(ws)
    await communicator.send_json_to({"type": "quotes.handshake"})
    assert await communicator.receive_json_from() == {
        "type": "quotes.handshake",
        "request_bytes": None,
        "response_bytes": None,
    }
    await communicator.disconnect()
