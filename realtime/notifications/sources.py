"""What makes a notification: team moments, chat messages, price crossings.

Connected from ``RealtimeConfig.ready``. Chat and quotes are reached only
through ``realtime.signals``; scores through ``scoreboard.match_moments``.
"""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.text import Truncator

from realtime.chat.presence import online_ids_from_thread
from realtime.core.outages import SERVICE_ERRORS
from realtime.models import Match, PriceAlert, RoomFollow, TeamFollow, UserFollow
from realtime.notifications import alerts as price_alerts
from realtime.notifications import service as notify
from realtime.scores.service import match_moments
from realtime.signals import message_posted, price_ticked

log = logging.getLogger(__name__)

MAX_MENTIONS = 20


@receiver(match_moments, dispatch_uid="notifications.match_moments")
def on_match_moments(sender, match_id: int, moments: list[str], **kwargs):
    """Kick-off, goals and full-time go to followers of either team."""
    match = Match.objects.select_related("competition", "home", "away").get(pk=match_id)
    users = set(
        TeamFollow.objects.filter(team__in=[match.home_id, match.away_id]).values_list(
            "user_id", flat=True
        )
    )
    params = {
        "home": match.home.name,
        "away": match.away.name,
        "home_score": match.home_score,
        "away_score": match.away_score,
        "competition": match.competition.name,
        "minute": match.minute,
    }
    url = match.get_absolute_url()
    for kind in moments:
        for user_id in sorted(users):
            notify.notify(user_id, kind, url=url, params=params)


@receiver(message_posted, dispatch_uid="notifications.message_posted")
def on_message_posted(
    sender, room_slug, room_public, author_id, author_name, text, mentions, **kwargs
):
    """Mentions always notify; the other member of a direct room, followers of
    a public room or of the author do when they are not in the room right now.

    Sent from the database thread (``chat.service``), after the message is
    stored. The room's presence is read only when someone might be skipped
    for being there, by this thread from Redis (it does not wait for the
    event loop), and shared for half a second: a crowded room nobody follows
    costs no presence read per message, a followed one one per interval. The
    message is stored already: in an outage its notifications are dropped
    with a warning (a notification is a hint), never the message.
    """
    try:
        _notify_chat(
            room_slug,
            room_public,
            author_id,
            author_name,
            text,
            mentions,
            kwargs.get("direct_to", ()),
        )
    except SERVICE_ERRORS as exc:
        log.warning("Notifications of a message in #%s not sent (%s)", room_slug, exc)


def _notify_chat(room_slug, public, author_id, author_name, text, mentions, direct_to):
    targets = _chat_targets(room_slug, public, author_id, mentions, direct_to)
    if any(kind != "mention" for kind in targets.values()):
        present = online_ids_from_thread(f"chat.{room_slug}")
        targets = {
            user_id: kind
            for user_id, kind in targets.items()
            if kind == "mention" or user_id not in present
        }
    params = {
        "author": author_name,
        "room": room_slug,
        "text": Truncator(text).chars(140),
    }
    for user_id, kind in sorted(targets.items()):
        notify.notify(user_id, kind, url=f"/chat/{room_slug}/", params=params)


def _chat_targets(room_slug, public, author_id, mentions, direct_to) -> dict[int, str]:
    """Who might hear of a message, and why: ``{user_id: kind}``."""
    targets: dict[int, str] = {}
    named = get_user_model().objects.filter(username__in=mentions[:MAX_MENTIONS])
    for user_id in named.values_list("pk", flat=True):
        targets[user_id] = "mention"
    for user_id in direct_to:
        targets.setdefault(user_id, "direct")
    if public:  # a private room's members are chat's business, not ours
        room = RoomFollow.objects.filter(room_slug=room_slug)
        for user_id in room.values_list("user_id", flat=True):
            targets.setdefault(user_id, "room")
        fans = UserFollow.objects.filter(followed_id=author_id)
        for user_id in fans.values_list("follower_id", flat=True):
            targets.setdefault(user_id, "user")
    targets.pop(author_id, None)
    return targets


@receiver(price_ticked, dispatch_uid="notifications.price_ticked")
async def on_price_ticked(sender, symbol, price, **kwargs):
    """Every tick: a lookup in memory; the database only on a crossing."""
    await price_alerts.get_book().on_tick(symbol, float(price))


@receiver(post_save, sender=PriceAlert, dispatch_uid="notifications.alert_saved")
@receiver(post_delete, sender=PriceAlert, dispatch_uid="notifications.alert_deleted")
def on_alert_changed(sender, **kwargs):
    transaction.on_commit(price_alerts.alerts_changed)
