"""The market simulator and the feed runner's batched writes."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from realtime.feeds import FEEDS
from realtime.models import Instrument, PricePoint, Quote
from realtime.quotes.feed import (
    InstrumentSpec,
    MarketFeed,
    MarketTick,
    RandomWalkMarket,
    trim_history,
)

SPECS = [
    InstrumentSpec("AAPL", "stock", 200.0, 2.0),
    InstrumentSpec("110022", "fund", 3.5, 0.8, decimals=4),
]


async def take(source, n):
    ticks = source.ticks()
    return [await anext(ticks) for _ in range(n)]


async def test_the_simulator_is_reproducible_with_a_seed():
    """The same seed walks the same prices; another seed walks elsewhere."""

    async def walk(seed):
        source = RandomWalkMarket(seed=seed, interval=0, instruments=SPECS)
        return [(t.symbol, t.price) for t in await take(source, 40)]

    assert await walk(7) == await walk(7)
    assert await walk(7) != await walk(8)


async def test_funds_publish_their_net_value_far_less_often_than_stocks_trade():
    """A fund ticks once per fund_every rounds; prices keep their decimals."""
    source = RandomWalkMarket(seed=1, interval=0, fund_every=20, instruments=SPECS)
    ticks = await take(source, 300)
    stocks = [t for t in ticks if t.symbol == "AAPL"]
    funds = [t for t in ticks if t.symbol == "110022"]
    assert len(stocks) > 4 * len(funds) > 0
    assert all(round(t.price, 4) == t.price and t.volume == 0 for t in funds)
    assert all(round(t.price, 2) == t.price and t.volume > 0 for t in stocks)
    assert len({t.price for t in stocks}) > 10  # it actually walks


@pytest.mark.django_db(transaction=True)
async def test_ticks_become_one_quote_row_and_one_chart_point_per_flush():
    """Many ticks between flushes cost one upsert and one point per symbol."""
    await sync_to_async(Instrument.objects.create)(
        symbol="AAPL", name="Apple", reference_price=200
    )
    feed = MarketFeed(RandomWalkMarket(instruments=[]))
    await sync_to_async(feed._load_sessions)()
    for price in (201.0, 205.0, 199.0, 202.0):
        await feed.process(MarketTick("AAPL", price, 100, timezone.now()))
    await feed.process(MarketTick("GONE", 1.0, 1, timezone.now()))  # ignored
    await feed.flush()
    quote = await sync_to_async(Quote.objects.get)(instrument__symbol="AAPL")
    assert (quote.last, quote.open, quote.high, quote.low) == (202, 201, 205, 199)
    assert (quote.prev_close, quote.volume) == (200, 400)
    assert await sync_to_async(PricePoint.objects.count)() == 1
    await feed.process(MarketTick("AAPL", 203.0, 100, timezone.now()))
    await feed.flush()
    await feed.flush()  # nothing new: no write
    assert await sync_to_async(PricePoint.objects.count)() == 2
    assert (await sync_to_async(Quote.objects.get)(pk=quote.pk)).last == 203


@pytest.mark.django_db
def test_chart_history_is_trimmed_to_the_newest_points():
    """The history table stays bounded: older points go, newest stay."""
    aapl = Instrument.objects.create(symbol="AAPL", name="A", reference_price=1)
    now = timezone.now()
    PricePoint.objects.bulk_create(
        PricePoint(instrument=aapl, price=n, at=now + timedelta(seconds=n))
        for n in range(30)
    )
    trim_history(aapl.pk, 10)
    assert sorted(PricePoint.objects.values_list("price", flat=True)) == list(
        range(20, 30)
    )


def test_the_market_feed_is_registered():
    """``manage.py run_feeds market`` and ``serve`` find the simulator."""
    assert "market" in FEEDS
