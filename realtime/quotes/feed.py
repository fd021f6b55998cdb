r"""The market feed: a source of ticks, and the runner that makes them quotes.

    MarketSource.ticks() --MarketTick--> MarketFeed --> fanout (per tick, keyed)
                                                   \--> Quote / PricePoint (batched)

A source only says "this symbol traded at this price"; the runner keeps the
day's open/high/low/volume, publishes each tick to ``quotes.<SYMBOL>`` with
``key=symbol`` (conflated per socket), sends ``price_ticked``, and writes the
latest quotes and one chart point per symbol every ``FLUSH_INTERVAL``, so the
database load does not grow with the tick rate. docs/feeds.md describes how to
plug in a real market source.

The simulator (``RandomWalkMarket``) is a seeded geometric random walk: each
instrument moves with its own daily volatility (a demo "day" lasts
``DAY_SECONDS`` of wall time, so prices visibly move), drifts gently back to its
reference price, and funds publish their net value every ``fund_every`` rounds
only. Environment: ``DUPLEX_MARKET_INTERVAL`` (seconds between rounds, 1; 0
floods the layer, for load and slow-consumer tests) and ``DUPLEX_MARKET_SEED``
(unset: a fresh walk each run).
"""

import asyncio
import logging
import math
import os
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from asgiref.sync import sync_to_async
from django.utils import timezone

from realtime.core import fanout
from realtime.quotes.protocol import quote_info, tick_frame, topic
from realtime.signals import price_ticked

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.5  # seconds between database writes of quotes and chart points
PRUNE_EVERY = 120  # flushes between trims of the chart history
DAY_SECONDS = 600.0  # wall-clock seconds one simulated trading day lasts
QUOTE_FIELDS = ["last", "open", "high", "low", "prev_close", "volume", "updated_at"]
TRADE_CHANCE = 0.35  # a stock trades in this share of rounds, not in every one
REVERSION = 0.5  # how hard prices drift back to the reference, per simulated day


@dataclass(frozen=True)
class MarketTick:
    """One trade (a stock) or one published net asset value (a fund)."""

    symbol: str
    price: float
    volume: int  # traded since the previous tick of this symbol; 0 for funds
    at: datetime  # aware; when the source produced it


class MarketSource(Protocol):
    """What the runner needs from a market data source (see docs/feeds.md)."""

    def ticks(self) -> AsyncIterator[MarketTick]:
        """Yield ticks as they happen, forever; raising makes the runner restart."""
        ...


@dataclass
class InstrumentSpec:
    symbol: str
    kind: str  # "stock" or "fund"
    reference_price: float
    volatility: float  # daily, in percent
    decimals: int = 2
    last: float | None = None  # where yesterday's walk stopped, if anywhere


class RandomWalkMarket:
    """The demo's market: a seeded random walk per instrument."""

    def __init__(
        self,
        *,
        seed: int | None = None,
        interval: float = 1.0,
        fund_every: int = 20,
        instruments: list[InstrumentSpec] | None = None,
        start_prices: dict[str, float] | None = None,
        refresh: float = 3.0,
    ):
        self.rng = random.Random(seed)
        self.interval = interval
        self.fund_every = fund_every
        self.fixed = instruments  # None: read the active instruments from the DB
        self.prices = dict(start_prices or {})
        self.refresh_rounds = max(1, round(refresh / interval)) if interval else 50

    async def ticks(self) -> AsyncIterator[MarketTick]:
        specs = self.fixed or []
        round_no = 0
        while True:
            if self.fixed is None and round_no % self.refresh_rounds == 0:
                # Picks up instruments added or deactivated in the admin.
                specs = await sync_to_async(load_specs)()
            now = timezone.now()
            for spec in specs:
                tick = self._step(spec, round_no, now)
                if tick is not None:
                    yield tick
            round_no += 1
            await asyncio.sleep(self.interval)

    def _step(self, spec: InstrumentSpec, round_no: int, now) -> MarketTick | None:
        rng = self.rng
        if spec.kind == "fund":
            if round_no % self.fund_every:
                return None
            dt = self.interval * self.fund_every
            volume = 0
        else:
            if rng.random() > TRADE_CHANCE:
                return None
            dt = self.interval
            volume = 100 * rng.randint(1, 50)
        price = self.prices.get(spec.symbol) or spec.last or spec.reference_price
        days = max(dt, 0.05) / DAY_SECONDS
        sigma = spec.volatility / 100 * math.sqrt(days)
        drift = -REVERSION * math.log(price / spec.reference_price) * days
        moved = round(price * math.exp(drift + sigma * rng.gauss(0, 1)), spec.decimals)
        price = self.prices[spec.symbol] = max(moved, 10**-spec.decimals)
        return MarketTick(spec.symbol, price, volume, now)


def load_specs() -> list[InstrumentSpec]:
    from realtime.models import Instrument

    return [
        InstrumentSpec(
            i.symbol,
            i.kind,
            i.reference_price,
            i.volatility,
            i.decimals,
            getattr(getattr(i, "quote", None), "last", None),
        )
        for i in Instrument.objects.filter(active=True).select_related("quote")
    ]


@dataclass
class Session:
    """One instrument's trading day as the runner tracks it."""

    instrument_id: int
    decimals: int
    day: date | None  # None: no tick yet, the first one opens the day
    last: float
    open: float
    high: float
    low: float
    prev_close: float
    volume: int
    at: datetime | None
    unwritten_volume: int = 0  # traded since the last chart point was written

    def apply(self, tick: MarketTick) -> float:
        """Record ``tick``; returns the previous price."""
        previous = self.last
        day = timezone.localdate(tick.at)
        if day != self.day:  # a new trading day opens at this tick
            self.day, self.prev_close = day, self.last
            self.open = self.high = self.low = tick.price
            self.volume = 0
        self.last = tick.price
        self.high = max(self.high, tick.price)
        self.low = min(self.low, tick.price)
        self.volume += tick.volume
        self.unwritten_volume += tick.volume
        self.at = tick.at
        return previous

    def take_volume(self) -> int:
        """The volume the next chart point carries; called in the event loop."""
        volume, self.unwritten_volume = self.unwritten_volume, 0
        return volume


class MarketFeed:
    """Turn a source's ticks into published quotes and batched writes."""

    def __init__(self, source: MarketSource):
        self.source = source
        self.sessions: dict[str, Session] = {}
        self.dirty: set[str] = set()
        self.flushes = 0
        self.published = 0

    async def run(self) -> None:
        await sync_to_async(self._load_sessions)()
        flusher = asyncio.ensure_future(self._flush_loop())
        try:
            async for tick in self.source.ticks():
                await self.process(tick)
        finally:
            flusher.cancel()
            await self.flush()

    async def process(self, tick: MarketTick) -> None:
        """Publish one tick to its symbol's subscribers, in every web process."""
        session = self.sessions.get(tick.symbol)
        if session is None:
            await sync_to_async(self._load_sessions)()
            session = self.sessions.get(tick.symbol)
            if session is None:
                return  # not an instrument (any more)
        previous = session.apply(tick)
        self.dirty.add(tick.symbol)
        info = quote_info(
            tick.symbol,
            last=session.last,
            open=session.open,
            high=session.high,
            low=session.low,
            prev_close=session.prev_close,
            volume=session.volume,
            at=tick.at,
            decimals=session.decimals,
        )
        await fanout.apublish(topic(tick.symbol), tick_frame(info), key=tick.symbol)
        self.published += 1
        await price_ticked.asend(
            sender=MarketFeed,
            symbol=tick.symbol,
            price=tick.price,
            previous=previous,
            at=info["at"],
        )

    async def flush(self) -> None:
        if self.dirty:
            symbols, self.dirty = self.dirty, set()
            # Taken here, in the loop that adds to it, so no tick's volume is
            # lost to the writing thread.
            volumes = {s: self.sessions[s].take_volume() for s in symbols}
            await sync_to_async(self._write)(volumes)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            try:
                await self.flush()
            except Exception:
                log.exception("Writing quotes failed; the next flush retries")

    def _load_sessions(self) -> None:
        from realtime.models import Instrument

        for instrument in Instrument.objects.select_related("quote"):
            if instrument.symbol in self.sessions:
                continue
            quote = getattr(instrument, "quote", None)
            if quote is not None and quote.updated_at is not None:
                day = timezone.localdate(quote.updated_at)
                session = Session(
                    instrument.pk,
                    instrument.decimals,
                    day,
                    quote.last,
                    quote.open,
                    quote.high,
                    quote.low,
                    quote.prev_close,
                    quote.volume,
                    quote.updated_at,
                )
            else:
                price = instrument.reference_price
                session = Session(
                    instrument.pk,
                    instrument.decimals,
                    None,
                    price,
                    price,
                    price,
                    price,
                    price,
                    0,
                    None,
                )
            self.sessions[instrument.symbol] = session

    def _write(self, volumes: dict[str, int]) -> None:
        """Upsert the latest quotes and add one chart point per changed symbol."""
        from realtime.models import PricePoint, Quote
        from realtime.quotes.history import LOOKBACK, MAX_AGE, thin_history
        from realtime.quotes.models import HISTORY_KEEP

        sessions = [self.sessions[s] for s in volumes]
        Quote.objects.bulk_create(
            [
                Quote(
                    instrument_id=s.instrument_id,
                    last=s.last,
                    open=s.open,
                    high=s.high,
                    low=s.low,
                    prev_close=s.prev_close,
                    volume=s.volume,
                    updated_at=s.at,
                )
                for s in sessions
            ],
            update_conflicts=True,
            unique_fields=["instrument"],
            update_fields=QUOTE_FIELDS,
        )
        PricePoint.objects.bulk_create(
            [
                PricePoint(
                    instrument_id=self.sessions[symbol].instrument_id,
                    price=self.sessions[symbol].last,
                    volume=volume,
                    at=self.sessions[symbol].at,
                )
                for symbol, volume in volumes.items()
            ]
        )
        self.flushes += 1
        if self.flushes % PRUNE_EVERY == 1:
            now = timezone.now()
            # The first pass after a start also thins what piled up meanwhile.
            lookback = MAX_AGE if self.flushes == 1 else LOOKBACK
            for s in self.sessions.values():
                thin_history(s.instrument_id, now, lookback)
                trim_history(s.instrument_id, HISTORY_KEEP)


def trim_history(instrument_id: int, keep: int) -> None:
    from realtime.models import PricePoint

    points = PricePoint.objects.filter(instrument_id=instrument_id)
    cutoff = points.order_by("-at", "-id").values_list("at", flat=True)[keep : keep + 1]
    if cutoff:
        points.filter(at__lte=cutoff[0]).delete()


def source_from_environment() -> RandomWalkMarket:
    seed = os.environ.get("DUPLEX_MARKET_SEED")
    return RandomWalkMarket(
        seed=int(seed) if seed else None,
        interval=float(os.environ.get("DUPLEX_MARKET_INTERVAL") or 1.0),
    )


async def run_market() -> None:
    """The ``market`` feed: the simulator, until cancelled."""
    started = time.monotonic()
    feed = MarketFeed(source_from_environment())
    try:
        await feed.run()
    finally:
        log.info(
            "Market feed published %d ticks in %.0f s",
            feed.published,
            time.monotonic() - started,
        )
