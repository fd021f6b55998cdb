"""Hostile input on every JSON socket: a documented error or close, never a fault.

Each endpoint gets the same malformed frames, plus wrong values for every field
of every client message type. Every frame must earn exactly one error frame
with the documented code (the socket stays open), no ERROR is logged, and a
second user's healthy socket on the same endpoint keeps getting live events.
"""

import logging

import pytest

from realtime.core.envelope import CloseCode
from tests.frames import ANY, next_frame
from tests.hostile import (
    ENDPOINTS,
    FIELDS,
    GENERIC,
    PER_SOCKET,
    event_site,
    make_world,
    until_pong,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(make_user):
    return make_world(make_user)


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
