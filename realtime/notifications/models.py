"""Notifications and what users follow.

A follow whose target belongs to another feature stores the target by its
public name (a chat room by slug, an instrument by symbol), so this feature
needs none of their modules; users and teams are foreign keys.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from realtime.scores.models import Team

USER = settings.AUTH_USER_MODEL


class NotificationStream(models.Model):
    """One row per user: the lock that orders their ``seq`` and the unread count."""

    user = models.OneToOneField(
        USER, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)
    unread = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.user_id}: {self.last_seq} ({self.unread} unread)"


class Notification(models.Model):
    class Kind(models.TextChoices):
        GOAL = "goal", _("goal")
        KICK_OFF = "kick_off", _("kick-off")
        FULL_TIME = "full_time", _("full-time")
        PRICE = "price", _("price alert")
        MENTION = "mention", _("mention")
        ROOM = "room", _("room message")
        USER = "user", _("followed user")
        DIRECT = "direct", _("direct message")

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # ``title`` and ``body`` in the site's default language; ``params`` are
    # what ``texts.render`` needs to say them again in the reader's language
    # (empty: the stored text is all there is).
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=200, blank=True)
    read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-seq"]
        constraints = [
            models.UniqueConstraint(fields=["user", "seq"], name="notification_seq")
        ]
        indexes = [models.Index(fields=["user", "read"], name="notification_unread")]

    def __str__(self):
        return f"{self.user_id}#{self.seq} {self.title}"


class TeamFollow(models.Model):
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="team_follow_once")
        ]

    def __str__(self):
        return f"{self.user_id} -> {self.team_id}"


class UserFollow(models.Model):
    follower = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    followed = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["follower", "followed"], name="user_follow_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followed")),
                name="user_follow_not_self",
            ),
        ]

    def __str__(self):
        return f"{self.follower_id} -> {self.followed_id}"


class RoomFollow(models.Model):
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    room_slug = models.SlugField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "room_slug"], name="room_follow_once"
            )
        ]

    def __str__(self):
        return f"{self.user_id} -> #{self.room_slug}"


class PriceAlert(models.Model):
    """Notify once when an instrument's price crosses ``level``.

    ``armed`` is the once-per-crossing state: a firing disarms the alert, and
    it re-arms when the price is back on the other side of the level by a
    margin (``alerts.REARM_MARGIN``).
    """

    class Direction(models.TextChoices):
        ABOVE = "above", _("rises to or above")
        BELOW = "below", _("falls to or below")

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    symbol = models.CharField(max_length=16)
    direction = models.CharField(max_length=5, choices=Direction.choices)
    level = models.DecimalField(max_digits=14, decimal_places=4)
    armed = models.BooleanField(default=True)
    fired_count = models.PositiveIntegerField(default=0)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["symbol", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "symbol", "direction", "level"],
                name="price_alert_once",
            )
        ]

    def __str__(self):
        return f"{self.symbol} {self.direction} {self.level}"

    @property
    def level_text(self) -> str:
        """The level as it was meant: "225.99", not the column's "225.9900"."""
        return plain_number(self.level)

    def met_by(self, price: float) -> bool:
        """Is ``price`` on the alerting side of the level?"""
        level = float(self.level)
        return price >= level if self.direction == "above" else price <= level


def plain_number(value) -> str:
    """225.99, 226, 0.0042: as many decimals as the number has, no exponent."""
    return format(Decimal(str(value)).normalize(), "f")
