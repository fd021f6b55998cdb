"""A competition's standings and the teams panel of /scores/, as a visitor
sees them: the table moves when a result changes, and a team is found and
followed from the list."""

import pytest
from playwright.sync_api import expect

from project.config import redis_channel_layer
from realtime.models import TeamFollow
from tests.browser.threads import in_thread
from tests.conftest import REDIS_URL
from tests.scores_factory import change, make_match

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZH = {"extra_http_headers": {"Accept-Language": "zh-hans"}}
COLUMN = "(css) => [...document.querySelectorAll(css)].map((node) => node.textContent)"


def teams(page):
    return page.evaluate(COLUMN, "#standings-rows .team-link")


def points(page):
    return page.evaluate(COLUMN, "#standings-rows .points")


@pytest.fixture
def scores_server(daphne, settings, redis_prefix):
    """A daphne on Redis; this test process publishes there too, as the admin would."""
    settings.CHANNEL_LAYERS = {
        "default": redis_channel_layer([REDIS_URL], redis_prefix)
    }
    return daphne()


@pytest.fixture
def league(transactional_db):
    """Rovers won their match; Lions and Harbour are playing, goalless."""
    make_match("Rovers", "Atletico", status="finished", home_score=1, away_score=0)
    return make_match("Lions", "Harbour", status="live", minute=30)


def save(match, **fields):
    in_thread(lambda: change(match.pk, **fields))


def test_the_standings_move_when_a_goal_is_scored(league, scores_server, new_page):
    """A goal puts the scoring team on top, marked live, with its row flashing;
    the finished-only table leaves the live match out; full-time keeps it."""
    page = new_page(scores_server.url)
    page.goto("/scores/competitions/test-league/")
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    assert teams(page) == ["Rovers", "Harbour", "Lions", "Atletico"]
    assert points(page) == ["3", "1", "1", "0"]

    save(league, home_score=2, minute=31)
    lions = page.locator(f'#standings-rows tr[data-team-id="{league.home_id}"]')
    expect(page.locator("#standings-rows tr").first).to_have_attribute(
        "data-team-id", str(league.home_id)
    )
    expect(lions.locator(".points")).to_have_text("3")
    expect(lions.locator(".live-mark")).to_be_visible()
    expect(lions).to_have_class("standings-row live flash")
    assert teams(page) == ["Lions", "Rovers", "Atletico", "Harbour"]
    expect(page.locator("#standings-live-note")).to_be_visible()

    page.get_by_label("Count live matches as they stand").uncheck()
    expect(lions.locator(".points")).to_have_text("0")
    assert teams(page)[0] == "Rovers"
    expect(page.locator("#standings-live-note")).to_be_hidden()

    save(league, status="finished", minute=90)
    expect(lions.locator(".points")).to_have_text("3")
    expect(lions.locator(".live-mark")).to_be_hidden()
    assert teams(page) == ["Lions", "Rovers", "Atletico", "Harbour"]


def test_the_standings_page_in_chinese(league, scores_server, new_page):
    """Headings, columns and the live mark in Chinese; the scores list links to it."""
    page = new_page(scores_server.url, **ZH)
    page.goto("/scores/")
    page.get_by_role("link", name="积分榜").click()
    expect(page.locator("h1")).to_have_text("Test League 测试联赛 积分榜")
    expect(page.locator("thead")).to_contain_text("积分")
    lions = page.locator(f'#standings-rows tr[data-team-id="{league.home_id}"]')
    expect(lions.locator(".live-mark")).to_have_text("进行中")


def test_a_team_is_found_and_followed_from_the_list(
    league, scores_server, login_page, make_user
):
    """Typing narrows the teams; Follow turns into Unfollow without leaving the
    page, the follow is stored, and a fresh page still says Unfollow."""
    ann = make_user("ann")
    page = login_page(scores_server, ann)
    page.goto("/scores/")
    listed = page.locator("#team-list .team-item:visible")
    expect(listed).to_have_count(4)
    page.get_by_label("Find a team").fill("harb")
    expect(listed).to_have_count(1)
    expect(listed.first.locator(".team-link")).to_have_text("Harbour")
    expect(listed.first.get_by_role("button")).to_have_accessible_description("Harbour")
    page.get_by_label("Find a team").fill("nobody at all")
    expect(page.locator("#team-none")).to_be_visible()
    page.get_by_label("Find a team").fill("HAR")
    url = page.url
    listed.first.get_by_role("button", name="Follow").click()
    expect(listed.first.get_by_role("button")).to_have_text("Unfollow")
    assert page.url == url  # no reload: the filter is still typed
    expect(page.get_by_label("Find a team")).to_have_value("HAR")
    assert list(TeamFollow.objects.values_list("user", "team")) == [
        (ann.pk, league.away_id)
    ]
    page.reload()
    harbour = page.locator(f'.team-item[data-team-id="{league.away_id}"]')
    expect(harbour.get_by_role("button")).to_have_text("Unfollow")
    harbour.get_by_role("button").click()
    expect(harbour.get_by_role("button")).to_have_text("Follow")
    assert not TeamFollow.objects.exists()
