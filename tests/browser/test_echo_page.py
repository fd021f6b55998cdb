"""The echo playground in a real browser, as a visitor uses it."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

RECORD_READY_STATES = """
window.readyStates = [];
new MutationObserver(() => {
  const value = document.getElementById("ws-ready-state").textContent;
  if (window.readyStates.at(-1) !== value) window.readyStates.push(value);
}).observe(document.getElementById("ws-ready-state"),
           {childList: true, characterData: true, subtree: true});
"""


def test_echo_playground_round_trip_handshake_and_reconnect(daphne, new_page):
    """Connect, echo text and binary, check the accept key, survive a server restart."""
    server = daphne()
    page = new_page(server.url)
    page.goto("/echo/")
    page.evaluate(RECORD_READY_STATES)
    log = page.locator("#echo-log")

    page.get_by_role("button", name="Connect", exact=True).click()
    expect(log.locator(".log-open")).to_have_count(1)
    expect(page.locator("#ws-ready-state")).to_have_text("1 OPEN")
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")

    page.locator("#echo-text").fill("hello 你好 <b>not bold</b>")
    page.get_by_role("button", name="Send text").click()
    expect(log.locator(".log-message").last).to_contain_text(
        "hello 你好 <b>not bold</b>"
    )
    expect(log.locator("b")).to_have_count(0)  # the echoed markup is text, not HTML

    page.locator("#echo-binary-type").select_option("arraybuffer")
    page.get_by_role("button", name="Send as ArrayBuffer").click()
    expect(log.locator(".log-message").last).to_contain_text(
        "ArrayBuffer (28 bytes): 68 65 6c 6c 6f"
    )
    page.locator("#echo-binary-type").select_option("blob")
    page.get_by_role("button", name="Send as Blob").click()
    expect(log.locator(".log-message").last).to_contain_text(
        "Blob (28 bytes): 68 65 6c 6c 6f"
    )

    expect(page.locator("#accept-match")).to_have_text("yes, identical")
    server_accept = page.locator("#accept-server").text_content()
    assert (
        server_accept
        and server_accept == page.locator("#accept-browser").text_content()
    )

    server.stop()
    expect(page.locator("#connection-badge")).to_have_attribute(
        "data-state", "reconnecting"
    )
    expect(page.locator("#connection-badge")).to_have_text("reconnecting")
    server.start()
    expect(log.locator(".log-open")).to_have_count(2, timeout=15_000)
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    page.locator("#echo-text").fill("back again")
    page.get_by_role("button", name="Send text").click()
    expect(log.locator(".log-message").last).to_contain_text("back again")

    page.get_by_role("button", name="Disconnect").click()
    expect(page.locator("#ws-ready-state")).to_have_text("3 CLOSED")
    states = page.evaluate("window.readyStates")
    sequence = [s for s in states if s in ("0 CONNECTING", "1 OPEN", "3 CLOSED")]
    assert sequence[:2] == ["0 CONNECTING", "1 OPEN"] and sequence[-1] == "3 CLOSED"


def test_home_page_links_the_features_and_switches_to_chinese(daphne, new_page):
    """The home page lists the features; the language switcher turns it Chinese."""
    server = daphne()
    page = new_page(server.url)
    page.goto("/")
    expect(page.get_by_role("link", name="Echo playground").first).to_be_visible()
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    page.locator("#language-select").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("link", name="回声测试").first).to_be_visible()
    expect(page.locator("#connection-badge")).to_have_text("在线")


def test_a_browser_without_websocket_gets_a_clear_message(daphne, new_page):
    """Without WebSocket the playground explains itself instead of breaking."""
    server = daphne()
    page = new_page(server.url)
    page.add_init_script("delete window.WebSocket;")
    page.goto("/echo/")
    expect(page.locator("#no-websocket")).to_be_visible()
    expect(page.locator("#echo-app")).to_be_hidden()
