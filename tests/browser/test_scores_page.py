"""/scores/ as a visitor sees it: kick-off times, live matches on top, Chinese
labels through live updates, and a phone-sized screen."""

import re
from datetime import UTC, datetime, time

import pytest
from playwright.sync_api import expect

from project.config import redis_channel_layer
from realtime.models import Competition, MatchEvent
from tests.browser.threads import in_thread
from tests.conftest import REDIS_URL
from tests.scores_factory import change, make_match

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
ZH = {"extra_http_headers": {"Accept-Language": "zh-hans"}}
ROW_IDS = "[...document.querySelectorAll('.match-row')].map((r) => r.dataset.matchId)"
TIMELINE = "[...document.querySelectorAll('#timeline li')].map((li) => li.outerHTML)"
SECTIONS = "[...document.querySelectorAll('.competition h2')].map((h) => h.textContent)"


def at_utc(hour: int) -> datetime:
    """Today (the server's day, UTC) at ``hour``:00 UTC."""
    return datetime.combine(datetime.now(UTC).date(), time(hour), tzinfo=UTC)


@pytest.fixture
def scores_server(daphne, settings, redis_prefix):
    """A daphne on Redis; this test process publishes there too, as the admin would."""
    settings.CHANNEL_LAYERS = {
        "default": redis_channel_layer([REDIS_URL], redis_prefix)
    }
    return daphne()


@pytest.fixture
def day(transactional_db):
    """A morning of one league: two upcoming matches and a finished one, and a cup
    whose only match is upcoming."""
    cup = Competition.objects.create(name="Alpha Cup", slug="alpha-cup")
    done = make_match("Tigers", "Wolves", kickoff=at_utc(8), status="finished")
    MatchEvent.objects.create(match=done, kind="goal", minute=23, team=done.home)
    return {
        "early": make_match("Lions", "Harbour", kickoff=at_utc(10)),
        "late": make_match("Falcons", "Rovers", kickoff=at_utc(12)),
        "done": done,
        "cup": make_match("Bears", "Eagles", kickoff=at_utc(9), competition=cup),
    }


def save(match, **fields):
    """Change a match as the admin would, from outside the page's server."""
    in_thread(lambda: change(match.pk, **fields))


def live(page):
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")


def test_upcoming_matches_show_their_kickoff_in_the_viewers_time(
    day, scores_server, new_page
):
    """12:00 UTC reads 20:00 in Shanghai, where the score would read 0 - 0."""
    page = new_page(scores_server.url, timezone_id="Asia/Shanghai")
    page.goto("/scores/")
    live(page)
    row = page.locator(f'.match-row[data-match-id="{day["late"].pk}"]')
    expect(row.locator(".kickoff")).to_be_visible()
    expect(row.locator(".kickoff")).to_have_text(re.compile(r"(^| )20:00$"))
    expect(row.locator(".score")).to_be_hidden()
    done = page.locator(f'.match-row[data-match-id="{day["done"].pk}"]')
    expect(done.locator(".score")).to_have_text("0 - 0")
    expect(done.locator(".kickoff")).to_be_hidden()


def test_a_match_that_kicks_off_moves_to_the_top(day, scores_server, new_page):
    """Kick-off of the later match puts it, and its league, on top; the server
    renders a fresh page in the same order."""
    page = new_page(scores_server.url)
    page.goto("/scores/")
    live(page)
    ids = [str(day[k].pk) for k in ("cup", "early", "late", "done")]
    assert page.evaluate(ROW_IDS) == ids
    assert page.evaluate(SECTIONS) == ["Alpha Cup", "Test League 测试联赛"]

    save(day["late"], status="live", minute=1)
    row = page.locator(f'.match-row[data-match-id="{day["late"].pk}"]')
    expect(row).to_have_attribute("data-status", "live")
    expect(row.locator(".score")).to_have_text("0 - 0")
    ids = [str(day[k].pk) for k in ("late", "early", "done", "cup")]
    assert page.evaluate(ROW_IDS) == ids
    assert page.evaluate(SECTIONS) == ["Test League 测试联赛", "Alpha Cup"]
    fresh = new_page(scores_server.url)
    fresh.goto("/scores/")
    assert fresh.evaluate(ROW_IDS) == ids

    save(day["late"], status="finished", minute=90)
    expect(row).to_have_attribute("data-status", "finished")
    assert page.evaluate(ROW_IDS) == [
        str(day[k].pk) for k in ("cup", "early", "done", "late")
    ]


def test_chinese_status_labels_stay_chinese_through_live_updates(
    day, scores_server, new_page
):
    """The socket's snapshot and updates carry English labels; the list keeps
    its own (未开始, 进行中, 已结束), and a match's timeline says 进球, served
    and live."""
    page = new_page(scores_server.url, **ZH)
    page.goto("/scores/")
    live(page)
    status = page.locator(f'.match-row[data-match-id="{day["late"].pk}"] .match-status')
    expect(status).to_have_text("未开始")
    save(day["late"], status="live", minute=1)
    expect(status).to_have_text("进行中")
    done = page.locator(f'.match-row[data-match-id="{day["done"].pk}"] .match-status')
    expect(done).to_have_text("已结束")
    save(day["late"], status="half_time", minute=45)
    expect(status).to_have_text("中场休息")

    served = new_page(scores_server.url, java_script_enabled=False, **ZH)
    served.goto(f"/scores/{day['done'].pk}/")
    expect(served.locator("#timeline .event-kind")).to_have_text("进球")
    page.goto(f"/scores/{day['done'].pk}/")
    live(page)
    expect(page.locator(".match-status")).to_have_text("已结束")
    expect(page.locator("#timeline .event-kind")).to_have_text("进球")
    rev = page.locator(".match-row").get_attribute("data-rev")
    save(day["done"], minute=91)
    expect(page.locator(".match-row")).not_to_have_attribute("data-rev", rev)
    expect(page.locator(".match-status")).to_have_text("已结束")
    expect(page.locator("#timeline .event-kind")).to_have_text("进球")
    assert page.evaluate(TIMELINE) == served.evaluate(TIMELINE)  # the same markup


def test_the_list_fits_a_phone(day, scores_server, new_page):
    """At 390x844 nothing scrolls sideways and a score stays on one line, with
    the demo's long bilingual team names."""
    long = in_thread(make_match, "Beijing Lions 北京雄狮", "Shanghai Harbour 上海港")
    save(long, status="live", minute=67, home_score=10)
    page = new_page(scores_server.url, viewport=PHONE)
    page.goto("/scores/")
    live(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    score = page.locator(f'.match-row[data-match-id="{long.pk}"] .score')
    expect(score).to_have_text("10 - 0")
    line = score.locator(".home-score").bounding_box()["height"]
    assert score.bounding_box()["height"] < 1.5 * line + 4
    page.goto(f"/scores/{long.pk}/")
    live(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
