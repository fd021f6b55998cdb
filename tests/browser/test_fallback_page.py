"""Chat in Chromium pages that cannot use WebSocket: the fallback transport.

Resuming a room after a reconnect over the fallback is in test_chat_page.py,
beside the same test over WebSocket."""

import pytest
from playwright.sync_api import expect

from realtime.chat.models import Room

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_WEBSOCKET = "delete window.WebSocket;"
# What a network that blocks WebSocket looks like from a page: every socket
# fails before it opens, with an error and a 1006 close (as behind a proxy
# that answers the upgrade with 403, or drops it).
BLOCKED_WEBSOCKET = """
window.blockedAttempts = 0;
window.WebSocket = class extends EventTarget {
  static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3;
  constructor(url) {
    super();
    window.blockedAttempts += 1;
    this.url = url; this.readyState = 0; this.protocol = ""; this.bufferedAmount = 0;
    setTimeout(() => {
      this.readyState = 3;
      for (const event of [new Event("error"),
                           new CloseEvent("close", {code: 1006, wasClean: false})]) {
        const handler = this["on" + event.type];
        if (handler) handler.call(this, event);
        this.dispatchEvent(event);
      }
    }, 20);
  }
  send() { throw new DOMException("not open", "InvalidStateError"); }
  close() {}
};
"""


@pytest.fixture
def lobby(transactional_db):
    return Room.objects.create(slug="lobby", name="大厅 Lobby", topic="hi")


def send(page, text):
    page.locator("#chat-text").fill(text)
    page.locator("#chat-text").press("Enter")


def room_page(login_page, server, user, script=NO_WEBSOCKET):
    page = login_page(server, user)
    page.context.add_init_script(script)
    page.goto("/chat/lobby/")
    return page


def test_two_users_chat_in_pages_without_websocket(
    daphne, login_page, make_user, lobby
):
    """With ``WebSocket`` removed, ann and bob see each other and chat; the
    badge says the page is live over the fallback."""
    server = daphne()
    pa = room_page(login_page, server, make_user("ann"))
    pb = room_page(login_page, server, make_user("bob"))
    for page in (pa, pb):
        expect(page.locator("#connection-badge")).to_have_text("live (fallback)")
        expect(page.locator("#connection-badge")).to_have_attribute(
            "data-transport", "fallback"
        )
    assert pa.evaluate("typeof window.WebSocket") == "undefined"
    expect(pa.locator("#presence-list li")).to_have_text(["ann", "bob"])
    send(pa, "hello bob 你好")
    expect(pb.locator(".chat-msg .msg-body")).to_have_text(["hello bob 你好"])
    send(pb, "hi ann")
    for page in (pa, pb):
        expect(page.locator(".chat-msg .msg-body")).to_have_text(
            ["hello bob 你好", "hi ann"]
        )
        expect(page.locator(".chat-msg .msg-author")).to_have_text(["ann", "bob"])


def test_a_blocked_websocket_falls_back_by_itself(daphne, login_page, make_user, lobby):
    """A page whose WebSocket never opens tries BLOCKED_AFTER times, finds that
    HTTP gets through, and chats over the fallback; the tab remembers."""
    server = daphne()
    ann = make_user("ann")
    page = room_page(login_page, server, ann, BLOCKED_WEBSOCKET)
    expect(page.locator("#connection-badge")).to_have_text(
        "live (fallback)", timeout=20_000
    )
    blocked_after = page.evaluate(
        "import('/static/realtime/js/client.js').then((m) => m.BLOCKED_AFTER)"
    )
    assert page.evaluate("window.blockedAttempts") >= blocked_after
    send(page, "through the fallback")
    expect(page.locator(".chat-msg .msg-body")).to_have_text(["through the fallback"])
    page.reload()
    expect(page.locator("#connection-badge")).to_have_text("live (fallback)")
    # This load never tried WebSocket for the room: the tab already knew.
    assert page.evaluate("window.blockedAttempts") == 0
    # The history comes after the join's answer over the fallback's upstream
    # POST: on a loaded machine, later than the 5 s a locator waits by default.
    expect(page.locator(".chat-msg .msg-body")).to_have_text(
        ["through the fallback"], timeout=15_000
    )
