"""Publishing a room's stream: committed events, in seq order, once each.

Every write of ``service`` calls ``publish_pending`` after it commits; a
socket's join and a resume read the gap back with ``events_after`` (or
``replay_after``, which only reads). Each
event goes to the room (``chat.room.<slug>``) and, without its text, to the
room lists (``chat.activity.<slug>``), which count unread messages from it.
"""

import logging

from django.conf import settings
from django.db import transaction

from realtime.chat.models import Room, RoomEvent
from realtime.chat.protocol import activity_topic
from realtime.chat.selectors import RENDER_PREFETCH, render_event
from realtime.core import fanout
from realtime.core.outages import SERVICE_ERRORS

# The chat service's logger: operators filter its lines by this name.
log = logging.getLogger("realtime.chat.service")
PUBLISH_BATCH = 200


def locked_room(room_id: int) -> Room:
    """The room, locked for its writers (posts, edits, this publisher).

    FOR NO KEY UPDATE: one writer of the room at a time, as FOR UPDATE, while
    rows that refer to the room (a first read mark, a ban) are made without
    waiting for it. Their foreign key check takes FOR KEY SHARE, which FOR
    UPDATE blocks: a user's first read, during their own post, waited for the
    post's lock while the post waited to make the same mark, and PostgreSQL
    failed one of them as a deadlock."""
    return Room.objects.select_for_update(no_key=True).get(pk=room_id)


def publish_pending(room_id: int) -> None:
    """Publish the room's committed but unpublished events, in seq order.

    Runs after every write commits (and on join). Holding the room row lock
    while publishing makes one publisher at a time per room, across processes:
    if two processes commit seqs 5 and 6 at once, 5 still leaves first. What a
    crashed writer committed but never published goes out with the next write
    or join. A socket's seq window drops the rare duplicate.
    """
    try:
        while True:
            with transaction.atomic():
                room = locked_room(room_id)
                if room.published_seq >= room.last_seq:
                    return
                events = list(
                    _rendered_events(room, room.published_seq)[:PUBLISH_BATCH]
                )
                activity, published = activity_topic(room.slug), []
                for event in events:
                    published.append((room.stream, render_event(event, room.slug)))
                    published.append((activity, _activity(event, room)))
                fanout.publish_many(published)  # in order, in one trip
                Room.objects.filter(pk=room.pk).update(published_seq=events[-1].seq)
    except SERVICE_ERRORS as exc:
        # The events are stored; the next write or join publishes them.
        log.warning("Publishing room %s failed (%s); will retry", room_id, exc)
    except Exception:
        # A bug: retrying meets it again and the room stalls. Say so loudly.
        log.exception("Publishing room %s failed: its stream is stuck", room_id)


def events_after(room_id: int, after: int) -> list[dict] | None:
    """The room's frames after ``after``, or None when that gap is not
    replayed; a crashed writer's leftovers are published first."""
    frames, unpublished = replay_after(room_id, after)
    if unpublished:
        publish_pending(room_id)
    return frames


def replay_after(room_id: int, after: int) -> tuple[list[dict] | None, bool]:
    """``events_after`` that only reads (the reader threads run it): the
    frames, and whether the room has committed events nobody published."""
    room = Room.objects.get(pk=room_id)
    unpublished = room.published_seq < room.last_seq
    if (
        after > room.last_seq
        or room.last_seq - after > settings.DUPLEX["CHAT_REPLAY_MAX"]
    ):
        return None, unpublished
    frames = [render_event(e, room.slug) for e in _rendered_events(room, after)]
    return frames, unpublished


def _rendered_events(room: Room, after: int):
    related = [f"message__{name}" for name in RENDER_PREFETCH]
    return (
        RoomEvent.objects.filter(room=room, seq__gt=after)
        .select_related("message", "message__reply_to")
        .prefetch_related(*related)
        .order_by("seq")
    )


def _activity(event: RoomEvent, room: Room) -> dict:
    """The room list's line for an event: who and which message, no text."""
    message = event.message
    return {
        "type": "chat.activity",
        "room": room.slug,
        "seq": event.seq,
        "event": event.kind,
        "id": message.pk,
        "message_seq": message.seq,
        "user": message.author_id or 0,
    }
