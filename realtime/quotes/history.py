"""Candles rolled up in the database from ``PricePoint``, and the thinning that
keeps the table small without changing any candle.

A candle is one bucket of time (a minute, an hour, a UTC day): its first,
highest, lowest and last price, the volume traded in it and how many points
it holds. The roll-up is one query of window functions over ``Trunc`` buckets,
which PostgreSQL and SQLite (3.25+) both run.

Thinning: a bucket's candle only needs four of its points (first, last,
highest, lowest), so once points are older than ``TIERS`` allow, each minute
and later each hour keeps just those four, the bucket's volume moved onto its
last point. Minute candles stay exact for two days, hour and day candles for
as long as points are kept (``MAX_AGE``).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Max, Min, Sum, Window
from django.db.models.functions import FirstValue, Trunc

from realtime.models import Instrument, PricePoint
from realtime.quotes.feed import InstrumentSpec, RandomWalkMarket


@dataclass(frozen=True)
class Range:
    seconds: int
    kind: str  # Trunc's kind
    count: int  # candles shown


RANGES = {
    "1m": Range(60, "minute", 120),
    "1h": Range(3600, "hour", 120),
    "1d": Range(86400, "day", 90),
}
TIERS = ((timedelta(hours=2), 60), (timedelta(days=2), 3600))
MAX_AGE = timedelta(days=91)
LOOKBACK = timedelta(minutes=30)  # how far back each pass looks past a tier's edge
SETTLE_SECONDS = 3  # the feed writes its points within this of their time

log = logging.getLogger(__name__)


class Candle(TypedDict):
    time: int  # the bucket's start, epoch seconds (UTC)
    open: float
    high: float
    low: float
    close: float
    volume: int
    ticks: int  # price points rolled into it


def floor_time(at: datetime, seconds: int) -> datetime:
    epoch = int(at.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def candles(symbol: str, range_name: str, now: datetime) -> list[Candle] | None:
    """The newest candles of an active instrument, oldest first; None if unknown.

    Closed candles never change (thinning keeps them exact), so they are
    cached until the current period ends; the current one is read each time.
    """
    instrument = Instrument.objects.filter(symbol=symbol, active=True).first()
    if instrument is None:
        return None
    spec = RANGES[range_name]
    current = floor_time(now, spec.seconds)
    since = current - timedelta(seconds=spec.seconds * (spec.count - 1))
    key = f"quotes.candles.{instrument.pk}.{range_name}.{int(current.timestamp())}"
    closed = _cached(key)
    if closed is None:
        closed = _rollup(instrument, spec, since, current)
        # A point of the period just closed may still be on its way from the
        # feed's write batch for a moment: cache only once it must be written.
        if (now - current).total_seconds() > SETTLE_SECONDS:
            _cache(key, closed, spec.seconds)
    return closed + _rollup(instrument, spec, current, None)


def _cached(key: str):
    try:
        return cache.get(key)
    except Exception:  # the cache is down: the database still answers
        return None


def _cache(key: str, value, seconds: int) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:
        log.warning("Candles not cached: the cache is unreachable")


def _rollup(instrument, spec: Range, since, until) -> list[Candle]:
    points = PricePoint.objects.filter(instrument=instrument, at__gte=since)
    if until is not None:
        points = points.filter(at__lt=until)
    bucket = [F("bucket")]
    rows = (
        points.annotate(bucket=Trunc("at", spec.kind, tzinfo=UTC))
        .annotate(
            first=Window(
                FirstValue("price"), partition_by=bucket, order_by=[F("at"), F("id")]
            ),
            last=Window(
                FirstValue("price"),
                partition_by=bucket,
                order_by=[F("at").desc(), F("id").desc()],
            ),
            top=Window(Max("price"), partition_by=bucket),
            bottom=Window(Min("price"), partition_by=bucket),
            traded=Window(Sum("volume"), partition_by=bucket),
            points=Window(Count("id"), partition_by=bucket),
        )
        .values_list("bucket", "first", "top", "bottom", "last", "traded", "points")
        .distinct()
        .order_by("bucket")
    )
    return [
        {
            "time": int(at.timestamp()),
            "open": o,
            "high": h,
            "low": low,
            "close": c,
            "volume": int(v or 0),
            "ticks": n,
        }
        for at, o, h, low, c, v, n in rows
    ]


def thin_history(instrument_id: int, now: datetime, lookback=LOOKBACK) -> None:
    """Drop points no candle needs any more, and those past ``MAX_AGE``."""
    points = PricePoint.objects.filter(instrument_id=instrument_id)
    points.filter(at__lt=now - MAX_AGE).delete()
    for age, seconds in TIERS:
        end = floor_time(now - age, seconds)
        start = floor_time(end - lookback, seconds)
        _thin(points.filter(at__gte=start, at__lt=end), seconds)


def _thin(points, seconds: int) -> None:
    buckets = defaultdict(list)
    for row in points.order_by("at", "id").values_list("id", "at", "price", "volume"):
        buckets[floor_time(row[1], seconds)].append(row)
    drop: list[int] = []
    zero: list[int] = []
    totals: list[PricePoint] = []
    for rows in buckets.values():
        last = rows[-1][0]
        keep = {rows[0][0], last}
        keep.add(max(rows, key=lambda r: r[2])[0])
        keep.add(min(rows, key=lambda r: r[2])[0])
        if len(keep) == len(rows):
            continue
        drop += [r[0] for r in rows if r[0] not in keep]
        zero += [pk for pk in keep if pk != last]
        totals.append(PricePoint(id=last, volume=sum(r[3] for r in rows)))
    if drop:
        with transaction.atomic():
            PricePoint.objects.filter(id__in=drop).delete()
            PricePoint.objects.filter(id__in=zero).update(volume=0)
            # Small batches: one CASE per row makes a big UPDATE quadratic.
            PricePoint.objects.bulk_update(totals, ["volume"], batch_size=100)


def simulate_history(instrument: Instrument, now: datetime, days: int = 30) -> int:
    """Demo data: the simulator's walk back from ``now``, a point every 5 min
    for ``days`` and every 15 s for the last two hours (thinned as if kept)."""
    spec = InstrumentSpec(
        instrument.symbol,
        instrument.kind,
        instrument.reference_price,
        instrument.volatility,
        instrument.decimals,
    )
    recent = now - TIERS[0][0]
    steps = [(300, now - timedelta(days=days), recent), (15, recent, now)]
    points = []
    market = RandomWalkMarket(instruments=[spec], fund_every=1)
    for every, since, until in steps:
        market.interval = every
        at, step = since, 0
        while at < until:
            tick = market._step(spec, step, at)
            if tick is not None:
                points.append(
                    PricePoint(
                        instrument=instrument,
                        price=tick.price,
                        volume=tick.volume * every,
                        at=at,
                    )
                )
            at, step = at + timedelta(seconds=every), step + 1
    PricePoint.objects.bulk_create(points, batch_size=1000)
    return len(points)
