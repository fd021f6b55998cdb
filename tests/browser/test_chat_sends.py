"""What happens to a message once Send is pressed, in Chromium: a refused one
goes back into the box, and one caught in a dying connection is sent again."""

import pytest
from playwright.sync_api import expect

from realtime.chat.models import Message, Mute, Room
from tests.browser.test_chat_page import send
from tests.browser.threads import in_thread
from tests.integration.cut_proxy import CutProxy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEND_EIGHT = """() => {
  const input = document.querySelector("#chat-text");
  const form = document.querySelector("#chat-form");
  for (let n = 1; n <= 8; n++) {
    input.value = "m" + n;
    form.requestSubmit();
  }
}"""


@pytest.fixture
def lobby(transactional_db):
    return Room.objects.create(slug="lobby", name="Lobby")


def shown(page):
    return page.locator(".chat-msg .msg-body")


def test_messages_over_the_rate_limit_go_back_into_the_box(
    daphne, login_page, make_user, lobby
):
    """Eight messages sent at once, five allowed: the five appear and the text
    of the other three is back in the box, in the order it was written."""
    server = daphne(DUPLEX_CHAT_RATE="0.01")  # a burst of 5, then no more
    page = login_page(server, make_user("ann"))
    page.goto("/chat/lobby/")
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    page.evaluate(SEND_EIGHT)
    expect(shown(page)).to_have_text(["m1", "m2", "m3", "m4", "m5"])
    expect(page.locator("#chat-text")).to_have_value("m6 m7 m8")
    expect(page.locator("#chat-error")).to_be_visible()
    assert Message.objects.count() == 5


def test_a_muted_users_message_stays_in_the_box(daphne, login_page, make_user, lobby):
    """Muted meanwhile: the message is refused, and its text is not lost."""
    server = daphne()
    ann = make_user("ann")
    page = login_page(server, ann)
    page.goto("/chat/lobby/")
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    in_thread(lambda: Mute.objects.create(room=lobby, user=ann, reason="cool off"))
    send(page, "may I speak? 我可以说吗")
    expect(page.locator("#chat-error")).to_contain_text("muted")
    expect(page.locator("#chat-text")).to_have_value("may I speak? 我可以说吗")
    assert Message.objects.count() == 0


def test_a_message_caught_in_a_dying_connection_arrives_once(
    daphne, login_page, make_user, lobby
):
    """The connection dies as a message leaves: once before it reached the
    server, once after (its acknowledgement lost). The page reconnects by
    itself and each message is in the room exactly once."""
    proxy = CutProxy(daphne().port).start()
    try:
        page = login_page(proxy, make_user("ann"))
        page.goto("/chat/lobby/")
        badge = page.locator("#connection-badge")
        expect(badge).to_have_attribute("data-state", "live")
        for text, reaches_server in (("lost on the way", False), ("ack lost", True)):
            proxy.cut_after(lambda p: b'"chat.send"' in p, forward=reaches_server)
            send(page, text)
            assert proxy.cut.wait(10)
            expect(shown(page).last).to_have_text(text, timeout=15_000)
        expect(shown(page)).to_have_text(["lost on the way", "ack lost"])
        expect(page.locator("#chat-text")).to_have_value("")
        texts = list(Message.objects.order_by("seq").values_list("text", flat=True))
        assert texts == ["lost on the way", "ack lost"]
    finally:
        proxy.stop()
