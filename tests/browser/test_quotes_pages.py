"""The quotes board and the WebSocket-versus-polling comparison in Chromium."""

import subprocess
import sys

import pytest
from playwright.sync_api import expect

from project.settings import redis_channel_layer
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
        env=server.env,
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


def test_the_compare_page_measures_far_fewer_websocket_bytes(market, new_page):
    """Both sides report real, non-zero bytes and delays; WebSocket far below."""
    page = new_page(market.url)
    page.goto("/quotes/compare/")
    page.wait_for_function(
        """() => {
          const value = (id) => Number(document.getElementById(id).dataset.value || 0);
          return value('ws-bytes') > 0 && value('poll-bytes') > 3 * value('ws-bytes');
        }""",
        timeout=60_000,
    )
    value = lambda name: float(page.locator(f"#{name}").get_attribute("data-value"))  # noqa: E731
    assert value("ws-bytes") > 0 and value("poll-bytes") > 3 * value("ws-bytes")
    expect(page.locator("#poll-requests")).not_to_have_text("0")
    expect(page.locator("#ws-latency")).not_to_have_text("-")
    expect(page.locator("#poll-latency")).not_to_have_text("-")
    expect(page.locator("#compare-ratio")).to_contain_text("times")
    figures = page.evaluate("QuoteCompare.figures")
    print(
        f"polling {figures['poll']['bytes']} B in {figures['poll']['count']} requests,"
        f" websocket {figures['ws']['bytes']} B in {figures['ws']['count']} frames"
    )
