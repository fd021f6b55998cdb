"""A browser over https:// and wss:// through nginx, as in production."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_echo_over_https_and_wss_through_nginx(topology, new_page):
    """The page loads over TLS, its sockets use wss:, the echo and the badge work."""
    page = new_page(topology.url, ignore_https_errors=True)
    page.goto("/echo/")
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator("#ws-url")).to_have_text(topology.ws_url + "/ws/echo/")
    page.locator("#echo-text").fill("secure 你好")
    page.get_by_role("button", name="Send text").click()
    expect(page.locator("#echo-log .log-message").first).to_contain_text("secure 你好")
    expect(page.locator("#accept-match")).to_have_text("yes, identical")
