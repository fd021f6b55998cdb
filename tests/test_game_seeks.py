"""Quick pairing from the seek pool, over the lobby socket."""

import pytest
from asgiref.sync import sync_to_async

from realtime.models import Seek
from tests.frames import ANY, next_frame
from tests.game_helpers import game_row

pytestmark = pytest.mark.django_db(transaction=True)

FIVE_PLUS_THREE = {"type": "lobby.seek", "clock": 5, "increment": 3}


async def lobby_of(ws, user=None):
    socket, connected, _ = await ws("/ws/game/lobby/", user=user)
    assert connected
    snap = await next_frame(socket, "lobby.snapshot")
    return socket, snap


async def seeks_count() -> int:
    return await sync_to_async(Seek.objects.count)()


async def test_two_compatible_seeks_are_paired_into_a_started_game(ws, players):
    """Ann seeks 5+3; Bob's 3+0 waits beside it; his 5+3 pairs them, both told."""
    ann, bob, carol = players
    first, _ = await lobby_of(ws, ann)
    second, _ = await lobby_of(ws, bob)
    watcher, _ = await lobby_of(ws, carol)
    await first.send_json_to(FIVE_PLUS_THREE)
    waiting = await next_frame(first, "lobby.seeking")
    assert waiting["seek"] == {"clock": 5, "increment": 3, "rated": True}
    pool = await next_frame(watcher, "lobby.seeks")
    assert pool["seeks"] == [{"clock": 5, "increment": 3, "rated": True, "count": 1}]

    await second.send_json_to({"type": "lobby.seek", "clock": 3})
    assert (await next_frame(second, "lobby.seeking"))["seek"]["clock"] == 3
    assert await seeks_count() == 2
    await second.send_json_to(FIVE_PLUS_THREE)  # replaces his own 3+0
    paired = await next_frame(second, "lobby.paired", skip=ANY)
    told = await next_frame(first, "lobby.paired", skip=ANY)
    assert told["id"] == paired["id"]
    game = await game_row(paired["id"])
    assert game.status == "active"
    assert {game.black_id, game.white_id} == {ann.pk, bob.pk}
    assert (game.clock_ms, game.increment_ms, game.rated) == (300_000, 3_000, True)
    assert await seeks_count() == 0
    for socket in (first, second, watcher):
        await socket.disconnect()


async def test_a_seek_disappears_when_its_socket_closes(ws, players):
    """Ann's seek goes with her socket: Bob's same seek then waits, unpaired."""
    ann, bob, _ = players
    first, _ = await lobby_of(ws, ann)
    await first.send_json_to(FIVE_PLUS_THREE)
    await next_frame(first, "lobby.seeking")
    await first.disconnect()
    assert await seeks_count() == 0
    second, snap = await lobby_of(ws, bob)
    assert snap["seeks"] == []
    await second.send_json_to(FIVE_PLUS_THREE)
    assert (await next_frame(second, "lobby.seeking"))["seek"] is not None
    await second.send_json_to({"type": "lobby.cancel_seek"})
    assert (await next_frame(second, "lobby.seeking"))["seek"] is None
    assert await seeks_count() == 0
    await second.disconnect()


async def test_one_seek_per_user_a_new_tab_replaces_the_old_seek(ws, players):
    """Ann seeks from two tabs: one seek is kept, and the first tab is told."""
    ann, *_ = players
    tab1, _ = await lobby_of(ws, ann)
    tab2, _ = await lobby_of(ws, ann)
    await tab1.send_json_to(FIVE_PLUS_THREE)
    await next_frame(tab1, "lobby.seeking")
    await tab2.send_json_to({"type": "lobby.seek", "clock": 1})
    assert (await next_frame(tab2, "lobby.seeking"))["seek"]["clock"] == 1
    assert (await next_frame(tab1, "lobby.seeking"))["seek"] is None
    assert await seeks_count() == 1
    for socket in (tab1, tab2):
        await socket.disconnect()


async def test_seeking_needs_an_account_and_a_valid_time_control(ws, players):
    """A visitor is told to log in; a 61-minute clock or a bad flag is invalid."""
    ann, *_ = players
    visitor, _ = await lobby_of(ws)
    await visitor.send_json_to(FIVE_PLUS_THREE)
    error = await next_frame(visitor, "error")
    assert (error["code"], error["reason"]) == ("unauthenticated", "login_required")
    member, _ = await lobby_of(ws, ann)
    for bad in ({"clock": 61}, {"clock": 5, "rated": "yes"}, {"increment": -1}):
        await member.send_json_to({"type": "lobby.seek", **bad})
        assert (await next_frame(member, "error"))["code"] == "invalid"
    assert await seeks_count() == 0
    for socket in (visitor, member):
        await socket.disconnect()


async def test_a_seek_left_by_a_dead_process_is_dropped_not_paired(ws, players):
    """Carol's seek outlived its socket (no presence): Bob waits instead of pairing."""
    ann, bob, carol = players
    await sync_to_async(Seek.objects.create)(
        user=carol, socket="gone", clock_ms=300_000, increment_ms=3_000
    )
    second, _ = await lobby_of(ws, bob)
    await second.send_json_to(FIVE_PLUS_THREE)
    assert (await next_frame(second, "lobby.seeking"))["seek"] is not None
    users = await sync_to_async(list)(Seek.objects.values_list("user_id", flat=True))
    assert users == [bob.pk]
    first, _ = await lobby_of(ws, ann)  # a live seeker still pairs with Bob
    await first.send_json_to(FIVE_PLUS_THREE)
    assert (await next_frame(first, "lobby.paired", skip=ANY))["id"]
    for socket in (first, second):
        await socket.disconnect()
