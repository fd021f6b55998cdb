"""Notifications: ``/ws/notifications/``, one reliable stream per logged-in user.

There is no way to name a stream: the socket always carries its own user's
(anonymous visitors are refused with 4001).

Client -> server:
    notifications.hello     {"after": <last seq seen, 0 for none>}  (send first)
    notifications.read      {"seq": <n>}     mark one read
    notifications.read_all  {}               mark every one read
Server -> client:
    notifications.state     after hello: unread count, last seq, reset flag
    notifications.new       one notification, with its per-user "seq"
    notifications.unread    the unread count changed (a read in any tab)
"""

from typing import Literal, TypedDict

from django.conf import settings

from realtime.core.envelope import Reply
from realtime.notifications.texts import texts

RECENT = 20  # notifications sent to a client that starts from nothing
MAX_REPLAY = 200  # a longer gap is a reset: the client gets the RECENT newest
MAX_GAP_REPLAY = 1000  # rows replayed after a slow-socket overflow


def user_topic(user_id: int) -> str:
    return f"user.{user_id}"


class NotificationText(TypedDict):
    title: str
    body: str


class NotificationData(TypedDict):
    seq: int
    kind: Literal[
        "goal", "kick_off", "full_time", "price", "mention", "room", "user", "direct"
    ]
    title: str  # in the site's default language
    body: str
    texts: dict[str, NotificationText]  # by language code: "en", "zh-hans"
    url: str
    at: str  # ISO 8601
    read: bool


class NewFrame(TypedDict):
    type: Literal["notifications.new"]
    seq: int
    notification: NotificationData


class StateFrame(Reply):
    type: Literal["notifications.state"]
    unread: int
    last_seq: int
    reset: bool  # true: forget what you hold, the newest RECENT follow


class UnreadFrame(TypedDict):
    type: Literal["notifications.unread"]
    unread: int  # unread count at last_seq
    last_seq: int
    read: list[int]  # seqs just marked read
    read_up_to: int  # every seq <= this is read (read_all), else 0


def data(n) -> NotificationData:
    found = texts(n)
    default = found.get(settings.LANGUAGE_CODE, {"title": n.title, "body": n.body})
    return {
        "seq": n.seq,
        "kind": n.kind,
        "title": default["title"],
        "body": default["body"],
        "texts": found,
        "url": n.url,
        "at": n.created_at.isoformat(),
        "read": n.read,
    }


def new_frame(n) -> NewFrame:
    return {"type": "notifications.new", "seq": n.seq, "notification": data(n)}
