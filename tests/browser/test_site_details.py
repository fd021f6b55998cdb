"""Small things a visitor notices: the tab's icon, the bell drawn without an
emoji font, "Log out" looking like "Log in", and a closed room said once."""

import pytest
from playwright.sync_api import expect

from project.config import redis_channel_layer
from realtime.chat import service as chat_service
from realtime.models import Room
from tests.browser.threads import in_thread
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZH = {"extra_http_headers": {"Accept-Language": "zh-hans"}}
LOOK = """(el) => ((s) => [s.color, s.textDecorationLine, s.fontSize, s.fontWeight,
  s.cursor].join(' '))(getComputedStyle(el))"""


def test_every_page_has_a_favicon_and_asks_for_nothing_missing(daphne, new_page):
    """The SVG icon is linked and served; no request of the page is a 404."""
    server = daphne()
    page = new_page(server.url)
    missing = []
    page.on("response", lambda r: r.status == 404 and missing.append(r.url))
    page.goto("/")
    href = page.locator('link[rel="icon"]').get_attribute("href")
    assert href.endswith(".svg")
    icon = page.request.get(href)
    assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text().startswith("<svg")
    page.reload()
    page.wait_for_load_state("networkidle")
    assert missing == []


def test_the_bell_is_an_svg_icon_with_a_name(daphne, make_user, login_page):
    """No emoji in the bell: a drawn icon, hidden from screen readers, and a name."""
    page = login_page(daphne(), make_user("ann"), **ZH)
    page.goto("/")
    bell = page.get_by_role("button", name="通知")
    expect(bell).to_be_visible()
    icon = bell.locator("svg")
    expect(icon).to_have_attribute("aria-hidden", "true")
    box = icon.bounding_box()
    assert box["width"] >= 16 and box["height"] >= 16
    assert "\U0001f514" not in bell.inner_text()


def test_log_out_looks_like_log_in(daphne, make_user, login_page, new_page):
    """The same colour, underline, size and pointer, though one is a form button."""
    server = daphne()
    visitor = new_page(server.url)
    visitor.goto("/")
    log_in = visitor.get_by_role("link", name="Log in").evaluate(LOOK)
    member = login_page(server, make_user("ann"))
    member.goto("/")
    assert member.get_by_role("button", name="Log out").evaluate(LOOK) == log_in


@pytest.mark.parametrize(
    ("options", "said"), [({}, "This room was closed."), (ZH, "此聊天室已关闭。")]
)
def test_a_room_closed_without_a_reason_says_so_once(
    daphne, make_user, login_page, lobby, options, said
):
    """Opening a room closed with no reason written: one sentence, no 'Reason:'."""
    Room.objects.filter(pk=lobby.pk).update(closed=True, closed_reason="")
    page = login_page(daphne(), make_user("ann"), **options)
    page.goto("/chat/lobby/")
    expect(page.locator("#chat-refused")).to_have_text(said)


def test_a_room_closed_while_open_says_so_once(
    daphne, make_user, login_page, lobby, settings, redis_prefix
):
    """The admin closes the room under a reader: the page says it once; a reason
    the admin did write is still shown."""
    settings.CHANNEL_LAYERS = {
        "default": redis_channel_layer([REDIS_URL], redis_prefix)
    }
    page = login_page(daphne(), make_user("ann"))
    page.goto("/chat/lobby/")
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    in_thread(lambda: chat_service.close_room(Room.objects.get(pk=lobby.pk)))
    expect(page.locator("#chat-refused")).to_have_text("This room was closed.")
    Room.objects.filter(pk=lobby.pk).update(closed_reason="Moved to #news.")
    page.reload()
    expect(page.locator("#chat-refused")).to_have_text(
        "This room was closed. Reason: Moved to #news."
    )
