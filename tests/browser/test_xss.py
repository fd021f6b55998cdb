"""XSS payloads in every user-written field render as text in Chromium.

Each payload sets ``window.__x`` and opens a dialog if it ever runs; every page
that shows the field is visited, the payload must be visible as text, the flag
unset, no dialog opened and no element the payload would create present.
"""

import subprocess
import sys
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from realtime.chat import service as chat_service
from realtime.chat.models import Room
from realtime.game import service as game_service
from realtime.models import Competition, Instrument, Match, MatchEvent, Team
from realtime.notifications import service as notify
from tests.browser.threads import in_thread
from tests.servers import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Fits the shortest field (a room name: 80); no "/" so it can be a username.
TAG = '"><img src=x onerror="window.__x=1;alert(1)"><svg onload=window.__x=2>'
SCRIPT = "<script>window.__x=3;alert(3)</script>"
LINK = "javascript:window.__x=4;alert(4)"
FULL = f"{TAG} {SCRIPT} {LINK}"
INJECTED = (
    "img[src='x'], svg[onload], script:not([src]):not([type]), a[href^='javascript']"
)


def watch(page):
    """Record every dialog the page opens (and dismiss it)."""
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    return page


def assert_inert(page, *texts, within="body"):
    """Each text shows literally; nothing it holds became markup or ran."""
    for text in texts:
        expect(page.locator(within)).to_contain_text(text)
    inline = page.locator(INJECTED).evaluate_all(
        "els => els.filter(e => e.tagName !== 'SCRIPT' ||"
        " e.textContent.includes('__x')).map(e => e.outerHTML)"
    )
    assert inline == [], page.url
    assert page.evaluate("window.__x") is None, page.url
    assert page.dialogs == [], page.url


def test_chat_room_usernames_announcements_and_notifications(
    daphne, login_page, make_user
):
    """Room name and topic, messages (stored and live), an announcement, the
    author's name, a mention notification and a site announcement stay text."""
    server = daphne(redis=True)
    evil, ann = make_user(TAG), make_user("ann")
    room = Room.objects.create(slug="x", name=TAG, topic=FULL)
    Room.objects.create(slug="y", name=TAG + "2", topic=FULL, is_public=False)
    Room.objects.get(slug="y").members.add(ann)
    in_thread(chat_service.post_message, room.pk, evil, FULL)
    in_thread(chat_service.announce, room.pk, "announce " + FULL)
    in_thread(notify.notify, ann.pk, "mention", "title " + FULL, "body " + FULL)

    page = watch(login_page(server, ann))
    page.goto("/chat/")
    assert_inert(page, TAG, TAG + "2")
    page.goto("/chat/x/")
    expect(page.locator("#presence-list li")).to_have_count(1)
    assert_inert(page, FULL, "announce " + FULL, "title " + FULL)

    attacker = watch(login_page(server, evil))
    attacker.goto("/chat/x/")
    expect(page.locator("#presence-list li")).to_have_count(2)
    attacker.locator("#chat-text").fill(f"@ann live {FULL}")
    attacker.locator("#chat-text").press("Enter")
    assert_inert(page, f"@ann live {FULL}", f"{TAG} mentioned you in #x")
    assert_inert(attacker, f"@ann live {FULL}")

    subprocess.run(
        [sys.executable, "manage.py", "announce", "site " + FULL],
        cwd=ROOT, env=server.env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert_inert(page, "site " + FULL, within="#announcement")
    page.goto("/notifications/")
    assert_inert(page, "title " + FULL, "body " + FULL)


def test_game_pages_usernames_and_game_chat(daphne, login_page, make_user):
    """A player named like markup, and their game chat, on the lobby, the board,
    the replay, their record and their profile."""
    server = daphne(redis=True)
    evil, ann = make_user(TAG), make_user("ann")

    def games():
        game_service.create_game(evil, 0)  # waits for an opponent in the lobby
        over = game_service.create_game(evil, 5)
        game_service.join(over.pk, ann)
        game_service.resign(over.pk, ann)
        live = game_service.create_game(evil, 0)
        game_service.join(live.pk, ann)
        return over, live

    game, live = in_thread(games)

    page = watch(login_page(server, ann))
    page.goto("/game/")
    expect(page.locator("#open-games li")).to_have_count(1)
    assert_inert(page, TAG, within="#open-games")
    page.goto(f"/game/{live.pk}/")
    attacker = watch(login_page(server, evil))
    attacker.goto(f"/game/{live.pk}/")
    expect(attacker.locator("#chat-text")).to_be_enabled()
    attacker.locator("#chat-text").fill(FULL)
    attacker.locator("#chat-text").press("Enter")
    assert_inert(page, TAG, FULL)
    assert_inert(attacker, FULL)
    name = quote(TAG, safe="")
    for url in (
        f"/game/{game.pk}/replay/",
        f"/game/players/{name}/",
        f"/users/{name}/",
    ):
        page.goto(url)
        assert_inert(page, TAG)


def test_instruments_teams_match_events_stay_text(daphne, login_page, make_user):
    """Admin-managed names (instrument, competition, teams, a scorer) on the
    quotes, polling, compare and scores pages."""
    server = daphne(redis=True)

    def data():
        Instrument.objects.create(symbol="XSS", name=TAG, reference_price=10)
        league = Competition.objects.create(name=TAG + "C", slug="evil")
        home, away = (
            Team.objects.create(name=TAG + side, short_name="<b>" + side, slug=side)
            for side in "HA"
        )
        match = Match.objects.create(
            competition=league, home=home, away=away, kickoff=timezone.now(),
            status="live", minute=3,
        )  # fmt: skip
        MatchEvent.objects.create(match=match, kind="goal", minute=2,
                                  team=match.home, player=TAG + "P")  # fmt: skip
        match.save()
        return match

    match = in_thread(data)
    page = watch(login_page(server, make_user("ann")))
    for url in ("/quotes/", "/quotes/polling/", "/quotes/compare/"):
        page.goto(url)
        assert_inert(page, TAG)
    pages = {
        "/scores/": [TAG + "H", TAG + "A"],
        f"/scores/{match.pk}/": [TAG + "H", TAG + "P"],
        f"/scores/teams/{match.home_id}/": [TAG + "H"],
    }
    for url, texts in pages.items():
        page.goto(url)
        assert_inert(page, *texts)


def test_signup_refuses_a_username_that_is_markup(db):
    """The sign-up form does not create a user named like markup."""
    from django.contrib.auth import get_user_model

    response = Client().post(
        "/accounts/signup/",
        {"username": TAG, "password1": "Long-pass-123", "password2": "Long-pass-123"},
    )
    assert response.status_code == 200  # the form again, with its error
    assert not get_user_model().objects.filter(username=TAG).exists()
