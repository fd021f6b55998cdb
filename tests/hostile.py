"""Hostile input for every JSON socket: the frames, the endpoints they are
sent to, and the world (users, a room, a game, a match) they are sent into.
"""

import json
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.utils import timezone

from realtime.chat import service as chat_service
from realtime.chat.models import Room
from realtime.chat.protocol import LOBBY_TOPIC as ROOMS_TOPIC
from realtime.core import fanout
from realtime.game import service as game_service
from realtime.models import Instrument
from realtime.notifications import service as notify
from realtime.quotes.protocol import quote_info, tick_frame
from realtime.quotes.protocol import topic as quote_topic
from realtime.site.protocol import TOPIC as SITE_TOPIC
from realtime.site.protocol import announcement
from tests.scores_factory import change, make_match

MAX_FRAME = 16 * 1024
PER_SOCKET = 12  # cases per attacker socket: under 20 strikes and the 30-frame burst


def text(payload: str) -> tuple[str, Any]:
    return ("text", payload)


def frame(**fields) -> tuple[str, Any]:
    return ("text", json.dumps(fields))


# Sent to every endpoint; (what, expected error code).
GENERIC = [
    (text("{"), "bad_json"),
    (text(""), "bad_json"),
    (text('{"type": "ping", "n": NaN}'), "bad_json"),
    (text('{"type": "ping", "n": Infinity}'), "bad_json"),
    (text('{"type": "ping", "n": -Infinity}'), "bad_json"),
    (text('{"type": "ping", "n": ' + "9" * 5000 + "}"), "bad_json"),  # > int limit
    (text("[" * 8000 + "]" * 8000), "bad_json"),  # past the parser's recursion
    (text('{"type": "ping", "a": ' + "[" * 9 + "]" * 9 + "}"), "bad_frame"),
    (text('{"type": "ping", "a": ' + "{" + '"a": {' * 9 + "}" * 10 + "}"), "bad_frame"),
    (text("[]"), "bad_frame"),
    (text("3"), "bad_frame"),
    (text('"ping"'), "bad_frame"),
    (text("null"), "bad_frame"),
    (text("{}"), "bad_frame"),
    (frame(type=7), "bad_frame"),
    (frame(type=""), "bad_frame"),
    (frame(type=None), "bad_frame"),
    (frame(type=["ping"]), "bad_frame"),
    (frame(type={"a": 1}), "bad_frame"),
    (text('{"type": "ping", "x": "a\\u0000b"}'), "invalid"),  # NUL: no DB takes it
    (text('{"type": "ping", "x": "a\\ud800b"}'), "invalid"),  # lone surrogate
    (text('{"type": "ping", "a\\u0000": 1}'), "invalid"),
    *[
        (frame(type=name), "unknown_type")
        for name in [
            "__init__",
            "dispatch",
            "websocket_disconnect",
            "websocket.disconnect",
            "websocket_receive",
            "receive",
            "close",
            "handlers",
            "strike",
            "error",
            "pong",
            "PING",
            "nope.nope",
            "x" * 2000,
        ]
    ],
    (("bytes", b'{"type": "ping"}'), "binary_unsupported"),
    (("bytes", b"\x00\xff"), "binary_unsupported"),
    (text(json.dumps({"type": "ping", "pad": "x" * MAX_FRAME})), "too_big"),
    (text(" " * (MAX_FRAME + 1)), "too_big"),
]

INT_BAD = ["7", 1.5, True, None, [], {}, 1e308, 2**64, -(2**64), "NaN", "-0"]
POSITIVE_BAD = [*INT_BAD, 0, -0.0, -1]
TEXT_BAD = [7, None, True, [], {}, 1.5, ["x"]]
SYMBOLS_BAD = ["AAPL", 7, None, {}, [], [7], [None], ["x" * 21], [["AAPL"]]]
MATCHES_BAD = ["x", 7, None, {}, [], [0], [-1], ["1"], [1.5], [True], [2**64]]


def wrong(kind: str, field: str, values, code="invalid", **base):
    """One case per value: ``field`` of a ``kind`` frame set to it."""
    return [(frame(type=kind, **{**base, field: v}), code) for v in values]


FIELDS = {
    "site": [],
    "chat-list": [],
    "chat": [
        *wrong("chat.join", "after", [*INT_BAD, -1]),
        *wrong("chat.send", "text", [*TEXT_BAD, "   "]),
        *wrong("chat.send", "text", ["x" * 4001], "too_big"),
        *wrong("chat.send", "text", ["a\x00b", "a\ud800b"]),  # crashed the DB write
        *wrong("chat.edit", "id", POSITIVE_BAD, text="x"),
        *wrong("chat.edit", "text", TEXT_BAD, id=1),
        *wrong("chat.edit", "text", ["x" * 4001], "too_big", id=1),
        *wrong("chat.delete", "id", POSITIVE_BAD),
        (text('{"type": "chat.delete", "id": -0}'), "invalid"),
        (text('{"type": "chat.history", "before": 1e400}'), "invalid"),  # inf
        *wrong("chat.history", "before", POSITIVE_BAD),
        *wrong("chat.history", "limit", [*INT_BAD, 0, 101], before=5),
    ],
    "quotes": [
        *wrong("quotes.subscribe", "symbols", SYMBOLS_BAD),
        *wrong("quotes.subscribe", "symbols", [["A\x00"], ["\udfff"]]),
        *wrong("quotes.unsubscribe", "symbols", SYMBOLS_BAD),
        *wrong(
            "quotes.subscribe", "symbols", [[f"S{i}" for i in range(21)]], "too_big"
        ),
    ],
    "scores": [
        *wrong("scores.subscribe", "matches", MATCHES_BAD),
        *wrong("scores.unsubscribe", "matches", MATCHES_BAD),
        *wrong("scores.subscribe", "matches", [list(range(1, 52))], "too_big"),
    ],
    "notifications": [
        *wrong("notifications.hello", "after", [*INT_BAD, -1]),
        *wrong("notifications.read", "seq", POSITIVE_BAD),
        (text('{"type": "notifications.read", "seq": -0}'), "invalid"),
        (text('{"type": "notifications.hello", "after": -1e400}'), "invalid"),
    ],
    "game": [
        # A player sends them; each fails validation before the referee sees it.
        *wrong("game.move", "x", [*INT_BAD, 2**31 + 1], y=7),
        *wrong("game.move", "y", [*INT_BAD, -(2**31) - 1], x=7),
        *wrong("game.move", "seq", [*INT_BAD, -1], x=7, y=7),
        *wrong("game.chat", "text", [*TEXT_BAD, "  "]),
        *wrong("game.chat", "text", ["x" * 301], "too_big"),
        *wrong("game.chat", "text", ["\ud800", "a\x00"]),
        *wrong("game.sync", "after", [*INT_BAD, -1]),
    ],
    "lobby": wrong("lobby.create", "clock", [*INT_BAD, -1, 61]),
}


@dataclass
class World:
    ann: Any  # the attacker
    bob: Any  # the healthy user
    carol: Any
    room: Room
    game: Any
    match: Any
    moves: int = 0


def make_world(make_user) -> World:
    ann, bob, carol = make_user("ann"), make_user("bob"), make_user("carol")
    room = Room.objects.create(slug="lobby", name="Lobby")
    Instrument.objects.create(symbol="AAPL", name="Apple", reference_price=200)
    game = game_service.create_game(ann, 0)
    game_service.join(game.pk, bob)
    return World(ann, bob, carol, room, game, make_match())


# Per endpoint: the path, how the healthy socket starts, and a live event for it.


async def start_chat(c, w):
    await c.send_json_to({"type": "chat.join", "after": 0})


async def start_quotes(c, w):
    await c.send_json_to({"type": "quotes.subscribe", "symbols": ["AAPL"]})


async def start_scores(c, w):
    await c.send_json_to({"type": "scores.subscribe", "matches": "all"})


async def start_notes(c, w):
    await c.send_json_to({"type": "notifications.hello", "after": 0})


async def nothing(c, w):
    pass


async def event_site(w, i):
    stamp = timezone.now().isoformat()
    await fanout.apublish(SITE_TOPIC, dict(announcement(f"news {i}", stamp)))
    return "site.announcement"


async def event_chat(w, i):
    await sync_to_async(chat_service.announce)(w.room.pk, f"news {i}")
    return "chat.message"


async def event_rooms(w, i):
    count = {"type": "chat.room", "slug": "lobby", "online": i}
    await fanout.apublish(ROOMS_TOPIC, count, key="lobby")
    return "chat.room"


async def event_quotes(w, i):
    info = quote_info(
        "AAPL", last=200 + i, open=200, high=210, low=190, prev_close=200,
        volume=i, at=timezone.now(),
    )  # fmt: skip
    await fanout.apublish(quote_topic("AAPL"), tick_frame(info), key="AAPL")
    return "quotes.tick"


async def event_scores(w, i):
    await sync_to_async(change)(w.match.pk, minute=i)
    return "scores.match"


async def event_notes(w, i):
    await sync_to_async(notify.notify)(w.bob.pk, "mention", f"news {i}")
    return "notifications.new"


async def event_game(w, i):
    """The players alternate stones that never make five (every other column)."""
    player = w.ann if w.moves % 2 == 0 else w.bob
    x, y = (w.moves // 2 % 8) * 2, (w.moves // 16) * 4 + (w.moves % 2) * 2
    await sync_to_async(game_service.play)(w.game.pk, player, x, y)
    w.moves += 1
    return "game.move"


async def event_lobby(w, i):
    """A new game by a new player: one user may only have a few games open."""
    creator = await sync_to_async(get_user_model().objects.create_user)(f"lobby{i}")
    await sync_to_async(game_service.create_game)(creator, 0)
    return "lobby.game"


ENDPOINTS = {
    "site": ("/ws/site/", nothing, event_site),
    "chat": ("/ws/chat/lobby/", start_chat, event_chat),
    "chat-list": ("/ws/chat/", nothing, event_rooms),
    "quotes": ("/ws/quotes/", start_quotes, event_quotes),
    "scores": ("/ws/scores/", start_scores, event_scores),
    "notifications": ("/ws/notifications/", start_notes, event_notes),
    "game": ("/ws/game/{game}/", nothing, event_game),
    "lobby": ("/ws/game/lobby/", nothing, event_lobby),
}


async def until_pong(c) -> list[str]:
    """Ping, then read to the pong: the error codes of the frames in between.

    The socket must stay open: a close (1011 above all) fails here.
    """
    await c.send_json_to({"type": "ping"})
    codes = []
    while True:
        output = await c.receive_output(5)
        assert output["type"] == "websocket.send", output
        reply = json.loads(output["text"])
        if reply["type"] == "pong":
            return codes
        if reply["type"] == "error":
            codes.append(reply["code"])
