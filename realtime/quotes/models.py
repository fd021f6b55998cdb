"""Quotes: instruments (managed in admin), their latest quote, a bounded price
history for the charts, and each user's watchlist.

Prices are floats: the feed rounds them to the instrument's tick size and every
reader serialises them as JSON numbers, so Decimal would buy nothing here.
"""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

# Symbols become fan-out topics (``quotes.<SYMBOL>``), so they stay inside the
# topic alphabet: upper-case letters, digits, dot and dash (600519.SS, BRK-B).
SYMBOL_PATTERN = r"^[A-Z0-9][A-Z0-9.\-]{0,19}$"
# A hard bound on price points per instrument; realtime/quotes/history.py thins
# older points to per-minute and per-hour OHLC well before it is reached.
HISTORY_KEEP = 30000


class Instrument(models.Model):
    class Kind(models.TextChoices):
        STOCK = "stock", _("Stock")
        FUND = "fund", _("Fund")

    symbol = models.CharField(
        _("symbol"),
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(
                SYMBOL_PATTERN,
                _("Upper-case letters, digits, dots and dashes (e.g. 600519.SS)."),
            )
        ],
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"), max_length=5, choices=Kind.choices, default=Kind.STOCK
    )
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    reference_price = models.FloatField(
        _("reference price"),
        validators=[MinValueValidator(0.0001)],
        help_text=_("Where the simulator starts and what it drifts back to."),
    )
    volatility = models.FloatField(
        _("volatility"),
        default=2.0,
        validators=[MinValueValidator(0.0)],
        help_text=_("Daily volatility in percent (a fund's NAV: well under 1)."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["symbol"]
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")

    def __str__(self):
        return f"{self.symbol} {self.name}"

    @property
    def decimals(self) -> int:
        """Funds publish a net asset value to 4 decimals, stocks trade in cents."""
        return 4 if self.kind == self.Kind.FUND else 2


class Quote(models.Model):
    """The latest state of one instrument, written by the feed in batches."""

    instrument = models.OneToOneField(
        Instrument, on_delete=models.CASCADE, primary_key=True, related_name="quote"
    )
    last = models.FloatField()
    open = models.FloatField()
    high = models.FloatField()
    low = models.FloatField()
    prev_close = models.FloatField()
    volume = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField()  # when the feed produced ``last``

    def __str__(self):
        return f"{self.instrument_id} {self.last}"


class PricePoint(models.Model):
    """One point of an instrument's chart, the stuff candles are rolled up from.

    ``volume`` is what traded since the instrument's previous point (0 for a
    fund's net asset value).
    """

    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="history"
    )
    price = models.FloatField()
    volume = models.BigIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["instrument", "-at"])]

    def __str__(self):
        return f"{self.instrument_id} {self.price} at {self.at:%H:%M:%S}"


class Watchlist(models.Model):
    """One instrument a logged-in user watches on the board."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlist"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "instrument"], name="watchlist_once_per_user"
            )
        ]

    def __str__(self):
        return f"{self.user_id} watches {self.instrument_id}"


@receiver(post_save, sender=Instrument)
@receiver(post_delete, sender=Instrument)
def instruments_changed(sender, **kwargs):
    """Open boards learn of an added, edited or removed instrument after commit."""
    from realtime.quotes.service import publish_instruments_on_commit

    publish_instruments_on_commit()
