"""Chat moderation (admin): the write, then a control event after commit."""

import logging

from realtime.chat.models import Ban, Mute, Room
from realtime.core import fanout

# The chat service's logger: operators filter moderation lines by this name.
log = logging.getLogger("realtime.chat.service")


def log_moderation(action: str, room: Room, target=None, by=None) -> None:
    """One structured log line per moderation action: who did what, where."""
    fields = {"event": "moderation", "room": room.slug, "target": target, "by": by}
    log.info("moderation: %s", action, extra=fields)


def notify_ban(ban: Ban) -> None:
    log_moderation("ban", ban.room, target=ban.user_id, by=getattr(ban, "by_id", None))
    fanout.publish_control_on_commit(
        ban.room.stream,
        {"type": "ban", "user_id": ban.user_id, "reason": ban.reason},
    )


def notify_mute(mute: Mute) -> None:
    log_moderation(
        "mute", mute.room, target=mute.user_id, by=getattr(mute, "by_id", None)
    )
    until = mute.until.isoformat() if mute.until else None
    fanout.publish_control_on_commit(
        mute.room.stream,
        {
            "type": "mute",
            "user_id": mute.user_id,
            "until": until,
            "reason": mute.reason,
        },
    )


def close_room(room: Room, reason: str = "") -> None:
    log_moderation("close room", room)
    Room.objects.filter(pk=room.pk).update(closed=True, closed_reason=reason)
    room.closed, room.closed_reason = True, reason
    fanout.publish_control_on_commit(
        room.stream, {"type": "close", "reason": reason or "This room was closed."}
    )


def notify_access_changed(room: Room) -> None:
    """Members or visibility changed: open sockets check their access again."""
    fanout.publish_control_on_commit(room.stream, {"type": "access"})
