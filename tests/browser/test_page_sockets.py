"""A page opens at most two sockets: the site-wide one (announcements, the
bell, logout) and its feature's own."""

import subprocess
import sys

import pytest
from playwright.sync_api import expect

from realtime.chat.models import Room
from tests.servers import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_logged_in_chat_page_opens_two_sockets_and_the_bell_still_rings(
    daphne, login_page, make_user
):
    """The chat page of a logged-in user: /ws/site/ and the room, nothing else;
    a notification stored by another process reaches the bell over the site
    socket."""
    Room.objects.create(slug="lobby", name="Lobby")
    ann = make_user("ann")
    server = daphne()
    page = login_page(server, ann)
    opened = []
    page.on("websocket", lambda ws: opened.append(ws.url.split(str(server.port))[1]))
    page.goto("/chat/lobby/")
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    page.wait_for_timeout(500)
    assert sorted(opened) == ["/ws/chat/lobby/", "/ws/site/"]
    notify = (
        "from realtime.notifications.service import notify; "
        f"notify({ann.pk}, 'mention', 'hi')"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", notify],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
    )
    expect(page.locator("#notif-count")).to_have_text("1")
