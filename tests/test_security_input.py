"""Hostile input on every JSON socket: a documented error or close, never a fault.

Each endpoint gets the same malformed frames, plus wrong values for every field
of every client message type. Every frame must earn exactly one error frame
with the documented code (the socket stays open), no ERROR is logged, and a
second user's healthy socket on the same endpoint keeps getting live events.
"""

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.utils import timezone

from realtime.chat import service as chat_service
from realtime.chat.models import Message, Room
from realtime.chat.protocol import LOBBY_TOPIC as ROOMS_TOPIC
from realtime.core import fanout
from realtime.core.envelope import CloseCode
from realtime.game import service as game_service
from realtime.models import Instrument
from realtime.notifications import service as notify
from realtime.quotes.protocol import quote_info, tick_frame
from realtime.quotes.protocol import topic as quote_topic
from realtime.site.protocol import TOPIC as SITE_TOPIC
from realtime.site.protocol import announcement
from tests.frames import ANY, next_frame
from tests.scores_factory import change, make_match

pytestmark = pytest.mark.django_db(transaction=True)

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


@pytest.fixture
def world(make_user):
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


@pytest.mark.parametrize("name", ENDPOINTS)
async def test_malformed_frames_get_documented_errors_and_spare_others(
    ws, world, name, caplog
):
    """Every hostile frame gets its one error frame; the healthy socket keeps going."""
    caplog.set_level(logging.WARNING)
    path, start, event = ENDPOINTS[name]
    path = path.format(game=world.game.pk)
    healthy, connected, _ = await ws(path, user=world.bob)
    assert connected
    await start(healthy, world)
    cases = GENERIC + FIELDS[name]
    for first in range(0, len(cases), PER_SOCKET):
        attacker, connected, _ = await ws(path, user=world.ann)
        assert connected
        await until_pong(attacker)  # past the opening frames
        for (kind, payload), code in cases[first : first + PER_SOCKET]:
            await attacker.send_input({"type": "websocket.receive", kind: payload})
            assert await until_pong(attacker) == [code], (str(payload)[:80], code)
        await attacker.disconnect()
        expected = await event(world, first)
        await next_frame(healthy, expected, skip=ANY)
    await healthy.disconnect()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def test_repeated_abuse_closes_with_1008_and_spares_others(ws, world):
    """The 21st bad frame closes the socket with 1008; another socket is untouched."""
    healthy, *_ = await ws("/ws/site/", user=world.bob)
    attacker, *_ = await ws("/ws/site/", user=world.ann)
    for _ in range(20):
        await attacker.send_to(text_data="{")
        assert (await attacker.receive_json_from())["code"] == "bad_json"
    await attacker.send_to(text_data="{")
    closed = await attacker.receive_output()
    assert (closed["type"], closed["code"]) == (
        "websocket.close",
        CloseCode.POLICY_VIOLATION,
    )
    await event_site(world, 1)
    assert (await next_frame(healthy, "site.announcement", skip=ANY))[
        "text"
    ] == "news 1"
    await healthy.disconnect()


async def test_plain_text_chat_refuses_binary_oversized_and_nul(ws, world):
    """The ``chat`` subprotocol answers each bad frame with an ``! code`` line."""
    c, connected, subprotocol = await ws(
        "/ws/chat/lobby/", user=world.ann, subprotocols=["chat"]
    )
    assert (connected, subprotocol) == (True, "chat")
    sends = [
        ({"bytes": b"hello"}, "! binary_unsupported"),
        ({"text": "x" * (MAX_FRAME + 1)}, "! too_big"),
        ({"text": "a\x00b"}, "! invalid"),
        ({"text": "x" * 4001}, "! too_big"),
    ]
    for message, prefix in sends:
        await c.send_input({"type": "websocket.receive", **message})
        line = await c.receive_from()
        assert line.startswith(prefix), line
    stored = Message.objects.filter(room=world.room).count
    assert await sync_to_async(stored)() == 0
    await c.disconnect()


async def test_unknown_paths_close_with_4004(ws, caplog):
    """A path no endpoint serves is refused with 4004, not a router exception."""
    for path in ["/ws/nope/", "/ws/game/abc/", "/ws/game/" + "9" * 5000 + "/", "/"]:
        c, connected, _ = await ws(path)
        assert connected
        closed = await c.receive_output()
        assert (closed["type"], closed["code"]) == ("websocket.close", 4004), path
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.integration
async def test_real_daphne_closes_oversized_1009_bad_utf8_1007_and_logs_no_error(
    daphne, world, session_for
):
    """Over daphne's 1 MiB: 1009; invalid UTF-8 text: 1007; an unknown path: 4004.
    A chat user on the same server gets every message meanwhile; no traceback."""
    from django.conf import settings
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    server = daphne(redis=False)

    def socket(path, user=None):
        headers = {"Origin": server.origin}
        if user is not None:
            headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={session_for(user)}"
        return connect(server.ws_url + path, additional_headers=headers, max_size=None)

    async def recv(c):
        return await asyncio.wait_for(c.recv(), 10)

    posters = [await sync_to_async(socket)("/ws/chat/lobby/", u)
               for u in (world.ann, world.carol)]  # fmt: skip
    healthy_socket = await sync_to_async(socket)("/ws/chat/lobby/", world.bob)
    async with healthy_socket as healthy, posters[0] as ann, posters[1] as carol:
        await healthy.send(json.dumps({"type": "chat.join", "after": 0}))
        for number, name in enumerate(ENDPOINTS):
            path = ENDPOINTS[name][0].format(game=world.game.pk)
            for payload, code in [("x" * (2**20 + 1), 1009), (b"\xff\xfe", 1007)]:
                async with await sync_to_async(socket)(path, world.ann) as bad:
                    await bad.send(payload, text=True)
                    with pytest.raises(ConnectionClosed):
                        while True:
                            await recv(bad)
                    assert bad.close_code == code, (name, code)
            poster = (ann, carol)[number % 2]  # two users: under the flood limit
            await poster.send(json.dumps({"type": "chat.send", "text": f"n{number}"}))
            while (reply := json.loads(await recv(healthy))).get(
                "text"
            ) != f"n{number}":
                assert reply["type"] != "error", reply
        async with await sync_to_async(socket)("/ws/nope/") as bad:
            with pytest.raises(ConnectionClosed):
                await recv(bad)
            assert bad.close_code == CloseCode.NOT_FOUND
    log = server.log()
    assert "Traceback" not in log and "ERROR" not in log, log


NUL_REQUESTS = [
    ("get", "/users/a%00b/", None),
    ("get", "/game/players/a%00b/", None),
    ("get", "/quotes/api/history/A%00/", None),
    ("get", "/quotes/api/latest/?symbols=A%00,AAPL", None),
    ("get", "/notifications/?page=%00", None),
    ("post", "/notifications/follow/user/a%00/", {}),
    ("post", "/notifications/follow/user/", {"username": "a\x00"}),
    ("post", "/accounts/login/", {"username": "a\x00", "password": "x"}),
    ("post", "/accounts/signup/", {"username": "a\x00", "password1": "x"}),
    ("post", "/chat/lobby/upload/", {"text": "a\x00"}),
    ("json", "/quotes/api/watchlist/", '{"symbols": ["A\\u0000"]}'),
]


def test_nul_in_http_input_is_a_400_not_a_500(client, world):
    """PostgreSQL cannot store NUL: such a request is refused, not a server error."""
    client.raise_request_exception = False
    client.force_login(world.ann)
    for method, url, data in NUL_REQUESTS:
        if method == "json":
            response = client.post(url, data, content_type="application/json")
        else:
            response = getattr(client, method)(url, data)
        assert response.status_code == 400, url
