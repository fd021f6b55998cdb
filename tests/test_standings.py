"""League standings: known results give a known table, and /ws/scores/ sends a
competition's table, then a new one whenever a result changes it."""

import pytest
from asgiref.sync import sync_to_async

from realtime.models import Competition, Match, Team
from realtime.scores import standings
from realtime.scores.service import standings_frame
from tests.scores_factory import change, make_match

pytestmark = pytest.mark.django_db(transaction=True)

COLUMNS = ("played", "won", "drawn", "lost", "goals_for", "goals_against", "points")


def rows(table):
    """(short name, P, W, D, L, GF, GA, Pts) per row, best first."""
    return [(r["team"]["short"], *(r[c] for c in COLUMNS)) for r in table]


def played(home, away, home_goals, away_goals, status="finished"):
    return make_match(
        home, away, status=status, home_score=home_goals, away_score=away_goals
    )


def test_known_results_give_the_known_table(db):
    """Points, then goal difference, then goals scored; live and upcoming matches
    count only in the live table, where their teams are marked."""
    played("Lions", "Harbour", 2, 0)  # Lions 3 pts, +2
    played("Rovers", "Atletico", 3, 1)  # Rovers 3 pts, +2, more goals
    played("Harbour", "Atletico", 1, 1)
    played("Lions", "Rovers", 0, 0, status="live")
    make_match("Atletico", "Lions")  # upcoming: nothing counts yet
    league = Competition.objects.get(slug="test-league")
    table = standings_frame(league.pk)
    assert rows(table["final"]) == [
        ("Rov", 1, 1, 0, 0, 3, 1, 3),
        ("Lio", 1, 1, 0, 0, 2, 0, 3),
        ("Atl", 2, 0, 1, 1, 2, 4, 1),  # level with Harbour but scored more
        ("Har", 2, 0, 1, 1, 1, 3, 1),
    ]
    assert [r["rank"] for r in table["final"]] == [1, 2, 3, 4]
    assert [r["goal_difference"] for r in table["final"]] == [2, 2, -2, -2]
    assert not any(r["live"] for r in table["final"])
    assert rows(table["live"])[:2] == [
        ("Rov", 2, 1, 1, 0, 3, 1, 4),
        ("Lio", 2, 1, 1, 0, 2, 0, 4),
    ]
    assert [r["live"] for r in table["live"]] == [True, True, False, False]
    assert table["live_matches"] == 1


def test_teams_level_on_points_difference_and_goals_go_by_head_to_head():
    """A, B and C all have 3 points and a goal difference of 0; C scored most.
    A and B scored 2 each: B beat A, so B is above A (by name A would be)."""
    a, b, c, d = 1, 2, 3, 4
    names = {a: "A", b: "B", c: "C", d: "D"}
    results = [
        standings.Result(b, a, 1, 0, "finished"),
        standings.Result(a, c, 2, 1, "finished"),
        standings.Result(c, b, 2, 1, "finished"),
        standings.Result(d, a, 0, 0, "scheduled"),
    ]
    lines = standings.table(names, results, names, with_live=False)
    assert [names[x.team] for x in lines] == ["C", "B", "A", "D"]
    assert [(x.points, x.goal_difference, x.goals_for) for x in lines] == [
        (3, 0, 3),
        (3, 0, 2),
        (3, 0, 2),
        (0, 0, 0),
    ]
    # Nobody has played: every tie-break is level, the name decides.
    lines = standings.table(names, results[3:], names, with_live=False)
    assert [names[x.team] for x in lines] == ["A", "B", "C", "D"]


async def standings_socket(ws, competition_id):
    communicator, connected, _ = await ws("/ws/scores/")
    assert connected
    await communicator.send_json_to(
        {"type": "scores.standings", "competition": competition_id, "ref": 7}
    )
    return communicator


async def test_a_result_that_changes_the_table_sends_the_new_table(ws):
    """The table, then a new one with a higher rev when a goal is saved; a minute
    tick that changes no result sends nothing."""
    match = await sync_to_async(make_match)(status="live", minute=10)
    communicator = await standings_socket(ws, match.competition_id)
    first = await communicator.receive_json_from()
    assert first["type"] == "scores.standings" and first["ref"] == 7
    assert rows(first["live"]) == [
        ("Har", 1, 0, 1, 0, 0, 0, 1),
        ("Lio", 1, 0, 1, 0, 0, 0, 1),
    ]
    assert rows(first["final"])[0][1] == 0  # nothing finished yet

    await sync_to_async(change)(match.pk, minute=11)
    assert await communicator.receive_nothing(0.3)
    await sync_to_async(change)(match.pk, home_score=1, minute=12)
    frame = await communicator.receive_json_from()
    assert frame["type"] == "scores.standings" and frame["rev"] > first["rev"]
    assert rows(frame["live"])[0] == ("Lio", 1, 1, 0, 0, 1, 0, 3)
    assert frame["live"][0]["live"] is True

    await sync_to_async(change)(match.pk, status="finished", minute=90)
    frame = await communicator.receive_json_from()
    assert rows(frame["final"])[0] == ("Lio", 1, 1, 0, 0, 1, 0, 3)
    assert frame["live_matches"] == 0
    await communicator.disconnect()


async def test_a_deleted_or_new_match_changes_the_table(ws):
    """The admin deleting a finished match takes its result out of the table."""
    match = await sync_to_async(played)("Lions", "Harbour", 1, 0)
    communicator = await standings_socket(ws, match.competition_id)
    first = await communicator.receive_json_from()
    assert rows(first["final"])[0] == ("Lio", 1, 1, 0, 0, 1, 0, 3)
    await sync_to_async(Match.objects.filter(pk=match.pk).delete)()
    frame = await communicator.receive_json_from()
    assert frame["final"] == [] and frame["rev"] > first["rev"]
    await sync_to_async(played)("Rovers", "Atletico", 0, 2)
    frame = await communicator.receive_json_from()
    assert rows(frame["final"])[0] == ("Atl", 1, 1, 0, 0, 2, 0, 3)
    await communicator.disconnect()


async def test_bad_standings_requests_get_error_frames(ws):
    """An unknown competition or a bad id is an error, and the socket stays."""
    communicator, connected, _ = await ws("/ws/scores/")
    assert connected
    for bad, code in ((999999, "not_found"), ("x", "invalid"), (0, "invalid")):
        await communicator.send_json_to(
            {"type": "scores.standings", "competition": bad}
        )
        error = await communicator.receive_json_from()
        assert (error["type"], error["code"]) == ("error", code)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


def test_the_standings_page_and_the_teams_panel(client, make_user):
    """The page shows the table the socket would; /scores/ lists the teams, a
    search narrows them, and a logged-in visitor gets a follow button each."""
    played("Lions", "Harbour", 2, 1)
    page = client.get("/scores/competitions/test-league/").content.decode()
    assert page.index(">Lions</a>") < page.index(">Harbour</a>")
    assert 'class="points">3</td>' in page
    assert client.get("/scores/competitions/nope/").status_code == 404

    listing = client.get("/scores/").content.decode()
    assert 'href="/scores/competitions/test-league/"' in listing
    match = Match.objects.get()
    one = client.get(f"/scores/{match.pk}/").content.decode()
    assert 'href="/scores/competitions/test-league/">Standings</a>' in one
    assert 'id="team-filter"' in listing and "Log in to follow teams" in listing
    found = client.get("/scores/", {"team": "harb"}).content.decode()
    assert ">Harbour</a>" in found and ">Lions</a>" not in found.split("team-list")[1]
    client.force_login(make_user("ann"))
    listing = client.get("/scores/").content.decode()
    assert listing.count('class="follow-button"') == 2
    harbour = Team.objects.get(name="Harbour").pk
    assert f'aria-describedby="team-name-{harbour}"' in listing
