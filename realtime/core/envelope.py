"""The wire protocol shared by every feature: envelope, errors, close codes, limits.

Every frame is a JSON object ``{"type": "<feature>.<event>", ...}``. Each feature
lists its own message types in a module of this package (``echo``, ``chat``, ...),
so one feature's wire format reads in one file; docs/protocol.md is checked
against them by tests/test_protocol_docs.py.
"""

import json
import math
import re
from enum import IntEnum, StrEnum
from typing import Any, Literal, NotRequired, TypedDict

from django.utils.translation import gettext as _


def close_reason(text: str) -> str:
    """A close reason fits in 123 bytes of UTF-8 (RFC 6455, 5.5): cut there,
    never inside a character (a Chinese note is 3 bytes a character)."""
    return text.encode()[:123].decode(errors="ignore")


class CloseCode(IntEnum):
    """WebSocket close codes Duplex sends; 4000-4999 mean "do not reconnect"."""

    NORMAL = 1000
    GOING_AWAY = 1001
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    UNAUTHENTICATED = 4001
    FORBIDDEN = 4003
    NOT_FOUND = 4004
    BANNED = 4005
    ROOM_CLOSED = 4006
    RATE_LIMITED = 4008
    LOGGED_OUT = 4009
    GAME_ABORTED = 4010


class ErrorCode(StrEnum):
    """The ``code`` of an error frame; the socket stays open after each."""

    BAD_JSON = "bad_json"
    BAD_FRAME = "bad_frame"
    UNKNOWN_TYPE = "unknown_type"
    INVALID = "invalid"
    TOO_BIG = "too_big"
    BINARY_UNSUPPORTED = "binary_unsupported"
    RATE_LIMITED = "rate_limited"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"


# A client frame's ``ref``: the client's own label for it, echoed by the frames
# that answer it. Bounded, so no client makes the server hold a large one.
Ref = str | int
MAX_REF_LENGTH = 64
MAX_REF_INT = 2**53  # what a JavaScript number holds exactly


class Request(TypedDict):
    """The base of every client frame: any may carry a ``ref``."""

    ref: NotRequired[Ref]


class Reply(TypedDict):
    """The base of every frame that answers a client frame: it echoes the ``ref``."""

    ref: NotRequired[Ref]


class ErrorFrame(Reply):
    type: Literal["error"]
    code: str
    detail: str
    reason: NotRequired[str]  # game refusals name the rule too (game.protocol)
    until: NotRequired[str | None]  # a chat mute's end, ISO 8601; None: for good


class PongFrame(Reply):
    """The answer to a client's ``{"type": "ping"}`` on every JSON endpoint."""

    type: Literal["pong"]


class UserRef(TypedDict):
    """A user as every feature's frames name one: never more than this."""

    id: int
    name: str


def user_ref(user) -> UserRef | None:
    """The ``UserRef`` of a logged-in user; None for nobody or an anonymous one."""
    if user is None or not user.is_authenticated:
        return None
    return {"id": user.pk, "name": user.get_username()}


class ProtocolError(Exception):
    """Raised by validation or a handler; becomes an error frame, never a 500.

    ``detail`` is for the person reading the page: raise it with gettext, as a
    socket handles every frame in its language (realtime.core.language).
    """

    def __init__(self, code: ErrorCode, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def frame(self, ref: Ref | None = None) -> ErrorFrame:
        frame: ErrorFrame = {
            "type": "error",
            "code": str(self.code),
            "detail": str(
                self.detail
            ),  # a lazy text, rendered in the socket's language
        }
        if ref is not None:
            frame["ref"] = ref
        return frame


MAX_DEPTH = 8


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


# PostgreSQL text cannot hold NUL, and a lone surrogate (a legal JSON escape,
# "\ud800") cannot be encoded as UTF-8 for the database, Redis or the wire.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(value: Any, level: int = 0) -> bool:
    """True if a string anywhere in ``value`` (keys too) has NUL or a lone surrogate."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if level > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return any(
            _unstorable(k) or _unstorable(v, level + 1) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_unstorable(v, level + 1) for v in value)
    return False


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def decode_frame(text: str) -> dict[str, Any]:
    """Parse one client frame into a dict with a string ``type``, or raise."""
    try:
        frame = json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(
            ErrorCode.BAD_JSON, _("The frame is not valid JSON.")
        ) from exc
    if not isinstance(frame, dict):
        raise ProtocolError(ErrorCode.BAD_FRAME, _("A frame must be a JSON object."))
    if _depth(frame) > MAX_DEPTH:
        raise ProtocolError(ErrorCode.BAD_FRAME, _("The frame is nested too deeply."))
    if _unstorable(frame):
        raise ProtocolError(
            ErrorCode.INVALID, _("Text may not contain NUL or unpaired surrogates.")
        )
    kind = frame.get("type")
    if not isinstance(kind, str) or not kind:
        raise ProtocolError(ErrorCode.BAD_FRAME, _('A frame needs a string "type".'))
    return frame


def encode(frame: dict[str, Any]) -> str:
    """Encode an outgoing frame: compact, UTF-8 kept as is."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


# Field readers: each returns the value or raises ProtocolError(INVALID).


def _invalid(name: str, expected: str) -> ProtocolError:
    return ProtocolError(
        ErrorCode.INVALID,
        _('"%(name)s" must be %(expected)s.') % {"name": name, "expected": expected},
    )


def text_field(
    frame: dict, name: str, *, max_length: int, min_length: int = 1, strip: bool = True
) -> str:
    value = frame.get(name)
    if not isinstance(value, str):
        raise _invalid(name, _("a string"))
    if strip:
        value = value.strip()
    if len(value) < min_length:
        raise _invalid(name, _("at least %(n)d character(s)") % {"n": min_length})
    if len(value) > max_length:
        raise ProtocolError(
            ErrorCode.TOO_BIG,
            _('"%(name)s" is longer than %(n)d characters.')
            % {"name": name, "n": max_length},
        )
    return value


def int_field(
    frame: dict,
    name: str,
    *,
    minimum: int = 0,
    maximum: int = 2**53,
    default: int | None = None,
) -> int:
    value = frame.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        else:
            raise _invalid(name, _("an integer"))
    if not minimum <= value <= maximum:
        raise _invalid(
            name, _("between %(min)d and %(max)d") % {"min": minimum, "max": maximum}
        )
    return value


def ref_field(frame: dict) -> Ref | None:
    """The frame's ``ref``: None, a string of 1 to 64 characters, or an integer."""
    value = frame.get("ref")
    if value is None:
        return None
    if isinstance(value, str) and 1 <= len(value) <= MAX_REF_LENGTH:
        return value
    if type(value) is int and -MAX_REF_INT <= value <= MAX_REF_INT:
        return value
    raise _invalid(
        "ref",
        _("a string of 1 to %(n)d characters or an integer") % {"n": MAX_REF_LENGTH},
    )


def str_list_field(
    frame: dict, name: str, *, max_items: int, max_length: int = 32
) -> list[str]:
    value = frame.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(name, _("a list of strings"))
    if len(value) > max_items:
        raise ProtocolError(
            ErrorCode.TOO_BIG,
            _('"%(name)s" holds more than %(n)d items.')
            % {"name": name, "n": max_items},
        )
    if any(len(v) > max_length for v in value):
        raise _invalid(
            name, _("strings of at most %(n)d characters") % {"n": max_length}
        )
    return list(dict.fromkeys(value))
