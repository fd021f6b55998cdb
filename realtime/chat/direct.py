"""Direct messages: private rooms of two, which users start from a profile.

A direct room is an ordinary private room (``is_public=False``, its two users
as members), so history, resume, presence, edits and moderation are the
room machinery's. What differs is who may see it: its two members only, never
staff, and to everyone else it does not exist (404, close code 4004, absent
from lists and search). Its ``direct_key`` holds the pair, one room per pair.
"""

import logging
import secrets

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _

from realtime.chat.flood import check_flood
from realtime.chat.models import Room
from realtime.chat.protocol import DirectFrame, reads_topic
from realtime.core import fanout
from realtime.core.envelope import ErrorCode, ProtocolError, user_ref
from realtime.core.outages import SERVICE_ERRORS

log = logging.getLogger("realtime.chat.service")

SLUG_PREFIX = "dm-"
MAX_LISTED = 100  # direct rooms listed on /chat/, the latest active first


def pair_key(one, other) -> str:
    low, high = sorted((one.pk, other.pk))
    return f"{low}:{high}"


def find_direct(user, other) -> Room | None:
    return Room.objects.filter(direct_key=pair_key(user, other)).first()


def start_direct(user, username: str) -> Room:
    """The direct room of ``user`` and the user named ``username``, made on
    first use. Raises ProtocolError for an unknown user or oneself."""
    if not user.is_authenticated:
        raise ProtocolError(ErrorCode.UNAUTHENTICATED, _("Log in to send messages."))
    other = get_user_model().objects.filter(username=username, is_active=True).first()
    if other is None:
        detail = _("There is no user named “%(name)s”.") % {"name": username}
        raise ProtocolError(ErrorCode.NOT_FOUND, detail)
    if other.pk == user.pk:
        raise ProtocolError(ErrorCode.INVALID, _("You cannot message yourself."))
    room = find_direct(user, other)
    if room is not None:
        return room
    check_flood(user.pk)  # a new room costs what a message costs
    try:
        with transaction.atomic():
            return _create(user, other)
    except IntegrityError:  # the other one started it at the same moment
        return Room.objects.get(direct_key=pair_key(user, other))


def _create(user, other) -> Room:
    names = sorted((user.get_username(), other.get_username()))
    room = Room.objects.create(
        name=" · ".join(names)[:80],
        slug=SLUG_PREFIX + secrets.token_hex(8),
        is_public=False,
        direct_key=pair_key(user, other),
    )
    room.members.add(user, other)
    transaction.on_commit(lambda: _announce(room, user, other))
    return room


def _announce(room: Room, one, other) -> None:
    """Show the new room in the room lists of its two members (and no one else's).

    Best effort, as for read marks: the room is made, and a list shows it on
    its next load."""
    for reader, them in ((one, other), (other, one)):
        frame: DirectFrame = {
            "type": "chat.direct",
            "room": room.slug,
            "with_user": user_ref(them),
        }
        try:
            fanout.publish(reads_topic(reader.pk), frame, key=f"direct.{room.slug}")
        except SERVICE_ERRORS as exc:
            log.warning("Announcing direct room %s failed (%s)", room.slug, exc)


def partner(room: Room, user):
    """The other member of a direct room, seen by ``user`` (None if gone)."""
    return room.members.exclude(pk=user.pk).first()


def direct_rooms(user) -> list[tuple[Room, str]]:
    """The user's direct rooms with the other member's name, newest first."""
    if not user.is_authenticated:
        return []
    rooms = (
        Room.objects.filter(direct_key__isnull=False, members=user, closed=False)
        .annotate(latest=Max("messages__created_at"))
        .prefetch_related("members")
        .order_by(F("latest").desc(nulls_last=True), "-created_at")[:MAX_LISTED]
    )
    found = []
    for room in rooms:
        others = [m.get_username() for m in room.members.all() if m.pk != user.pk]
        found.append((room, others[0] if others else _("(deleted user)")))
    return found
