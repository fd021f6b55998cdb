"""Price alerts against the quotes feed's ``price_ticked`` signal.

The signal fires on every tick in the feed's event loop, so the receiver
works from an in-memory book of alerts (one per process and event loop) and
touches the database only when an alert crosses its level: a firing disarms
the alert with a conditional UPDATE (so it fires once per crossing even if
two processes see the tick). It re-arms only once the price has moved back
past the level by ``REARM_MARGIN`` of the level (hysteresis): a price that
hovers around the level fires once, not on every wiggle across it.

The book reloads when alerts change (at once in this process; through a
fan-out control event in the others) and every ``REFRESH_EVERY`` seconds.
"""

import asyncio
import logging
import time
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db import transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from realtime.core import fanout
from realtime.core.perloop import PerLoop
from realtime.models import PriceAlert
from realtime.notifications import service as notify
from realtime.notifications.models import plain_number

log = logging.getLogger(__name__)

CONTROL_TOPIC = "notifications.alerts"
REFRESH_EVERY = 5.0
# 0.5 % of the level: well above the demo feed's move per tick (about 0.08 %
# for a 2 % daily volatility), so noise around the level does not re-arm.
REARM_MARGIN = 0.005


@dataclass
class CachedAlert:
    id: int
    above: bool
    level: float
    armed: bool

    def met_by(self, price: float) -> bool:
        return price >= self.level if self.above else price <= self.level

    def rearmed_by(self, price: float) -> bool:
        """Back past the level by the margin, on the side it started from."""
        margin = self.level * REARM_MARGIN
        if self.above:
            return price <= self.level - margin
        return price >= self.level + margin


class AlertBook:
    """The alerts of every user, by symbol, as this process last read them."""

    def __init__(self):
        self.by_symbol: dict[str, list[CachedAlert]] = {}
        self.dirty = True
        self.loaded_at = 0.0
        self._reloading: asyncio.Task | None = None
        self._listening = False

    async def on_tick(self, symbol: str, price: float) -> None:
        if self.dirty:
            await self.reload()  # alerts changed: the next tick must see them
        elif time.monotonic() - self.loaded_at > REFRESH_EVERY:
            if self._reloading is None or self._reloading.done():
                self._reloading = asyncio.ensure_future(self.reload())
        for alert in self.by_symbol.get(symbol.upper(), ()):
            if alert.armed and alert.met_by(price):
                alert.armed = False
                await sync_to_async(_fire)(alert.id, price)
            elif not alert.armed and alert.rearmed_by(price):
                alert.armed = True
                await sync_to_async(_rearm)(alert.id)

    async def reload(self) -> None:
        if not self._listening:
            self._listening = True
            await fanout.get_hub().join(CONTROL_TOPIC, _ControlListener(self))
        self.dirty = False
        rows = await sync_to_async(_load)()
        book: dict[str, list[CachedAlert]] = {}
        for pk, symbol, direction, level, armed in rows:
            alert = CachedAlert(pk, direction == "above", float(level), armed)
            book.setdefault(symbol.upper(), []).append(alert)
        self.by_symbol = book
        self.loaded_at = time.monotonic()


class _ControlListener:
    """Joins the hub like a socket's outbox, to hear "alerts changed"."""

    def __init__(self, book: AlertBook):
        self.book = book

    async def on_control(self, topic, event) -> None:
        self.book.dirty = True

    def deliver(self, frame) -> None:
        """Nothing but control events is published on the topic."""


def _load():
    return list(
        PriceAlert.objects.values_list("pk", "symbol", "direction", "level", "armed")
    )


def _quotes_url() -> str:
    try:
        return reverse("quotes")
    except NoReverseMatch:
        return ""


def _fire(alert_id: int, price: float) -> None:
    with transaction.atomic():
        fired = PriceAlert.objects.filter(pk=alert_id, armed=True).update(
            armed=False, fired_count=F("fired_count") + 1, last_fired_at=timezone.now()
        )
        if not fired:
            return  # another process fired it for this crossing
        alert = PriceAlert.objects.get(pk=alert_id)
        params = {
            "symbol": alert.symbol,
            "direction": alert.direction,
            "price": plain_number(price),
            "level": alert.level_text,
        }
        notify.notify(alert.user_id, "price", url=_quotes_url(), params=params)


def _rearm(alert_id: int) -> None:
    PriceAlert.objects.filter(pk=alert_id, armed=False).update(armed=True)


_books = PerLoop(AlertBook)


def get_book() -> AlertBook:
    return _books.get()


def alerts_changed() -> None:
    """After commit of an alert change: reload here now, elsewhere via control."""
    for book in _books.all():
        book.dirty = True
    fanout.publish_control(CONTROL_TOPIC, {"type": "alerts.changed"})
