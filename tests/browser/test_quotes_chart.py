"""The live board's candle chart, symbol search and alert-me control in Chromium,
in English and in Chinese."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from project.config import redis_channel_layer
from realtime.demo import seed_instruments
from tests.browser.test_accessibility import AXE, RUN_AXE, TAGS, ZH, violations_on
from tests.browser.threads import in_thread
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.browser

CHART = ".quote-chart-wrap"
# Pixels of the candles' own colours on the chart's canvases: up, then down.
CANDLE_PIXELS = """() => {
  const counts = [0, 0];
  for (const canvas of document.querySelectorAll('.quote-candles canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const {width, height} = canvas;
    const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a < 250) continue;
      if (Math.abs(r - 14) + Math.abs(g - 124) + Math.abs(b - 55) < 12) counts[0]++;
      if (Math.abs(r - 198) + Math.abs(g - 40) + Math.abs(b - 40) < 12) counts[1]++;
    }
  }
  return counts;
}"""
CANDLE_AT = """(time) => {
  const chart = document.querySelector('.quote-chart-wrap').candleChart.chart;
  return chart.timeScale().timeToCoordinate(time);
}"""


def this_minute():
    return timezone.now().replace(second=0, microsecond=0)


@pytest.fixture
def board(daphne, settings, redis_prefix):
    """A daphne on Redis with the demo instruments and three known AAPL minutes
    (up, flat, down) plus a point ten days old; no feed, so nothing else moves."""
    seed_instruments()
    from realtime.models import Instrument, PricePoint

    aapl = Instrument.objects.get(symbol="AAPL")
    first = this_minute() - timedelta(minutes=10)
    rows = [
        (10.0, 100, first + timedelta(seconds=1)),
        (12.0, 50, first + timedelta(seconds=20)),
        (9.0, 25, first + timedelta(seconds=40)),
        (11.0, 5, first + timedelta(seconds=59)),
        (11.5, 300, first + timedelta(seconds=90)),
        (11.4, 10, first + timedelta(seconds=125)),
        (11.0, 10, first + timedelta(seconds=170)),
        (99.0, 7, timezone.now() - timedelta(days=10)),
    ]
    PricePoint.objects.bulk_create(
        PricePoint(instrument=aapl, price=p, volume=v, at=at) for p, v, at in rows
    )
    settings.CHANNEL_LAYERS = {
        "default": redis_channel_layer([REDIS_URL], redis_prefix)
    }
    server = daphne()
    server.first_minute = first
    return server


def open_aapl(page):
    page.goto("/quotes/")
    page.locator('#board-ws tr[data-symbol="AAPL"] .q-name').click()
    expect(page.locator(".quote-chart-title")).to_contain_text("AAPL")
    expect(page.locator(CHART)).to_have_attribute("data-candles", "3")


def hover_candle(page, time):
    x = page.evaluate(CANDLE_AT, int(time.timestamp()))
    page.locator(".quote-candles").scroll_into_view_if_needed()
    box = page.locator(".quote-candles").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + box["height"] / 2)


def publish_tick(price: float, at):
    from realtime.core import fanout
    from realtime.quotes.protocol import quote_info, tick_frame, topic

    info = quote_info(
        "AAPL",
        last=price,
        open=10.0,
        high=13.0,
        low=9.0,
        prev_close=10.0,
        volume=1000,
        at=at,
    )
    in_thread(lambda: fanout.publish(topic("AAPL"), tick_frame(info), key="AAPL"))


def test_candles_are_drawn_and_the_range_switches(board, new_page):
    """Minute candles paint up and down colours; 1 day reaches back ten days."""
    page = new_page(board.url)
    open_aapl(page)
    page.wait_for_function(f"() => ({CANDLE_PIXELS})().every((n) => n > 20)")
    hour = page.get_by_role("button", name="1 hour")
    hour.click()
    expect(hour).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="1 min")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(page.locator(CHART)).to_have_attribute("data-range", "1h")
    expect(page.locator(CHART)).not_to_have_attribute("data-loading", "1")
    # The three minutes are one hour's candle, or two across an hour's end.
    assert page.locator(CHART).get_attribute("data-candles") in ("1", "2")
    page.get_by_role("button", name="1 day").click()
    expect(page.locator(CHART)).to_have_attribute("data-range", "1d")
    expect(page.locator(CHART)).not_to_have_attribute("data-loading", "1")
    ten_days = timezone.now() - timedelta(days=10)
    hover_candle(page, ten_days.replace(hour=0, minute=0, second=0, microsecond=0))
    expect(page.locator(".chart-tooltip .c-open .c-value")).to_have_text("99.00")


@pytest.mark.parametrize(
    ("language", "labels"),
    [("en", ("Open", "High", "Low", "Close", "Volume")), ("zh-hans", ("开盘",))],
)
def test_the_crosshair_tooltip_shows_the_candle(board, new_page, language, labels):
    """Hovering a minute shows its open, high, low, close and volume."""
    page = new_page(board.url, **(ZH if language != "en" else {}))
    open_aapl(page)
    tooltip = page.locator(".chart-tooltip")
    expect(tooltip).to_be_hidden()
    hover_candle(page, board.first_minute)
    expect(tooltip).to_be_visible()
    for name, value in [
        ("open", "10.00"),
        ("high", "12.00"),
        ("low", "9.00"),
        ("close", "11.00"),
        ("volume", "180"),
    ]:
        expect(tooltip.locator(f".c-{name} .c-value")).to_have_text(value)
    for label in labels:
        expect(tooltip).to_contain_text(label)
    expect(page.locator(".chart-legend .c-close .c-value")).to_have_text("11.00")


def test_live_ticks_move_the_newest_candle(board, new_page):
    """A tick opens this minute's candle; the next one moves its close and high."""
    page = new_page(board.url)
    open_aapl(page)
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    legend = page.locator(".chart-legend")
    expect(legend.locator(".c-close .c-value")).to_have_text("11.00")
    now = this_minute() + timedelta(seconds=1)
    publish_tick(13.0, now)
    expect(page.locator(CHART)).to_have_attribute("data-candles", "4")
    expect(legend.locator(".c-open .c-value")).to_have_text("13.00")
    publish_tick(12.5, now + timedelta(seconds=1))
    expect(legend.locator(".c-close .c-value")).to_have_text("12.50")
    expect(legend.locator(".c-high .c-value")).to_have_text("13.00")
    expect(page.locator(CHART)).to_have_attribute("data-candles", "4")
    expect(page.locator('#board-ws tr[data-symbol="AAPL"] .q-last')).to_have_text(
        "12.50"
    )


@pytest.mark.parametrize(
    ("language", "unknown"),
    [("en", "No symbol “ZZZZ” is known to the feed."), ("zh-hans", "ZZZZ")],
)
def test_search_adds_a_symbol_and_refuses_an_unknown_one(
    board, login_page, make_user, language, unknown
):
    """Remove a row, find it by name, add it back (saved for the user); an
    unknown symbol gets a clear message."""
    from realtime.models import Watchlist

    page = login_page(board, make_user("ann"), **(ZH if language != "en" else {}))
    page.goto("/quotes/")
    rows = page.locator("#board-ws tr[data-symbol]")
    expect(rows).to_have_count(7)
    with page.expect_response("**/quotes/api/watchlist/"):
        page.locator('#board-ws tr[data-symbol="AAPL"] .q-remove').click()
    expect(rows).to_have_count(6)
    search = page.locator("#quote-search-input")
    search.fill("apple")
    result = page.locator(".quote-search-results button")
    expect(result).to_have_text("AAPL Apple Inc.")
    with page.expect_response("**/quotes/api/watchlist/"):
        result.click()
    expect(page.locator('#board-ws tr[data-symbol="AAPL"]')).to_have_count(1)
    expect(page.locator(".quote-chart-title")).to_contain_text("AAPL")
    expect(page.locator(".quote-search-message")).to_contain_text("AAPL")
    assert "AAPL" in in_thread(
        lambda: list(Watchlist.objects.values_list("instrument__symbol", flat=True))
    )
    search.fill("zzzz")
    search.press("Enter")
    message = page.locator(".quote-search-message")
    expect(message).to_contain_text(unknown)
    if language != "en":
        expect(message).to_contain_text("行情源")
    expect(rows).to_have_count(7)
    search.fill("腾讯")
    expect(page.locator(".quote-search-results")).to_contain_text("0700.HK")


@pytest.mark.parametrize(
    ("language", "done", "refused"),
    [
        ("en", "Alert set: AAPL rises to or above 230.", "There is no instrument"),
        ("zh-hans", "AAPL", "行情"),
    ],
)
def test_alert_me_sets_a_price_alert_from_the_board(
    board, login_page, make_user, language, done, refused
):
    """The row's button fills the form with the symbol and price; the alert is
    kept; an unknown symbol is refused in the page's language."""
    from realtime.models import PriceAlert

    page = login_page(board, make_user("ann"), **(ZH if language != "en" else {}))
    page.goto("/quotes/")
    row = page.locator('#board-ws tr[data-symbol="AAPL"]')
    expect(row.locator(".q-last")).to_have_text("227.50")
    row.locator(".q-alert-me").click()
    expect(page.locator(".quote-chart-title")).to_contain_text("AAPL")
    expect(page.locator("#alert-symbol")).to_have_value("AAPL")
    level = page.locator("#alert-level")
    expect(level).to_be_focused()
    expect(level).to_have_value("227.50")  # the reference price, in cents
    level.fill("230")
    page.locator("#quote-alert button[type=submit]").click()
    status = page.locator(".quote-alert-status")
    expect(status).to_contain_text(done)
    alert = in_thread(lambda: PriceAlert.objects.get())
    assert (alert.symbol, alert.direction, alert.level_text) == ("AAPL", "above", "230")
    page.locator("#alert-symbol").fill("ZZZZ")
    page.locator("#quote-alert button[type=submit]").click()
    expect(status).to_contain_text(refused)
    expect(status).to_contain_text("ZZZZ")
    assert in_thread(lambda: PriceAlert.objects.count()) == 1


def test_a_visitor_is_sent_to_log_in_for_alerts(board, new_page):
    """Without an account, "Alert me" leads to the login link."""
    page = new_page(board.url)
    page.goto("/quotes/")
    page.locator('#board-ws tr[data-symbol="AAPL"] .q-alert-me').click()
    link = page.get_by_role("link", name="Log in to set price alerts.")
    expect(link).to_be_focused()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_board_passes_axe(board, login_page, make_user, language):
    """The board with chart, search and alert form: no axe violation, no console
    error, with the tooltip showing."""
    page = login_page(board, make_user("ann"), **(ZH if language != "en" else {}))
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    assert violations_on(page, "/quotes/", errors) == []
    open_aapl(page)
    hover_candle(page, board.first_minute)
    expect(page.locator(".chart-tooltip")).to_be_visible()
    page.locator("#quote-search-input").fill("a")
    page.add_script_tag(path=AXE)
    assert page.evaluate(RUN_AXE, TAGS) == [] and errors == []


def test_the_board_fits_a_phone(board, new_page):
    """At 390 px the page is no wider than the screen; the table scrolls inside."""
    page = new_page(board.url, viewport={"width": 390, "height": 844})
    open_aapl(page)
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    assert page.locator(".quote-candles").bounding_box()["width"] <= 390
