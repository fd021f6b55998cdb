"""The quotes board and the WebSocket-versus-polling comparison in Chromium."""

import subprocess
import sys

import pytest
from playwright.sync_api import expect

from project.config import redis_channel_layer
from realtime.demo import seed_instruments
from tests.browser.threads import in_thread
from tests.conftest import REDIS_URL
from tests.servers import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture
def market(daphne, settings, redis_prefix):
    """A daphne on Redis with the demo instruments and the feed as its own process;
    this test process publishes on the same Redis (admin-like changes)."""
    seed_instruments()
    settings.CHANNEL_LAYERS = {
        "default": redis_channel_layer([REDIS_URL], redis_prefix)
    }
    server = daphne()
    feed = subprocess.Popen(
        [sys.executable, "manage.py", "run_feeds", "market"],
        cwd=ROOT,
        # Four rounds a second: a fund's value, every 20 rounds, every 5 s.
        env={**server.env, "DUPLEX_MARKET_INTERVAL": "0.25"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield server
    feed.terminate()
    feed.wait(10)


ROWS = "[...document.querySelectorAll('#board-ws tr[data-symbol]')]"
CHANGED_TS = f"""(before) => {ROWS}.some((row) => row.dataset.ts
  && row.dataset.ts !== (before[row.dataset.symbol] || ''))"""
ROW_TS = f"""() => Object.fromEntries({ROWS}
  .map((row) => [row.dataset.symbol, row.dataset.ts]))"""


def test_the_board_updates_live_and_follows_admin_changes(market, new_page):
    """Rows fill from the snapshot, then tick; an added instrument appears and a
    deactivated one disappears, without a reload."""
    from realtime.models import Instrument

    page = new_page(market.url)
    page.goto("/quotes/")
    board = page.locator("#board-ws")
    expect(board.locator("tr[data-symbol]")).to_have_count(7)
    expect(board.locator('tr[data-symbol="600519.SS"] .q-name')).to_have_text(
        "贵州茅台"
    )
    expect(board.locator('tr[data-symbol="AAPL"] .q-last')).not_to_have_text("-")
    before = page.evaluate(ROW_TS)
    page.wait_for_function(CHANGED_TS, arg=before, timeout=20_000)
    expect(page.locator(".quote-chart-title")).to_contain_text("0700.HK")

    in_thread(
        lambda: Instrument.objects.create(
            symbol="TSLA", name="Tesla <b>Inc</b>", reference_price=250
        )
    )
    expect(board.locator('tr[data-symbol="TSLA"] .q-name')).to_have_text(
        "Tesla <b>Inc</b>"
    )
    expect(board.locator("b")).to_have_count(0)
    in_thread(lambda: Instrument.objects.filter(symbol="AAPL").first().delete())
    expect(board.locator('tr[data-symbol="AAPL"]')).to_have_count(0)
    expect(page.locator("#quote-picker")).not_to_contain_text("AAPL")


SIDES = ["poll", "longpoll", "sse", "ws"]
FIGURES = """(sides) => Object.fromEntries(sides.map((side) => [side,
  Object.fromEntries(['bytes', 'per-update', 'requests', 'requests-per-update',
    'messages', 'updates', 'latency']
    .map((row) => [row, Number(document.getElementById(`${side}-${row}`)
      .dataset.value)]))]))"""
# Every board has shown 20 price changes, delays measured on each.
ALL_LIVE = """(sides) => sides.every((side) =>
  Number(document.getElementById(side + '-updates').dataset.value) >= 20
  && document.getElementById(side + '-latency').dataset.value !== '')"""
BOARD_TS = """(id) => [...document.querySelectorAll('#' + id + ' tr[data-symbol]')]
  .filter((row) => row.dataset.ts).length"""
# How far the page, the figures and each board are wider than they show.
OVERFLOW = """() => [document.documentElement.scrollWidth - innerWidth,
  ...[...document.querySelectorAll(
    '.compare-figures, .compare-boards .quote-table-wrap')]
    .map((node) => node.scrollWidth - node.clientWidth)]"""


def every_row_ticked(page) -> None:
    """Until each board shows a produced quote in each of its 7 rows (a fund
    publishes every 20 rounds, so its first value may take that long)."""
    for board in ("board-poll", "board-longpoll", "board-sse", "board-ws"):
        page.wait_for_function(f"({BOARD_TS})('{board}') == 7", timeout=40_000)


def test_the_compare_page_measures_four_ways_of_feeding_a_board(market, new_page):
    """Polling, long-polling, server-sent events and WebSocket boards all update
    live and report non-zero bytes, requests and delays; polling pays more
    requests and more bytes per update than WebSocket, which made one request."""
    page = new_page(market.url)
    page.goto("/quotes/compare/")
    page.wait_for_function(ALL_LIVE, arg=SIDES, timeout=60_000)
    every_row_ticked(page)
    figures = page.evaluate(FIGURES, SIDES)
    print(figures)
    for side in SIDES:
        assert figures[side]["bytes"] > 0, side
        assert figures[side]["requests"] > 0, side
        assert figures[side]["messages"] > 0, side
    assert figures["ws"]["requests"] == 1  # the upgrade, nothing since
    assert figures["sse"]["requests"] >= 2  # the stream and its subscribe POST
    ws = figures["ws"]
    for side in ("poll", "longpoll"):
        assert figures[side]["requests-per-update"] > ws["requests-per-update"]
        assert figures[side]["requests"] > figures["sse"]["requests"]
    assert figures["poll"]["per-update"] > ws["per-update"]
    expect(page.locator("#compare-ratio")).to_contain_text("times")
    # The SSE board's stream is not the page's: the badge says WebSocket.
    expect(page.locator("#connection-badge")).to_have_text("live")


@pytest.mark.parametrize(
    ("width", "language"), [(1280, "en"), (390, "en"), (390, "zh-hans")]
)
def test_the_four_compare_boards_fit_the_screen(market, new_page, width, language):
    """No horizontal scrolling on a desktop or a phone, in English and Chinese:
    not the page, not the figures, not a board."""
    page = new_page(
        market.url,
        viewport={"width": width, "height": 900},
        extra_http_headers={"Accept-Language": language},
    )
    page.goto("/quotes/compare/")
    every_row_ticked(page)
    assert page.evaluate(OVERFLOW) == [0] * 6
