"""What chat's sockets and pages read: rendered frames, access rules, history.

Rendering has one function per shape, shared by live publishes and replays.
"""

from django.conf import settings

from realtime.chat.models import Ban, Message, Mute, Room, RoomEvent
from realtime.core.envelope import CloseCode


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
    announcement = message.kind == Message.ANNOUNCEMENT
    user = None
    if not announcement:
        user = {"id": message.author_id or 0, "name": message.author_name}
    return {
        "id": message.pk,
        "seq": message.seq,
        "kind": message.kind,
        "user": user,
        "text": "" if deleted else message.text,
        "image": message.image.url if message.image and not deleted else None,
        "at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
    }


def render_event(event: RoomEvent, slug: str) -> dict:
    """An event as a frame, from the message's *current* state: a replay never
    shows text that was since edited or deleted."""
    message = event.message
    if event.kind == RoomEvent.MESSAGE:
        return {"type": "chat.message", "room": slug, **message_data(message)}
    frame = {"type": f"chat.{event.kind}", "room": slug, "seq": event.seq}
    frame["id"] = message.pk
    if event.kind == RoomEvent.EDIT:
        if message.deleted_at is not None:
            return {**frame, "type": "chat.delete"}
        frame["text"] = message.text
        frame["edited_at"] = (message.edited_at or event.at).isoformat()
    return frame


# Access.


def open_room(slug: str, user) -> tuple[Room | None, tuple[CloseCode, str] | None]:
    """The room and, if ``user`` may not open it, the close code and reason."""
    room = Room.objects.filter(slug=slug).first()
    if room is None or (room.is_direct and not can_read(room, user)):
        # A direct room's existence is its two members' business.
        return None, (CloseCode.NOT_FOUND, "No such room.")
    return room, refusal(room, user)


def refusal(room: Room, user) -> tuple[CloseCode, str] | None:
    if room.closed:
        return CloseCode.ROOM_CLOSED, room.closed_reason or "This room is closed."
    if not can_read(room, user):
        return CloseCode.FORBIDDEN, "This room is private: members only."
    if user.is_authenticated:
        ban = Ban.objects.active().filter(room=room, user=user).first()
        if ban is not None:
            return CloseCode.BANNED, ban.reason or "You are banned from this room."
    return None


def can_read(room: Room, user) -> bool:
    if room.is_public:
        return True
    if not user.is_authenticated:
        return False
    if user.is_staff and not room.is_direct:  # staff read private rooms, not DMs
        return True
    return room.members.filter(pk=user.pk).exists()


def muted_until(room_id: int, user) -> tuple[bool, str | None, str]:
    """(muted, until as ISO 8601 or None for good, reason)."""
    if not user.is_authenticated:
        return False, None, ""
    mute = Mute.objects.active().filter(room_id=room_id, user=user).first()
    if mute is None:
        return False, None, ""
    return True, mute.until.isoformat() if mute.until else None, mute.reason


# Reads.


def _page(queryset, size: int) -> tuple[list[dict], bool]:
    rows = list(queryset.order_by("-seq")[: size + 1])
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
