"""Candles rolled up in the database from chart points, over HTTP, and the
thinning that keeps them exact."""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from realtime.demo import seed_instruments
from realtime.models import Instrument, PricePoint
from realtime.quotes.feed import MarketFeed, MarketTick, RandomWalkMarket
from realtime.quotes.history import RANGES, candles, floor_time, thin_history

pytestmark = pytest.mark.django_db


def minute_ago(n: int, second: int = 0) -> datetime:
    return (
        floor_time(timezone.now(), 60)
        - timedelta(minutes=n)
        + timedelta(seconds=second)
    )


@pytest.fixture
def points():
    """Two known minutes of AAPL, an old point, and another symbol's point."""
    seed_instruments()
    aapl = Instrument.objects.get(symbol="AAPL")
    msft = Instrument.objects.get(symbol="MSFT")
    rows = [
        (aapl, 10.0, 100, minute_ago(10, 1)),
        (aapl, 12.0, 50, minute_ago(10, 20)),
        (aapl, 9.0, 25, minute_ago(10, 40)),
        (aapl, 11.0, 5, minute_ago(10, 59)),
        (aapl, 11.5, 300, minute_ago(9, 30)),
        (aapl, 99.0, 7, minute_ago(200)),  # past the 1 min range's 120 candles
        (msft, 500.0, 1, minute_ago(10, 30)),
    ]
    PricePoint.objects.bulk_create(
        PricePoint(instrument=i, price=p, volume=v, at=at) for i, p, v, at in rows
    )


def test_minute_candles_roll_up_known_points(client, points):
    """Each minute's first, highest, lowest and last price, its volume and ticks."""
    response = client.get("/quotes/api/candles/aapl/?range=1m")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert (body["symbol"], body["range"], body["seconds"]) == ("AAPL", "1m", 60)
    start = int(minute_ago(10).timestamp())
    assert body["candles"] == [
        {
            "time": start,
            "open": 10.0,
            "high": 12.0,
            "low": 9.0,
            "close": 11.0,
            "volume": 180,
            "ticks": 4,
        },
        {
            "time": start + 60,
            "open": 11.5,
            "high": 11.5,
            "low": 11.5,
            "close": 11.5,
            "volume": 300,
            "ticks": 1,
        },
    ]


def test_hour_and_day_candles_hold_the_same_trades(client, points):
    """Longer ranges cover the same points, so open, close, extremes and volume
    agree; the old point is inside them."""
    for range_name in ("1h", "1d"):
        rows = client.get(f"/quotes/api/candles/AAPL/?range={range_name}").json()[
            "candles"
        ]
        assert all(row["time"] % RANGES[range_name].seconds == 0 for row in rows)
        assert rows[0]["open"] == 99.0 and rows[-1]["close"] == 11.5
        assert max(r["high"] for r in rows) == 99.0
        assert min(r["low"] for r in rows) == 9.0
        assert sum(r["volume"] for r in rows) == 487
        assert sum(r["ticks"] for r in rows) == 6


def test_the_current_candle_is_read_fresh_each_time(client, points):
    """Closed candles may come from the cache; the open one never does."""
    url = "/quotes/api/candles/AAPL/?range=1m"
    assert len(client.get(url).json()["candles"]) == 2
    aapl = Instrument.objects.get(symbol="AAPL")
    PricePoint.objects.create(instrument=aapl, price=15.0, volume=9, at=timezone.now())
    newest = client.get(url).json()["candles"][-1]
    assert (newest["close"], newest["volume"], newest["ticks"]) == (15.0, 9, 1)


def test_unknown_symbols_and_ranges_are_refused(client, points):
    """A symbol the feed does not know is a 404; a range it does not offer a 400."""
    missing = client.get("/quotes/api/candles/ZZZZ/?range=1m")
    assert missing.status_code == 404
    assert "ZZZZ" in missing.json()["error"]
    bad = client.get("/quotes/api/candles/AAPL/?range=5y")
    assert bad.status_code == 400
    assert "1m, 1h, 1d" in bad.json()["error"]


def test_thinning_keeps_every_candle_and_drops_the_rest():
    """Points every 10 s for 2.5 days thin to four a minute past two hours and
    four an hour past two days, with every candle as it was."""
    seed_instruments()
    aapl = Instrument.objects.get(symbol="AAPL")
    now = datetime(2026, 12, 2, 12, 0, 30, tzinfo=UTC)
    start = now - timedelta(hours=60)
    PricePoint.objects.bulk_create(
        PricePoint(
            instrument=aapl,
            price=100 + (n * 37 % 23) / 10,
            volume=n % 5,
            at=start + timedelta(seconds=10 * n),
        )
        for n in range(60 * 360)
    )
    before = {r: candles("AAPL", r, now) for r in RANGES}
    thin_history(aapl.pk, now, lookback=timedelta(days=3))
    after = {r: candles("AAPL", r, now) for r in RANGES}

    def kept(since, until):
        return PricePoint.objects.filter(at__gte=since, at__lt=until).count()

    assert kept(start, now - timedelta(days=2)) <= 4 * 12
    assert kept(now - timedelta(hours=46), now - timedelta(hours=3)) <= 4 * 60 * 43
    assert kept(now - timedelta(hours=2), now) == 2 * 360  # untouched

    def without_ticks(rows):
        return [{k: v for k, v in row.items() if k != "ticks"} for row in rows]

    for name in RANGES:
        assert without_ticks(after[name]) == without_ticks(before[name]), name
    assert after["1m"][-5:] == before["1m"][-5:]  # tick counts and all


@pytest.mark.django_db(transaction=True)
async def test_the_feed_writes_the_traded_volume_with_each_point():
    """A chart point carries what traded since the previous one, not the day's."""
    await sync_to_async(Instrument.objects.create)(
        symbol="AAPL", name="Apple", reference_price=200
    )
    feed = MarketFeed(RandomWalkMarket(instruments=[]))
    await sync_to_async(feed._load_sessions)()
    for volume in (100, 200, 300):
        await feed.process(MarketTick("AAPL", 201.0, volume, timezone.now()))
    await feed.flush()
    await feed.process(MarketTick("AAPL", 202.0, 50, timezone.now()))
    await feed.flush()
    volumes = await sync_to_async(list)(
        PricePoint.objects.order_by("at", "id").values_list("volume", flat=True)
    )
    assert volumes == [600, 50]
