"""What chat's sockets and pages read: rendered frames, access rules, history.

Rendering has one function per shape, shared by live publishes and replays.
"""

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_noop

from realtime.chat.models import Ban, Message, Mute, ReadMark, Room, RoomEvent
from realtime.chat.protocol import MAX_REACTORS, QUOTE_CHARS, REACTIONS, UNREAD_CAP
from realtime.core.envelope import CloseCode

# What rendering a message reads besides its row: one query each per page.
RENDER_RELATED = ("reply_to",)
RENDER_PREFETCH = ("reactions",)


def room_info(room: Room) -> dict:
    return {
        "slug": room.slug,
        "name": room.name,
        "topic": room.topic,
        "is_public": room.is_public,
        "max_length": room.max_length,
        "slow_mode_seconds": room.slow_mode_seconds,
        "edit_seconds": settings.DUPLEX["CHAT_EDIT_SECONDS"],
    }


def message_data(message: Message) -> dict:
    deleted = message.deleted_at is not None
    return {
        "id": message.pk,
        "seq": message.seq,
        "kind": message.kind,
        "user": _author(message),
        "text": "" if deleted else message.text,
        "image": message.image.url if message.image and not deleted else None,
        "at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
        "reply_to": None if deleted else quote(message.reply_to),
        "reactions": [] if deleted else reactions(message),
    }


def _author(message: Message) -> dict | None:
    if message.kind == Message.ANNOUNCEMENT:
        return None
    return {"id": message.author_id or 0, "name": message.author_name}


def quote(original: Message | None) -> dict | None:
    """What a reply shows of the message it answers, as that message is now."""
    if original is None:
        return None
    deleted = original.deleted_at is not None
    text = "" if deleted else original.text
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 1] + "…"
    return {
        "id": original.pk,
        "seq": original.seq,
        "user": _author(original),
        "text": text,
        "deleted": deleted,
    }


def reactions(message: Message) -> list[dict]:
    """Counts per emoji, in the fixed set's order (prefetched on pages)."""
    users: dict[str, list[int]] = {}
    for reaction in message.reactions.all():
        users.setdefault(reaction.emoji, []).append(reaction.user_id)
    return [
        {"emoji": e, "count": len(users[e]), "users": users[e][:MAX_REACTORS]}
        for e in REACTIONS
        if e in users
    ]


def render_event(event: RoomEvent, slug: str) -> dict:
    """An event as a frame, from the message's *current* state: a replay never
    shows text that was since edited or deleted."""
    message = event.message
    if event.kind == RoomEvent.MESSAGE:
        return {"type": "chat.message", "room": slug, **message_data(message)}
    frame = {"type": f"chat.{event.kind}", "room": slug, "seq": event.seq}
    frame["id"] = message.pk
    if event.kind in (RoomEvent.EDIT, RoomEvent.REACT):
        if message.deleted_at is not None:
            return {**frame, "type": "chat.delete"}
    if event.kind == RoomEvent.REACT:
        return {**frame, "reactions": reactions(message)}
    if event.kind == RoomEvent.EDIT:
        frame["text"] = message.text
        frame["edited_at"] = (message.edited_at or event.at).isoformat()
    return frame


# Access.


def room_by_slug(slug: str) -> Room | None:
    return Room.objects.filter(slug=slug).first()


def enter_room(room: Room | None, user) -> tuple[tuple | None, "Standing"]:
    """If ``user`` may not open ``room`` (None: there is no such room), the
    close code and reason; and the user's standing in it, read with its ban."""
    if room is None or (room.is_direct and not can_read(room, user)):
        # A direct room's existence is its two members' business.
        return (CloseCode.NOT_FOUND, "No such room."), NOBODY
    standing = read_standing(room.pk, user)
    return refusal(room, user, standing), standing


@dataclass(frozen=True)
class Standing:
    """A user's standing in a room: an active ban and mute (the newest of
    each, as the admin lists them) and how far they have read."""

    banned: bool = False
    ban_reason: str = ""
    muted: bool = False
    mute_until: datetime | None = None  # None with muted: for good
    mute_reason: str = ""
    read: int = 0


NOBODY = Standing()  # a guest's, or where there is no room


def read_standing(room_id: int, user) -> Standing:
    """One statement for what a join reads per user (it was three ORM queries,
    a fifth of a join's CPU in a storm; docs/performance.md)."""
    if not user.is_authenticated:
        return NOBODY
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [room_id, user.pk, now, room_id, user.pk, now, room_id, user.pk]
    with connection.cursor() as cursor:
        cursor.execute(_standing_sql(connection.vendor), params)
        ban, ban_reason, mute, until, mute_reason, read = cursor.fetchone()
    return Standing(
        banned=ban is not None,
        ban_reason=ban_reason or "",
        muted=mute is not None,
        mute_until=_aware(until),
        mute_reason=mute_reason or "",
        read=read or 0,
    )


def _active(model) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    return (
        f"SELECT id, until, reason FROM {table} WHERE room_id = %s AND user_id = %s"
        " AND (until IS NULL OR until > %s) ORDER BY created_at DESC LIMIT 1"
    )


@functools.cache
def _standing_sql(vendor: str) -> str:
    """The statement, built once per database vendor (its quoting)."""
    marks = connection.ops.quote_name(ReadMark._meta.db_table)
    return (
        "SELECT b.id, b.reason, m.id, m.until, m.reason, r.seq FROM (SELECT 1 AS one) o"
        f" LEFT JOIN ({_active(Ban)}) b ON 1 = 1"
        f" LEFT JOIN ({_active(Mute)}) m ON 1 = 1"
        f" LEFT JOIN (SELECT seq FROM {marks} WHERE room_id = %s AND user_id = %s) r"
        " ON 1 = 1"
    )


def _aware(value) -> datetime | None:
    """A datetime column read without the ORM: SQLite gives its UTC text."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def refusal(
    room: Room, user, standing: "Standing | None" = None
) -> tuple[CloseCode, str] | None:
    if room.closed:
        return CloseCode.ROOM_CLOSED, room.closed_reason or gettext_noop(
            "This room is closed."
        )
    if not can_read(room, user):
        return CloseCode.FORBIDDEN, gettext_noop("This room is private: members only.")
    standing = standing or read_standing(room.pk, user)
    if standing.banned:
        return CloseCode.BANNED, standing.ban_reason or gettext_noop(
            "You are banned from this room."
        )
    return None


def can_read(room: Room, user) -> bool:
    if room.is_public:
        return True
    if not user.is_authenticated:
        return False
    if user.is_staff and not room.is_direct:  # staff read private rooms, not DMs
        return True
    return room.members.filter(pk=user.pk).exists()


def muted_until(
    room_id: int, user, standing: Standing | None = None
) -> tuple[bool, str | None, str]:
    """(muted, until as ISO 8601 or None for good, reason)."""
    standing = standing or read_standing(room_id, user)
    if not standing.muted:
        return False, None, ""
    until = standing.mute_until
    return True, until.isoformat() if until else None, standing.mute_reason


# Reads.


def _page(queryset, size: int) -> tuple[list[dict], bool]:
    queryset = queryset.select_related(*RENDER_RELATED)
    rows = list(
        queryset.prefetch_related(*RENDER_PREFETCH).order_by("-seq")[: size + 1]
    )
    has_more = len(rows) > size
    return [message_data(m) for m in reversed(rows[:size])], has_more


def snapshot(room_id: int) -> dict:
    """The latest messages and the seq they are current up to."""
    room = Room.objects.get(pk=room_id)
    visible = Message.objects.filter(
        room=room, deleted_at__isnull=True, seq__lte=room.last_seq
    )
    messages, has_more = _page(visible, settings.DUPLEX["CHAT_HISTORY"])
    return {"messages": messages, "has_more": has_more, "last_seq": room.last_seq}


def earlier(room_id: int, before: int, size: int) -> dict:
    visible = Message.objects.filter(
        room_id=room_id, deleted_at__isnull=True, seq__lt=before
    )
    messages, has_more = _page(visible, size)
    return {"messages": messages, "has_more": has_more, "before": before}


# Read marks.


def unread(room: Room, user_id: int, read: int, upto: int) -> int:
    """Others' messages in ``(read, upto]`` that are still there, up to UNREAD_CAP."""
    after = Message.objects.filter(
        room=room, seq__gt=read, seq__lte=upto, deleted_at__isnull=True
    )
    return after.exclude(author_id=user_id)[:UNREAD_CAP].count()


def unread_state(room: Room, user_id: int) -> dict:
    """The ``chat.unread`` frame of one reader and room, counted at one seq:
    what the room list counts from there on comes as ``chat.activity``."""
    last_seq = Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)
    mark = ReadMark.objects.filter(room=room, user_id=user_id)
    read = min(mark.values_list("seq", flat=True).first() or 0, last_seq)
    return {
        "type": "chat.unread",
        "room": room.slug,
        "read": read,
        "unread": unread(room, user_id, read, last_seq),
        "last_seq": last_seq,
    }


def public_messages_of(user, limit: int = 10) -> list[dict]:
    """A user's latest messages in open public rooms, for their profile: never
    a private or direct room's."""
    rows = (
        Message.objects.filter(
            author=user,
            kind=Message.TEXT,
            deleted_at__isnull=True,
            room__is_public=True,
            room__closed=False,
            room__direct_key__isnull=True,
        )
        .exclude(text="")
        .select_related("room")
        .order_by("-created_at")[:limit]
    )
    return [{"room": m.room, "posted": m.created_at, **message_data(m)} for m in rows]
