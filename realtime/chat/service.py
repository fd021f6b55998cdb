"""Chat's database work: access, writes under the room lock, ordered publishing.

Synchronous on purpose: the consumer calls it through ``sync_to_async``, and
the upload view and the admin call it directly, so every writer takes the same
path: lock the room row, take the next seq, write, commit, then publish.
Reads live in ``selectors`` and moderation in ``moderation``; both are
re-exported here, so consumers, views and admin import this one module.
"""

import logging
import math
from datetime import UTC, datetime
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from realtime.chat.flood import check_flood
from realtime.chat.marks import mark_read
from realtime.chat.models import Message, Reaction, Room, RoomEvent
from realtime.chat.moderation import (
    close_room,
    log_moderation,
    notify_access_changed,
    notify_ban,
    notify_mute,
)
from realtime.chat.protocol import mentions, room_text
from realtime.chat.publishing import (
    events_after,
    locked_room,
    publish_pending,
    replay_after,
)
from realtime.chat.selectors import (
    can_read,
    earlier,
    enter_room,
    message_data,
    muted_until,
    read_standing,
    refusal,
    render_event,
    room_by_slug,
    room_info,
    snapshot,
    unread_state,
)
from realtime.core.envelope import ErrorCode, ProtocolError
from realtime.core.envelope import user_ref as user_ref  # views and consumers use it
from realtime.signals import message_posted

__all__ = [
    "Muted",
    "announce",
    "can_read",
    "close_room",
    "delete_message",
    "earlier",
    "edit_message",
    "enter_room",
    "events_after",
    "mark_read",
    "message_data",
    "muted_until",
    "notify_access_changed",
    "notify_ban",
    "notify_mute",
    "post_message",
    "publish_pending",
    "react",
    "read_standing",
    "refusal",
    "render_event",
    "replay_after",
    "room_by_slug",
    "room_info",
    "snapshot",
    "unread_state",
    "user_ref",
]

log = logging.getLogger(__name__)


# Writes. Each locks the room row, appends events, and publishes after commit.


def _append(room: Room, kind: str, message: Message) -> RoomEvent:
    room.last_seq += 1
    Room.objects.filter(pk=room.pk).update(last_seq=room.last_seq)
    event = RoomEvent.objects.create(
        room=room, seq=room.last_seq, kind=kind, message=message
    )
    transaction.on_commit(partial(publish_pending, room.pk))
    return event


def _check_can_post(room: Room, user) -> None:
    if not user.is_authenticated:
        raise ProtocolError(ErrorCode.UNAUTHENTICATED, _("Log in to post."))
    standing = read_standing(room.pk, user)
    problem = refusal(room, user, standing)
    if problem is not None:
        raise ProtocolError(ErrorCode.FORBIDDEN, _(problem[1]))  # selectors.refusal
    muted, until, reason = muted_until(room.pk, user, standing)
    if muted:
        raise Muted(until, reason)


class Muted(ProtocolError):
    """A post refused by a mute; the frame carries its end, for local display."""

    def __init__(self, until: str | None, reason: str):
        if until:
            end = datetime.fromisoformat(until).astimezone(UTC)
            detail = _("You are muted here until %(end)s UTC.") % {
                "end": f"{end:%Y-%m-%d %H:%M}"
            }
        else:
            detail = _("You are muted.")
        super().__init__(ErrorCode.FORBIDDEN, f"{detail} {reason}".strip())
        self.until, self.reason = until, reason

    def frame(self, ref: str | None = None):
        return {**super().frame(ref), "until": self.until, "reason": self.reason}


def _check_slow_mode(room: Room, user) -> None:
    if not room.slow_mode_seconds or user.is_staff:
        return
    last = (
        Message.objects.filter(room=room, author=user, kind=Message.TEXT)
        .order_by("-seq")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        return
    wait = room.slow_mode_seconds - (timezone.now() - last).total_seconds()
    if wait > 0:
        raise ProtocolError(
            ErrorCode.RATE_LIMITED,
            _("Slow mode: wait %(n)d s.") % {"n": math.ceil(wait)},
        )


def post_message(
    room_id: int,
    user,
    text: str,
    image: str = "",
    *,
    cid: str = "",
    reply_to: int | None = None,
) -> Message:
    """Store a user's message and publish it; raises ProtocolError when refused.

    With a ``cid`` (the client's id for the message), a message this user
    already stored in this room under it is returned instead, unchanged: a
    send repeated after a lost acknowledgement is stored once, and is neither
    refused nor counted against the flood limit.
    """
    if not user.is_authenticated:
        raise ProtocolError(ErrorCode.UNAUTHENTICATED, _("Log in to post."))
    if (stored := _stored(room_id, user, cid)) is not None:
        return stored
    check_flood(user.pk)
    with transaction.atomic():
        room = locked_room(room_id)
        # Under the room lock, a twin of this send racing in from another
        # socket has either committed (and is found) or waits for us.
        if (stored := _stored(room_id, user, cid)) is not None:
            return stored
        _check_can_post(room, user)
        _check_slow_mode(room, user)
        text = room_text(text.strip(), room.max_length)
        if not text and not image:
            raise ProtocolError(
                ErrorCode.INVALID, _("A message needs text or an image.")
            )
        message = Message.objects.create(
            room=room,
            author=user,
            author_name=user.get_username(),
            text=text,
            image=image,
            seq=room.last_seq + 1,
            cid=cid,
            reply_to=_original(room, reply_to),
        )
        _append(room, RoomEvent.MESSAGE, message)
        mark_read(room, user, message.seq)  # one has read what one answers
        transaction.on_commit(partial(_signal_posted, message, room))
    return message


def _original(room: Room, message_id: int | None) -> Message | None:
    """The message a reply answers: one of this room's, still there."""
    if message_id is None:
        return None
    original = Message.objects.filter(
        room=room, pk=message_id, deleted_at__isnull=True
    ).first()
    if original is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, _("No such message to reply to."))
    return original


def react(room_id: int, user, message_id: int, emoji: str, *, add: bool) -> bool:
    """Add or take back ``user``'s ``emoji`` on a message; False if unchanged.

    Rate-limited like posts (its own allowance of the same size), and refused
    to whoever may not post here (muted, banned, a closed room).
    """
    if not user.is_authenticated:
        raise ProtocolError(ErrorCode.UNAUTHENTICATED, _("Log in to react."))
    check_flood(user.pk, kind="react")
    with transaction.atomic():
        room = locked_room(room_id)
        _check_can_post(room, user)
        message = Message.objects.filter(
            room=room, pk=message_id, deleted_at__isnull=True
        ).first()
        if message is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, _("No such message in this room."))
        mine = Reaction.objects.filter(message=message, user=user, emoji=emoji)
        if add == mine.exists():
            return False
        if add:
            Reaction.objects.create(message=message, user=user, emoji=emoji)
        else:
            mine.delete()
        _append(room, RoomEvent.REACT, message)
    return True


def _stored(room_id: int, user, cid: str) -> Message | None:
    if not cid:
        return None
    return Message.objects.filter(room_id=room_id, author=user, cid=cid).first()


def announce(room_id: int, text: str, by=None) -> Message:
    """Post an announcement (admin); it is on the room's stream like a message."""
    with transaction.atomic():
        room = locked_room(room_id)
        message = Message.objects.create(
            room=room,
            author=by,
            author_name=by.get_username() if by else "",
            kind=Message.ANNOUNCEMENT,
            text=text,
            seq=room.last_seq + 1,
        )
        _append(room, RoomEvent.MESSAGE, message)
    log_moderation("announce", room, by=getattr(by, "pk", None))
    return message


def _own_message(room: Room, user, message_id: int) -> Message:
    message = Message.objects.filter(
        room=room, pk=message_id, deleted_at__isnull=True
    ).first()
    if message is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, _("No such message in this room."))
    if message.author_id != user.pk or message.kind != Message.TEXT:
        raise ProtocolError(
            ErrorCode.FORBIDDEN, _("You can change your own messages only.")
        )
    age = (timezone.now() - message.created_at).total_seconds()
    if age > settings.DUPLEX["CHAT_EDIT_SECONDS"]:
        raise ProtocolError(ErrorCode.FORBIDDEN, _("Too late to change this message."))
    return message


def edit_message(room_id: int, user, message_id: int, text: str) -> Message:
    if not user.is_authenticated:
        raise ProtocolError(ErrorCode.UNAUTHENTICATED, _("Log in to edit."))
    with transaction.atomic():
        room = locked_room(room_id)
        _check_can_post(room, user)
        message = _own_message(room, user, message_id)
        text = room_text(text.strip(), room.max_length)
        if not text and not message.image:
            raise ProtocolError(
                ErrorCode.INVALID, _("A message needs text or an image.")
            )
        message.text = text
        message.edited_at = timezone.now()
        message.save(update_fields=["text", "edited_at"])
        _append(room, RoomEvent.EDIT, message)
    return message


def delete_message(
    message_id: int, user=None, moderator: bool = False, room_id: int | None = None
) -> bool:
    """Delete a message for everyone (soft: moderators still see it in the admin).

    Without ``moderator`` only the author may, within the edit window, and only
    while they may post in the message's room. With ``room_id`` (a room's
    socket) the message must belong to that room.
    """
    if not moderator and (user is None or not user.is_authenticated):
        raise ProtocolError(ErrorCode.UNAUTHENTICATED, _("Log in to delete."))
    found = Message.objects.filter(pk=message_id)
    if room_id is not None:
        found = found.filter(room_id=room_id)
    room_id = found.values_list("room_id", flat=True).first()
    if room_id is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, _("No such message in this room."))
    with transaction.atomic():
        room = locked_room(room_id)
        if moderator:
            message = Message.objects.get(pk=message_id)
            if message.deleted_at is not None:
                return False
        else:
            _check_can_post(room, user)
            message = _own_message(room, user, message_id)
        message.deleted_at = timezone.now()
        message.save(update_fields=["deleted_at"])
        _append(room, RoomEvent.DELETE, message)
    if moderator:
        by = getattr(user, "pk", None)
        log_moderation("delete message", room, target=message.author_id, by=by)
    return True


def _signal_posted(message: Message, room: Room) -> None:
    names = mentions(message.text)
    if names:
        users = get_user_model().objects.filter(username__in=names)
        if room.is_direct:  # staff do not read direct rooms either
            users = users.filter(chat_rooms=room)
        elif not room.is_public:  # a mention must not carry private text outside
            users = users.filter(Q(is_staff=True) | Q(chat_rooms=room))
        known = set(users.values_list("username", flat=True))
        names = [n for n in names if n in known]
    direct_to = []
    if room.is_direct:
        direct_to = list(
            room.members.exclude(pk=message.author_id).values_list("pk", flat=True)
        )
    results = message_posted.send_robust(
        sender=Message,
        message_id=message.pk,
        room_slug=room.slug,
        room_public=room.is_public,
        author_id=message.author_id,
        author_name=message.author_name,
        text=message.text,
        mentions=names,
        direct_to=direct_to,
    )
    for receiver, result in results:
        if isinstance(result, Exception):
            log.error("message_posted receiver %r failed: %r", receiver, result)
