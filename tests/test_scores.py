"""/ws/scores/: snapshot on subscribe, then every committed change of a match."""

import random

import pytest
from asgiref.sync import sync_to_async

from realtime.models import Match, MatchEvent
from realtime.scores import feed as simulator
from tests.scores_factory import change, make_match

pytestmark = pytest.mark.django_db(transaction=True)


async def subscribe(ws, matches):
    communicator, connected, _ = await ws("/ws/scores/")
    assert connected
    await communicator.send_json_to({"type": "scores.subscribe", "matches": matches})
    return communicator


async def test_subscribe_all_sends_todays_matches_then_each_change(ws):
    """A snapshot of today's matches, then the new score the moment it is saved."""
    match = await sync_to_async(make_match)(status="live", minute=10)
    communicator = await subscribe(ws, "all")
    snapshot = await communicator.receive_json_from()
    assert snapshot["type"] == "scores.snapshot"
    [state] = snapshot["matches"]
    assert (state["id"], state["status"], state["minute"]) == (match.pk, "live", 10)
    assert state["competition"]["name"] == "Test League 测试联赛"

    await sync_to_async(change)(match.pk, home_score=1, minute=12)
    frame = await communicator.receive_json_from()
    assert frame["type"] == "scores.match"
    assert frame["match"]["home"]["score"] == 1
    assert frame["match"]["minute"] == 12
    assert frame["match"]["rev"] > state["rev"]
    await communicator.disconnect()


async def test_chosen_matches_only(ws):
    """A client that chose one match hears nothing about the others."""
    watched = await sync_to_async(make_match)("Lions", "Harbour")
    other = await sync_to_async(make_match)("Rovers", "Atletico")
    communicator = await subscribe(ws, [watched.pk])
    snapshot = await communicator.receive_json_from()
    assert [m["id"] for m in snapshot["matches"]] == [watched.pk]

    await sync_to_async(change)(other.pk, away_score=2)
    assert await communicator.receive_nothing(0.3)
    await sync_to_async(change)(watched.pk, status="live", minute=1)
    frame = await communicator.receive_json_from()
    assert frame["match"]["id"] == watched.pk
    assert frame["match"]["status_label"] == "live"

    await communicator.send_json_to({"type": "scores.unsubscribe", "matches": "all"})
    await communicator.send_json_to({"type": "ping"})  # the unsubscribe is done
    assert await communicator.receive_json_from() == {"type": "pong"}
    await sync_to_async(change)(watched.pk, minute=2)
    assert await communicator.receive_nothing(0.3)
    await communicator.disconnect()


async def test_an_event_added_publishes_the_timeline(ws):
    """Adding an event (as the admin's inline does) sends the match with it."""
    match = await sync_to_async(make_match)(status="live", minute=30)
    communicator = await subscribe(ws, [match.pk])
    await communicator.receive_json_from()
    await sync_to_async(MatchEvent.objects.create)(
        match=match, kind="card", minute=31, team=match.home, player="<b>Li</b>"
    )
    frame = await communicator.receive_json_from()
    [event] = frame["match"]["events"]
    assert (event["kind"], event["minute"], event["player"]) == (
        "card",
        31,
        "<b>Li</b>",
    )
    assert event["team"] == match.home_id
    await communicator.disconnect()


async def test_a_returning_client_gets_the_current_state_not_a_replay(ws):
    """Changes made while away arrive as one snapshot of the newest state."""
    match = await sync_to_async(make_match)(status="live")
    for minute in range(1, 6):
        await sync_to_async(change)(match.pk, minute=minute, away_score=minute // 2)
    communicator = await subscribe(ws, [match.pk])
    snapshot = await communicator.receive_json_from()
    [state] = snapshot["matches"]
    assert (state["minute"], state["away"]["score"]) == (5, 2)
    assert await communicator.receive_nothing(0.3)
    await communicator.disconnect()


async def test_bad_subscriptions_get_error_frames_and_the_socket_stays(ws):
    """Unknown ids, wrong types and too many ids each get a clear error."""
    match = await sync_to_async(make_match)()
    communicator, _, _ = await ws("/ws/scores/")
    await communicator.send_json_to({"type": "scores.subscribe", "matches": [999999]})
    assert (await communicator.receive_json_from())["matches"] == []
    error = await communicator.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "not_found")
    for bad, code in [
        ({"matches": "some"}, "invalid"),
        ({"matches": ["1"]}, "invalid"),
        ({"matches": []}, "invalid"),
        ({}, "invalid"),
        ({"matches": list(range(1, 60))}, "too_big"),
    ]:
        await communicator.send_json_to({"type": "scores.subscribe", **bad})
        assert (await communicator.receive_json_from())["code"] == code
    await communicator.send_json_to({"type": "scores.kick", "matches": "all"})
    assert (await communicator.receive_json_from())["code"] == "unknown_type"
    await communicator.send_json_to({"type": "scores.subscribe", "matches": [match.pk]})
    assert (await communicator.receive_json_from())["matches"][0]["id"] == match.pk
    await communicator.disconnect()


def test_the_simulator_plays_a_whole_match(db):
    """Kick-off, half-time, full-time at 90, and one goal event per goal scored."""
    match = make_match(simulated=True)
    rng = random.Random(5)
    statuses = []
    for _ in range(100):
        match = Match.objects.select_related("home", "away").get(pk=match.pk)
        simulator.step(match, rng)
        statuses.append(match.status)
    match.refresh_from_db()
    assert (match.status, match.minute) == ("finished", 90)
    assert statuses.index("live") < statuses.index("half_time")
    kinds = list(match.events.values_list("kind", flat=True))
    assert kinds.count("kick_off") == kinds.count("half_time") == 1
    assert kinds.count("full_time") == 1
    assert kinds.count("goal") == match.home_score + match.away_score
