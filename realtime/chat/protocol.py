"""Chat rooms: ``/ws/chat/<slug>/`` (one room) and ``/ws/chat/`` (the room list).

Subprotocols: a client offers e.g. ``["chat", "superchat"]`` and the server
takes the first it supports. ``superchat`` (or no offer) is the JSON envelope
below; ``chat`` is plain text: each client text frame is a message, and each
message arrives as one line ``name: text``.

Room frames carrying ``seq`` form the room's reliable stream (messages, edits,
deletions); the rest are ephemeral (typing, presence) or replies.
"""

import re
from typing import Literal, NotRequired, TypedDict

from django.conf import settings
from django.utils.translation import gettext as _

from realtime.core.envelope import (
    ErrorCode,
    ProtocolError,
    Reply,
    Request,
    UserRef,
    int_field,
    text_field,
)

SUBPROTOCOLS = ("chat", "superchat")  # what this server speaks
PLAIN = "chat"  # the plain-text subprotocol
PLAIN_FORMAT = "chat.text"  # its fan-out wire format
LOBBY_TOPIC = "chat.rooms"
# The emoji a message may get: a fixed set, one of each kind per user.
REACTIONS = ("👍", "❤️", "😂", "🎉", "😮", "👀")
QUOTE_CHARS = 120  # of the original a reply quotes
MAX_REACTORS = 50  # user ids listed per emoji (the count is exact)
UNREAD_CAP = 100  # unread counts stop at this ("99+")


def activity_topic(slug: str) -> str:
    """What the room list follows per room: a line per event, no text."""
    return f"chat.activity.{slug}"


def reads_topic(user_id: int) -> str:
    """A user's read marks and new direct rooms, to every room list they have open."""
    return f"chat.reads.{user_id}"


# Chat's limits are settings.DUPLEX["CHAT_*"] (project/settings.py, DUPLEX_CHAT_*).
MAX_TEXT = 4000  # no room allows more (models.chat.MAX_MESSAGE_LENGTH)
MAX_CID = 64  # a client message id (models.chat.MAX_CID_LENGTH)
MENTION_RE = re.compile(r"@(\w[\w.+-]*)")


def choose_subprotocol(offered: list[str]) -> str | None:
    """The first offered subprotocol this server speaks, or None (JSON)."""
    return next((p for p in offered if p in SUBPROTOCOLS), None)


def mentions(text: str) -> list[str]:
    """``@name`` tokens of a message, without trailing punctuation, in order."""
    names = (m.rstrip(".+-") for m in MENTION_RE.findall(text))
    return list(dict.fromkeys(n for n in names if n))


class ReplyQuote(TypedDict):
    """The message a reply answers, as it is now (cut to QUOTE_CHARS)."""

    id: int
    seq: int
    user: UserRef | None
    text: str
    deleted: bool


class ReactionCount(TypedDict):
    emoji: str
    count: int
    users: list[int]  # ids of the first MAX_REACTORS who reacted so


class MessageData(TypedDict):
    id: int
    seq: int
    kind: Literal["text", "announcement"]
    user: UserRef | None  # None for announcements
    text: str
    image: str | None  # URL of an attached image
    at: str  # ISO 8601
    edited_at: str | None
    deleted: bool
    reply_to: ReplyQuote | None
    reactions: list[ReactionCount]


# Client -> server.


class JoinFrame(Request):
    """Sent on every (re)open; ``after`` is the last seq seen (0: none)."""

    type: Literal["chat.join"]
    after: NotRequired[int]


class SendFrame(Request):
    """``cid``: the client's id for the message; a resend with it is stored once."""

    type: Literal["chat.send"]
    text: str
    cid: NotRequired[str]
    reply_to: NotRequired[int]  # the id of a message of this room


class ReactFrame(Request):
    """Add (``add`` true) or take back one's ``emoji`` on message ``id``."""

    type: Literal["chat.react"]
    id: int
    emoji: str
    add: bool


class ReadFrame(Request):
    """The reader has seen the room up to ``seq``; a mark never moves back."""

    type: Literal["chat.read"]
    seq: int


class EditFrame(Request):
    type: Literal["chat.edit"]
    id: int
    text: str


class DeleteFrame(Request):
    type: Literal["chat.delete"]
    id: int


class TypingFrame(Request):
    type: Literal["chat.typing"]


class HistoryRequest(Request):
    """Load earlier messages: those with ``seq < before``."""

    type: Literal["chat.history"]
    before: int
    limit: NotRequired[int]


class WhoFrame(Request):
    type: Literal["chat.who"]


CLIENT_FRAMES = (
    JoinFrame,
    SendFrame,
    EditFrame,
    DeleteFrame,
    TypingFrame,
    HistoryRequest,
    WhoFrame,
    ReactFrame,
    ReadFrame,
)


# Server -> client.


class RoomInfo(TypedDict):
    slug: str
    name: str
    topic: str
    is_public: bool
    max_length: int
    slow_mode_seconds: int
    edit_seconds: int


class JoinedFrame(Reply):
    type: Literal["chat.joined"]
    room: RoomInfo
    you: UserRef | None
    muted_until: NotRequired[str | None]
    members: list[UserRef]
    online: int  # users online; ``members`` lists the first MAX_MEMBERS_SHOWN
    last_seq: int
    last_read: int  # the reader's mark before this join (0: none, or a guest)
    resume: Literal["history", "replay", "reset"]


class HistoryFrame(Reply):
    """The snapshot on join (``last_seq``) or a page of earlier ones (``before``)."""

    type: Literal["chat.history", "chat.reset"]
    messages: list[MessageData]
    has_more: bool
    last_seq: NotRequired[int]
    before: NotRequired[int]


class MessageFrame(MessageData):
    type: Literal["chat.message"]
    room: str


class EditedFrame(TypedDict):
    type: Literal["chat.edit"]
    room: str
    seq: int
    id: int
    text: str
    edited_at: str


class DeletedFrame(TypedDict):
    type: Literal["chat.delete"]
    room: str
    seq: int
    id: int


class ReactedFrame(TypedDict):
    """A message's reactions changed: all of them, as they are now."""

    type: Literal["chat.react"]
    room: str
    seq: int
    id: int
    reactions: list[ReactionCount]


class AckFrame(Reply):
    """The answer to a ``chat.send`` with a ``cid`` or a ``ref``: it is stored, as
    message ``id`` at ``seq``, whether by this send or by an earlier one."""

    type: Literal["chat.ack"]
    cid: str | None
    id: int
    seq: int


class TypingEvent(TypedDict):
    type: Literal["chat.typing"]
    user: UserRef


class PresenceFrame(Reply):
    """``diff``: who came and went since the last one (at most one per room and
    interval); ``members`` only in rooms of up to 200. ``list``: a page."""

    type: Literal["chat.presence"]
    event: Literal["diff", "list"]
    joins: NotRequired[list[UserRef]]
    leaves: NotRequired[list[UserRef]]
    members: NotRequired[list[UserRef]]
    offset: NotRequired[int]
    online: int


class MutedFrame(TypedDict):
    type: Literal["chat.muted"]
    until: str | None
    reason: str


class RoomCountFrame(TypedDict):
    """``/ws/chat/``: online count of one room (conflated per room)."""

    type: Literal["chat.room"]
    slug: str
    online: int


class RoomsFrame(TypedDict):
    type: Literal["chat.rooms"]
    rooms: list[RoomCountFrame]


class UnreadFrame(TypedDict):
    """``/ws/chat/``: the reader's mark in a room and what is unread after it
    (others' messages, at most UNREAD_CAP), counted at the room's ``last_seq``."""

    type: Literal["chat.unread"]
    room: str
    read: int
    unread: int
    last_seq: int


class UnreadsFrame(TypedDict):
    type: Literal["chat.unreads"]
    rooms: list[UnreadFrame]


class ActivityFrame(TypedDict):
    """``/ws/chat/``: an event of a room, without its text: enough for a page
    to count what is unread from the last ``chat.unread`` on."""

    type: Literal["chat.activity"]
    room: str
    seq: int
    event: Literal["message", "edit", "delete", "react"]
    id: int
    message_seq: int
    user: int  # the message's author (0: none)


class DirectFrame(TypedDict):
    """``/ws/chat/``: a direct room of the reader's was started (by either of
    the two), to the room lists of its two members only."""

    type: Literal["chat.direct"]
    room: str  # its slug
    with_user: UserRef  # the other member, as the reader sees the room


def after_field(frame: dict) -> int:
    return int_field(frame, "after", default=0)


def id_field(frame: dict) -> int:
    return int_field(frame, "id", minimum=1)


def cid_field(frame: dict) -> str:
    """The client message id of a ``chat.send``; "" when it has none."""
    if frame.get("cid") is None:
        return ""
    return text_field(frame, "cid", max_length=MAX_CID, strip=False)


def reply_field(frame: dict) -> int | None:
    if frame.get("reply_to") is None:
        return None
    return int_field(frame, "reply_to", minimum=1)


def react_request(frame: dict) -> tuple[int, str, bool]:
    emoji = frame.get("emoji")
    if emoji not in REACTIONS:
        raise ProtocolError(
            ErrorCode.INVALID,
            _("emoji must be one of %(emoji)s.") % {"emoji": " ".join(REACTIONS)},
        )
    add = frame.get("add", True)
    if not isinstance(add, bool):
        raise ProtocolError(ErrorCode.INVALID, _("add must be true or false."))
    return int_field(frame, "id", minimum=1), emoji, add


def history_request(frame: dict) -> tuple[int, int]:
    before = int_field(frame, "before", minimum=1)
    size = int_field(
        frame, "limit", minimum=1, maximum=100, default=settings.DUPLEX["CHAT_HISTORY"]
    )
    return before, size


def room_text(text: str, max_length: int) -> str:
    """A message text checked against the room's limit (already stripped)."""
    if "\x00" in text:  # the plain-text subprotocol and uploads skip decode_frame
        raise ProtocolError(ErrorCode.INVALID, _("A message may not contain NUL."))
    if len(text) > max_length:
        raise ProtocolError(
            ErrorCode.TOO_BIG,
            _("A message in this room is at most %(n)d characters.")
            % {"n": max_length},
        )
    return text


# The plain-text ("chat") subprotocol.


def plain_line(frame: dict) -> str | None:
    """Render a frame as the plain-text subprotocol shows it; None to skip."""
    kind = frame.get("type")
    if kind == "chat.message" and not frame.get("deleted"):
        name = frame["user"]["name"] if frame.get("user") else "*"
        text = frame["text"]
        if frame.get("image"):
            text = f"{text} [image: {frame['image']}]".strip()
        quote, reactions = _plain_quote(frame.get("reply_to")), _plain_reactions(frame)
        return f"{name}: {quote}{text}{reactions}"
    if kind == "error":
        return f"! {frame['code']}: {frame['detail']}"
    if kind == "chat.muted":
        return f"! muted: {frame.get('reason') or ''}".rstrip()
    return None


def _plain_quote(quote: dict | None) -> str:
    """``[re ann: the first 40 characters…] `` ahead of a reply's text."""
    if not quote:
        return ""
    name = quote["user"]["name"] if quote.get("user") else "*"
    if quote.get("deleted"):
        return f"[re {name}: (deleted)] "
    text = " ".join(quote["text"].split())
    text = text if len(text) <= 40 else text[:40] + "…"
    return f"[re {name}: {text}] "


def _plain_reactions(frame: dict) -> str:
    """`` [👍 2 ❤️ 1]`` after a message line; later changes send no line."""
    counts = [f"{r['emoji']} {r['count']}" for r in frame.get("reactions") or ()]
    return f" [{' '.join(counts)}]" if counts else ""
