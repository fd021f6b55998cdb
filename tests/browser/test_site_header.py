"""The header on a phone and on a wide screen, and a notification as a Chinese
reader sees it."""

import pytest
from playwright.sync_api import expect

from project.config import redis_channel_layer
from realtime.notifications.service import notify
from tests.browser.test_accessibility import AXE, RUN_AXE, TAGS
from tests.browser.threads import in_thread
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}}
WIDE = {"viewport": {"width": 1280, "height": 800}}
ZH = {"extra_http_headers": {"Accept-Language": "zh-hans"}}
IN_MENU = "document.activeElement.closest('#site-nav, #header-account') !== null"


def height(page, selector=".site-header") -> float:
    return page.locator(selector).bounding_box()["height"]


def test_the_phone_header_is_one_row_and_its_menu_works_by_keyboard(
    daphne, login_page, make_user
):
    """At 390 px: brand, menu button, badge and bell in one short row; Enter
    opens the menu (aria-expanded), Tab walks into it, Escape closes it and
    gives the focus back to the button; a click outside closes it too."""
    server = daphne()
    page = login_page(server, make_user("ann"), **PHONE)
    page.goto("/scores/")
    button = page.get_by_role("button", name="Menu")
    nav = page.locator("#site-nav")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    expect(page.locator("#notif-button")).to_be_visible()
    assert height(page) < 60  # it took about 170 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Chat rooms")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate(IN_MENU)
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    button.click()
    expect(nav).to_be_visible()
    page.locator("h1").click()
    expect(nav).to_be_hidden()
    button.click()
    nav.get_by_role("link", name="Chat rooms").click()
    expect(page).to_have_url(f"{server.url}/chat/")
    expect(page.get_by_role("button", name="Menu")).to_have_attribute(
        "aria-expanded", "false"
    )


def test_the_wide_header_stays_one_row_without_a_menu_button(daphne, new_page):
    """At 1280 px every feature link and the account links are in the row."""
    page = new_page(daphne().url, **WIDE)
    page.goto("/")
    expect(page.locator("#menu-button")).to_be_hidden()
    brand = page.locator(".brand").bounding_box()
    for link in page.locator("#site-nav a, #header-account a").all():
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["y"] < brand["y"] + brand["height"]  # the same row
    assert height(page) < 60


def test_the_phone_menu_in_chinese(daphne, new_page):
    """The button says 菜单 and opens the links, in Chinese."""
    page = new_page(daphne().url, **PHONE, **ZH)
    page.goto("/")
    page.get_by_role("button", name="菜单").click()
    expect(page.get_by_role("link", name="登录")).to_be_visible()


def test_a_notification_reaches_a_chinese_page_in_chinese(
    daphne, login_page, make_user, settings, redis_prefix
):
    """Written by the (English) server, a followed user's message arrives in the
    bell and the toast in Chinese, and /notifications/ says it in Chinese with a
    Chinese date."""
    ann = make_user("ann")
    settings.CHANNEL_LAYERS = {  # this process publishes to the daphne's Redis
        "default": redis_channel_layer([REDIS_URL], redis_prefix)
    }
    page = login_page(daphne(), ann, **ZH)
    page.goto("/")
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    params = {"author": "bob", "room": "lobby", "text": "hi 你好"}
    in_thread(lambda: notify(ann.pk, "user", url="/chat/lobby/", params=params))
    expect(page.locator(".notif-toast")).to_have_text("bob 在 #lobby 发了消息")
    page.locator("#notif-button").click()
    item = page.locator("#notif-recent .notif-item").first
    expect(item.locator(".notif-title")).to_have_text("bob 在 #lobby 发了消息")
    expect(item.locator(".notif-time")).to_contain_text("年")
    page.goto("/notifications/")
    row = page.locator("#notification-list .notification").first
    expect(row).to_contain_text("bob 在 #lobby 发了消息")
    expect(row.locator("time")).to_contain_text("年")


def test_the_open_phone_menu_passes_axe(daphne, login_page, make_user):
    """axe finds nothing with the menu open either, logged in, in Chinese."""
    page = login_page(daphne(), make_user("ann"), **PHONE, **ZH)
    page.goto("/scores/")
    page.get_by_role("button", name="菜单").click()
    expect(page.locator("#site-nav")).to_be_visible()
    page.add_script_tag(path=AXE)
    assert page.evaluate(RUN_AXE, TAGS) == []
