"""Store a notification and publish it; mark read; read a user's stream back.

Each user's ``seq`` is assigned under a lock on their ``NotificationStream``
row, so seqs are gap-free and ordered even with writers in several processes;
the row also keeps the unread count, so no page ever counts rows.
"""

from django.conf import settings
from django.db import transaction
from django.utils.text import Truncator

from realtime.core import fanout
from realtime.models import Notification, NotificationStream
from realtime.notifications.protocol import (
    RECENT,
    new_frame,
    user_topic,
)
from realtime.notifications.texts import say_in


def _locked_stream(user_id: int) -> NotificationStream:
    stream, _ = NotificationStream.objects.select_for_update().get_or_create(
        user_id=user_id
    )
    return stream


def notify(
    user_id: int,
    kind: str,
    title: str = "",
    body: str = "",
    url: str = "",
    *,
    params: dict | None = None,
):
    """Store one notification for ``user_id``; it is published after commit.

    With ``params`` (``texts.py``), the title and body are said in each
    reader's language; ``title`` and ``body`` are then the default language's.
    """
    params = params or {}
    if params:
        title, body = say_in(settings.LANGUAGE_CODE, kind, params, (title, body))
    with transaction.atomic():
        stream = _locked_stream(user_id)
        stream.last_seq += 1
        stream.unread += 1
        stream.save(update_fields=["last_seq", "unread"])
        notification = Notification.objects.create(
            user_id=user_id,
            seq=stream.last_seq,
            kind=kind,
            title=Truncator(title).chars(200),
            body=Truncator(body).chars(300),
            url=url[:200],
            params=params,
        )
        fanout.publish_on_commit(user_topic(user_id), dict(new_frame(notification)))
    return notification


def mark_read(user_id: int, seq: int | None = None) -> bool:
    """Mark one notification (or all) read; False when ``seq`` is not theirs."""
    with transaction.atomic():
        stream = _locked_stream(user_id)
        unread = Notification.objects.filter(user_id=user_id, read=False)
        if seq is not None:
            if not Notification.objects.filter(user_id=user_id, seq=seq).exists():
                return False
            unread = unread.filter(seq=seq)
        changed = list(unread.values_list("seq", flat=True))
        if not changed:
            return True
        unread.update(read=True)
        stream.unread = max(stream.unread - len(changed), 0)
        stream.save(update_fields=["unread"])
        frame = {
            "type": "notifications.unread",
            "unread": stream.unread,
            "last_seq": stream.last_seq,
            "read": changed if seq is not None else [],
            "read_up_to": stream.last_seq if seq is None else 0,
        }
        # Every tab of the user follows the topic; conflated, newest count wins.
        fanout.publish_on_commit(user_topic(user_id), frame, key="unread")
    return True


def stream_state(user_id: int) -> tuple[int, int]:
    """(last_seq, unread) of a user, without locking."""
    stream = NotificationStream.objects.filter(user_id=user_id).first()
    return (stream.last_seq, stream.unread) if stream else (0, 0)


def after(user_id: int, seq: int, limit: int) -> list[Notification]:
    """The user's notifications after ``seq``, oldest first."""
    rows = Notification.objects.filter(user_id=user_id, seq__gt=seq)
    return list(rows.order_by("seq")[:limit])


def recent(user_id: int, limit: int = RECENT) -> list[Notification]:
    rows = Notification.objects.filter(user_id=user_id).order_by("-seq")[:limit]
    return list(reversed(rows))
