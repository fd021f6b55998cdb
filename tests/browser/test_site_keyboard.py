"""The site by keyboard: a skip link first, a focus ring on whatever has focus,
and a bell whose aria-expanded says whether its list is open."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ZH = {"extra_http_headers": {"Accept-Language": "zh-hans"}}
OUTLINE = "(el) => ((s) => `${s.outlineStyle} ${s.outlineWidth}`)(getComputedStyle(el))"


@pytest.mark.parametrize(
    ("options", "skip"), [({}, "Skip to content"), (ZH, "跳到正文")]
)
def test_the_first_tab_offers_a_skip_link_to_the_page(daphne, new_page, options, skip):
    """Tab shows the skip link with a ring; Enter moves focus into the page."""
    page = new_page(daphne().url, **options)
    page.goto("/echo/")
    link = page.get_by_role("link", name=skip)
    expect(link).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    expect(link).to_be_in_viewport()
    assert link.evaluate(OUTLINE) == "solid 3px"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # the page's first control, not the header's links
    assert page.evaluate("document.activeElement.closest('main') !== null")
    assert page.evaluate(f"({OUTLINE})(document.activeElement)") == "solid 3px"


def test_the_bells_aria_expanded_follows_its_list(daphne, make_user, login_page):
    """Open by click, closed by Escape (focus back on the bell) or a click elsewhere."""
    page = login_page(daphne(), make_user("ann"))
    page.goto("/")
    bell, dropdown = page.locator("#notif-button"), page.locator("#notif-dropdown")
    expect(bell).to_have_attribute("aria-expanded", "false")
    bell.click()
    expect(dropdown).to_be_visible()
    expect(bell).to_have_attribute("aria-expanded", "true")
    page.locator("#notif-read-all").focus()
    page.keyboard.press("Escape")
    expect(dropdown).to_be_hidden()
    expect(bell).to_have_attribute("aria-expanded", "false")
    expect(bell).to_be_focused()
    page.keyboard.press("Enter")
    expect(bell).to_have_attribute("aria-expanded", "true")
    page.locator("main").click()
    expect(dropdown).to_be_hidden()
    expect(bell).to_have_attribute("aria-expanded", "false")
