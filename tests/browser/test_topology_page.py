"""A browser over https:// and wss:// through nginx, as in production."""

import pytest
from playwright.sync_api import expect

from tests.browser.threads import in_thread

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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "init_script", [None, "delete window.WebSocket;"], ids=["wss", "fallback"]
)
def test_chat_and_quotes_over_https_and_wss_through_nginx(
    topology, new_page, make_user, init_script
):
    """Two visitors chat over wss through nginx (on whichever daphne each lands),
    and the quotes board ticks from the feed process; in pages without
    WebSocket too, over the fallback's streams on HTTP/2."""
    from realtime.chat.models import Room
    from realtime.demo import seed_instruments

    in_thread(seed_instruments)
    in_thread(lambda: Room.objects.create(slug="lobby", name="Lobby · 大厅"))
    pages = []
    for name in ("ann", "bob"):
        make_user(name)
        page = new_page(topology.url, ignore_https_errors=True)
        if init_script:
            page.context.add_init_script(init_script)
        page.goto("/accounts/login/?next=/chat/lobby/")
        page.locator("#id_username").fill(name)
        page.locator("#id_password").fill(f"pw-{name}-123")
        page.locator("#id_password").press("Enter")
        expect(page).to_have_url(topology.url + "/chat/lobby/")
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert cookies["sessionid"]["secure"] and cookies["sessionid"]["httpOnly"]
        assert cookies["csrftoken"]["secure"]
        expect(page.locator("#connection-badge")).to_have_attribute(
            "data-state", "live"
        )
        if init_script:
            expect(page.locator("#connection-badge")).to_have_text("live (fallback)")
            navigation = "performance.getEntriesByType('navigation')[0]"
            assert page.evaluate(navigation + ".nextHopProtocol") == "h2"
        pages.append(page)
    pages[0].locator("#chat-text").fill("hello over wss 你好")
    pages[0].locator("#chat-text").press("Enter")
    expect(pages[1].get_by_text("hello over wss 你好")).to_be_visible()

    board = pages[1]
    board.goto("/quotes/")
    last = board.locator('#board-ws tr[data-symbol="AAPL"] .q-last')
    expect(last).not_to_have_text("-")
    first_price = last.text_content()
    expect(last).not_to_have_text(first_price, timeout=15_000)
