"""client.js fills a hole in a reliable stream: the page never skips a message."""

import pytest
from playwright.sync_api import expect

from realtime.chat.models import Room

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The page's first socket never sees frames carrying this text, as if the
# server had skipped them; the socket after it works normally.
LOSE_ON_FIRST_SOCKET = """(marker) => {
  const ws = window.chatSocket.ws;
  const deliver = ws.onmessage;
  ws.onmessage = (event) => { if (!event.data.includes(marker)) deliver(event); };
  window.resyncs = 0;
  window.chatSocket.on("socket:resync", () => { window.resyncs += 1; });
}"""


def send(page, text):
    page.locator("#chat-text").fill(text)
    page.locator("#chat-text").press("Enter")


def test_a_message_missing_from_the_stream_is_fetched_before_the_next(
    daphne, login_page, make_user
):
    """The page gets message 2 but never 1: it resumes after the last one it
    saw, and shows both, in order, once each."""
    Room.objects.create(slug="lobby", name="Lobby")
    server = daphne()
    writer = login_page(server, make_user("ann"))
    writer.goto("/chat/lobby/")
    page = login_page(server, make_user("bob"))
    page.goto("/chat/lobby/")
    send(writer, "before")
    bodies = page.locator(".chat-msg .msg-body")
    expect(bodies).to_have_text(["before"])
    page.evaluate(LOSE_ON_FIRST_SOCKET, "lost in transit")
    send(writer, "lost in transit")
    expect(writer.locator(".chat-msg .msg-body")).to_have_count(2)
    send(writer, "after the hole")
    expect(bodies).to_have_text(["before", "lost in transit", "after the hole"])
    assert page.evaluate("window.resyncs") == 1
