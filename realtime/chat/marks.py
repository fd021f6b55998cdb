"""Read marks: how far each user has read each room, for every tab they have.

A mark only moves forward. Each move is published to the user's own topic
(``chat.reads.<id>``, conflated per room), so every room list the user has
open, on any device, shows the new unread count at once.
"""

import logging

from django.db import IntegrityError, transaction

from realtime.chat.models import ReadMark, Room
from realtime.chat.protocol import reads_topic
from realtime.chat.selectors import unread_state
from realtime.core import fanout
from realtime.core.outages import SERVICE_ERRORS

log = logging.getLogger("realtime.chat.service")


def mark_read(room: Room, user, seq: int) -> bool:
    """Move ``user``'s mark in ``room`` to ``seq`` (at most the room's head);
    False when it was there already."""
    if not user.is_authenticated:
        return False
    seq = min(seq, Room.objects.values_list("last_seq", flat=True).get(pk=room.pk))
    if seq <= 0:
        return False
    marks = ReadMark.objects.filter(room=room, user=user, seq__lt=seq)
    if not marks.update(seq=seq):
        try:
            with transaction.atomic():
                ReadMark.objects.create(room=room, user=user, seq=seq)
        except IntegrityError:  # it was there already, or another tab made it
            if not marks.update(seq=seq):
                return False
    transaction.on_commit(lambda: publish_mark(room, user.pk))
    return True


def publish_mark(room: Room, user_id: int) -> None:
    """Tell the user's room lists their new mark and unread count here.

    Best effort: the mark is stored, and a room list counts afresh when it
    reconnects. A failure here must not turn a stored message's send (which
    marks the room read) into an error the client would see."""
    try:
        state = unread_state(room, user_id)
        fanout.publish(reads_topic(user_id), state, key=room.slug)
    except SERVICE_ERRORS as exc:
        log.warning("Publishing a read mark in %s failed (%s)", room.slug, exc)
