"""Pages and follow endpoints: POST with CSRF, JSON for fetch, redirects for forms."""

import re

import pytest
from django.test import Client
from django.utils import translation

from realtime.demo import seed_scores
from realtime.models import (
    Instrument,
    Match,
    PriceAlert,
    RoomFollow,
    TeamFollow,
    UserFollow,
)
from realtime.notifications.service import notify
from tests.scores_factory import make_match

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def ann_client(login, ann):
    return login(ann, csrf=True)


@pytest.fixture
def acme(db):
    """An instrument on the quotes board: alerts may name only those."""
    return Instrument.objects.create(
        symbol="ACME", name="Acme", reference_price=100, volatility=1
    )


def post(client, path, data=None, **extra):
    token = client.cookies["csrftoken"].value
    return client.post(path, {**(data or {}), "csrfmiddlewaretoken": token}, **extra)


def test_follow_endpoints_need_a_login_and_the_csrf_token(ann_client):
    """Anonymous fetches get 401, a post without the token 403; nothing is stored."""
    assert Client().post("/notifications/follow/room/lobby/", **JSON).status_code == 401
    assert Client().post("/notifications/follow/room/lobby/").status_code == 302
    assert ann_client.post("/notifications/follow/room/lobby/").status_code == 403
    assert ann_client.get("/notifications/follow/room/lobby/").status_code == 405
    assert not RoomFollow.objects.exists()


def test_follow_and_unfollow_a_room_a_user_and_a_team(ann_client, make_user, lobby):
    """JSON answers for the chat and quotes pages; the settings page lists follows."""
    make_user("bob")
    team = make_match().home
    for kind, target in [("room", "lobby"), ("user", "bob"), ("team", team.pk)]:
        answer = post(ann_client, f"/notifications/follow/{kind}/{target}/", **JSON)
        assert answer.json() == {"following": True}
    page = ann_client.get("/notifications/settings/").content.decode()
    assert "#lobby" in page and "bob" in page and team.name in page
    post(ann_client, "/notifications/unfollow/room/lobby/", **JSON)
    answer = post(ann_client, f"/notifications/unfollow/team/{team.pk}/", {"next": "/"})
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert not RoomFollow.objects.exists() and not TeamFollow.objects.exists()
    assert UserFollow.objects.count() == 1
    assert (
        post(ann_client, "/notifications/follow/user/ann/", **JSON).status_code == 400
    )


def test_price_alerts_are_validated(ann_client, acme):
    """A good alert is stored armed; bad symbols, directions and levels are refused."""
    good = {"symbol": "acme", "direction": "above", "level": "101.5"}
    answer = post(ann_client, "/notifications/alerts/", good, **JSON)
    assert answer.status_code == 201 and answer.json()["armed"] is True
    assert str(PriceAlert.objects.get().symbol) == "ACME"
    for bad in [
        {**good, "symbol": "<b>"},
        {**good, "direction": "sideways"},
        {**good, "level": "NaN"},
        {**good, "level": "-3"},
    ]:
        assert (
            post(ann_client, "/notifications/alerts/", bad, **JSON).status_code == 400
        )
    alert = PriceAlert.objects.get()
    post(ann_client, f"/notifications/alerts/{alert.pk}/delete/")
    assert not PriceAlert.objects.exists()


def test_pages_render_for_their_visitors(ann_client, make_user):
    """/scores/, a match, a team, a profile and the notification list all render."""
    match = make_match(status="live", minute=5)
    notify(make_user("bob").pk, "mention", "for bob only")
    for path in ["/scores/", f"/scores/{match.pk}/", f"/scores/teams/{match.home_id}/"]:
        assert ann_client.get(path).status_code == 200
    assert "Lions" in ann_client.get("/scores/").content.decode()
    assert 'id="notif-bell"' in ann_client.get("/scores/").content.decode()
    assert 'id="notif-bell"' not in Client().get("/scores/").content.decode()
    assert "Follow" in ann_client.get("/users/bob/").content.decode()
    assert "for bob only" not in ann_client.get("/notifications/").content.decode()
    assert Client().get("/notifications/").status_code == 302
    assert ann_client.get("/scores/999999/").status_code == 404


def test_demo_seeder_is_idempotent_and_has_a_live_simulated_match(db):
    """Seeding twice makes one league, four teams, three matches, one simulated."""
    seed_scores()
    seed_scores()
    assert Match.objects.count() == 3
    assert Match.objects.filter(simulated=True).count() == 1


def test_deleting_someone_elses_alert_is_not_found(ann_client, acme, make_user):
    """ann cannot delete bob's alert: 404, and bob's alert stays; her own goes."""
    bob = make_user("bob")
    theirs = PriceAlert.objects.create(
        user=bob, symbol="AAPL", direction="above", level=1
    )
    answer = post(ann_client, f"/notifications/alerts/{theirs.pk}/delete/", **JSON)
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
    form = post(ann_client, f"/notifications/alerts/{theirs.pk}/delete/")
    assert form.status_code == 302
    page = ann_client.get(form["Location"]).content.decode()
    assert "That alert does not exist" in page
    assert PriceAlert.objects.filter(pk=theirs.pk).exists()
    good = {"symbol": "acme", "direction": "below", "level": "2"}
    mine = post(ann_client, "/notifications/alerts/", good, **JSON).json()["alert"]
    answer = post(ann_client, f"/notifications/alerts/{mine}/delete/", **JSON)
    assert answer.status_code == 200 and answer.json() == {"deleted": mine}
    assert list(PriceAlert.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_an_alert_on_a_symbol_not_on_the_board_is_refused(ann_client, acme):
    """ZZZZ (and a deactivated instrument) is refused with a reason; nothing stored."""
    Instrument.objects.create(
        symbol="GONE", name="Gone", reference_price=5, active=False
    )
    for symbol in ["ZZZZ", "gone"]:
        bad = {"symbol": symbol, "direction": "above", "level": "10"}
        answer = post(ann_client, "/notifications/alerts/", bad, **JSON)
        assert answer.status_code == 400
        assert answer.json()["detail"] == (
            f"There is no instrument {symbol.upper()} on the quotes board."
        )
    form = post(ann_client, "/notifications/alerts/", {**bad, "symbol": "zzzz"})
    page = ann_client.get(form["Location"]).content.decode()
    assert "There is no instrument ZZZZ on the quotes board." in page
    datalist = page.split('<datalist id="alert-symbols">')[1].split("</datalist>")[0]
    offered = re.findall(r'<option value="([^"]+)">', datalist)
    assert offered == ["ACME"]  # the form offers the board's symbols
    assert not PriceAlert.objects.exists()


def test_alert_levels_show_as_typed(ann_client, acme):
    """225.99 reads "225.99" and 100 reads "100": not "225.9900", not "1E+2"."""
    for level in ["225.99", "100", "0.0042"]:
        good = {"symbol": "ACME", "direction": "above", "level": level}
        assert post(ann_client, "/notifications/alerts/", good).status_code == 302
    page = ann_client.get("/notifications/settings/").content.decode()
    levels = re.findall(r"<strong>ACME</strong> rises to or above (\S+)", page)
    assert levels == ["0.0042", "100", "225.99"]
    with translation.override("en"):  # the request leaves its language active
        zh = ann_client.get("/notifications/settings/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "价格回到价位另一侧超过 0.5% 后才会再次提醒" in zh.content.decode()
