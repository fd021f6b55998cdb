"""Every page through axe-core (vendored in tests/browser/vendor/), logged in and
out in English, logged in in Chinese (on a phone), and a visitor's own pages in
Chinese: no violation of any impact is allowed (minor, moderate, serious and
critical), and no page logs an error to the console."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from realtime.demo import seed_instruments
from tests.game_helpers import BLACK_WINS
from tests.scores_factory import make_match

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
ZH = {"extra_http_headers": {"Accept-Language": "zh-hans"}}
PHONE = {"viewport": {"width": 390, "height": 844}}
# axe's rule tags: WCAG 2.0 to 2.2 A and AA, and its own best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + n.failureSummary),
  }));
}"""


@pytest.fixture
def site(make_user, lobby):
    """One of everything: a room with a message, a match, a finished game, the
    instruments, a notification, and Ann and Bob, with a direct room of theirs."""
    from realtime.chat.direct import start_direct
    from realtime.chat.service import post_message
    from realtime.game import service as games
    from realtime.notifications.service import notify

    ann, bob = make_user("ann"), make_user("bob")
    post_message(lobby.pk, bob, "hello 你好")
    direct = start_direct(bob, "ann")
    post_message(direct.pk, bob, "just us 私信")
    seed_instruments()
    match = make_match("Lions", "Harbour", status="live")
    game = games.create_game(ann, 5)
    games.join(game.pk, bob)
    for i, (x, y) in enumerate(BLACK_WINS):
        games.play(game.pk, ann if i % 2 == 0 else bob, x, y)
    open_game = games.create_game(bob, 5)
    notify(ann.pk, "mention", "bob mentioned you", "@ann hi", "/chat/lobby/")
    return {
        "ann": ann,
        "match": match.pk,
        "team": match.home_id,
        "game": game.pk,
        "open_game": open_game.pk,
        "direct": direct.slug,
    }


def pages(site, logged_in: bool) -> list[str]:
    public = [
        "/",
        "/echo/",
        "/echo/tutorials/",
        "/chat/",
        "/chat/lobby/",
        "/chat/lobby/search/?q=hello",
        "/chat/lobby/messages/1/",
        "/users/bob/",
        "/quotes/",
        "/quotes/polling/",
        "/quotes/compare/",
        "/scores/",
        f"/scores/{site['match']}/",
        f"/scores/teams/{site['team']}/",
        "/scores/competitions/test-league/",
        "/game/",
        f"/game/{site['game']}/",
        f"/game/{site['open_game']}/",
        f"/game/{site['game']}/replay/",
        "/game/players/ann/",
        "/game/leaderboard/",
    ]
    if not logged_in:
        return [*public, "/accounts/login/", "/accounts/signup/"]
    return [
        *public,
        f"/chat/{site['direct']}/",
        "/notifications/",
        "/notifications/settings/",
        "/settings/tokens/",
    ]


def visitor_pages_in_chinese(site) -> list[str]:
    """The logged-in Chinese run visits every public page in Chinese; a visitor's
    run in Chinese visits the pages a visitor alone sees, and those whose
    controls differ for a visitor (the composer, the board, the header)."""
    return [
        "/",
        "/chat/lobby/",
        f"/game/{site['open_game']}/",
        "/quotes/",
        "/accounts/login/",
        "/accounts/signup/",
    ]


# Pages that always hold a request open (a long-poll, an event stream) never
# go network-idle: they are checked once this shows.
HELD_OPEN = {"/quotes/compare/": "#board-longpoll tr[data-symbol] >> nth=0"}


def violations_on(page, path: str, errors: list[str]) -> list[str]:
    errors.clear()
    response = page.goto(path)
    if path in HELD_OPEN:
        page.locator(HELD_OPEN[path]).wait_for()
    else:
        page.wait_for_load_state("networkidle")
    badge = page.locator("#connection-badge")
    status = response.status if response else None
    assert badge.count() == 1, f"{path}: no connection badge ({status} {page.url})"
    if badge.get_attribute("data-state") != "offline":
        expect(badge).to_have_attribute("data-state", "live")
    page.add_script_tag(path=AXE)
    found = page.evaluate(RUN_AXE, TAGS)
    return [f"{path} {v['impact']} {v['id']}: {v['nodes']}" for v in found] + [
        f"{path} console: {text}" for text in errors
    ]


@pytest.mark.parametrize(
    ("logged_in", "language", "screen"),
    [
        (False, "en", {}),
        (False, "zh-hans", {}),
        (True, "en", {}),
        # Logged in, Chinese: on a phone, whose header and layouts are the
        # narrow ones (the pages and texts are those of the desktop).
        (True, "zh-hans", PHONE),
    ],
    ids=["visitor-en", "visitor-zh", "member-en", "member-zh-phone"],
)
def test_every_page_passes_axe(
    site, daphne, new_page, session_for, logged_in, language, screen
):
    """axe finds nothing on any page, and no page logs an error to the console."""
    from django.conf import settings

    key = session_for(site["ann"]) if logged_in else None
    server = daphne()
    page = new_page(server.url, **(ZH if language != "en" else {}), **screen)
    if key:
        cookie = {"name": settings.SESSION_COOKIE_NAME, "value": key}
        page.context.add_cookies([{**cookie, "url": server.url}])
    errors, found = [], []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    visits = pages(site, logged_in)
    if language != "en" and not logged_in:
        visits = visitor_pages_in_chinese(site)
    for path in visits:
        found += violations_on(page, path, errors)
    assert found == [], "\n".join(found)
