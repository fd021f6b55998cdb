"""Live scores and the notification bell in a real browser."""

import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.scores_factory import make_match
from tests.servers import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


MENTION = """
import asyncio
from realtime.signals import message_posted
asyncio.run(message_posted.asend(
    sender=None, message_id=1, room_slug="lobby", room_public=True,
    author_id={author}, author_name="bob", text="@ann <b>look</b>", mentions=["ann"]))
"""


@pytest.fixture
def live_match(transactional_db):
    """Made before the browser starts: saving publishes, which needs no loop."""
    return make_match("Lions", "Harbour", status="live", minute=30)


def test_a_score_saved_in_admin_updates_an_open_scores_page(
    live_match, daphne, new_page, login_page, make_user
):
    """A visitor's /scores/ shows the new score, flashing, after an admin saves it."""
    match = live_match
    boss = make_user("boss", is_staff=True, is_superuser=True)
    server = daphne()
    visitor = new_page(server.url)
    visitor.goto("/scores/")
    row = visitor.locator(f'.match-row[data-match-id="{match.pk}"]')
    expect(row.locator(".home-score")).to_have_text("0")
    expect(visitor.locator("#connection-badge")).to_have_attribute("data-state", "live")

    admin = login_page(server, boss)
    admin.goto(f"/admin/realtime/match/{match.pk}/change/")
    admin.locator("#id_home_score").fill("2")
    admin.locator("#id_minute").fill("31")
    admin.locator("input[name=_save]").click()
    expect(admin.locator(".messagelist")).to_contain_text("was changed successfully")

    expect(row.locator(".home-score")).to_have_text("2")
    expect(row.locator(".match-minute")).to_have_text("31'")
    expect(row.locator(".score")).to_have_class("score flash")


def test_a_mention_raises_the_bell_count_in_the_open_page(
    daphne, login_page, make_user
):
    """A mention sent from another process: count, toast, dropdown, mark all read."""
    ann, bob = make_user("ann"), make_user("bob")
    server = daphne()
    page = login_page(server, ann)
    page.goto("/scores/")
    count = page.locator("#notif-count")
    expect(page.locator("#notif-button")).to_be_visible()
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    expect(count).to_be_hidden()

    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", MENTION.format(author=bob.pk)],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
    )
    expect(count).to_have_text("1")
    expect(page.locator(".notif-toast")).to_have_text("bob mentioned you in #lobby")

    page.locator("#notif-button").click()
    item = page.locator("#notif-recent .notif-item")
    expect(item).to_have_count(1)
    expect(item.locator(".notif-body")).to_have_text("@ann <b>look</b>")  # as text
    page.locator("#notif-read-all").click()
    expect(count).to_be_hidden()
    expect(count).to_have_attribute("data-count", "0")


NEW_MATCH = """
from tests.scores_factory import make_match
make_match("Falcons", "Rovers", status="live", minute=12)
"""
ROW_HTML = "row => row.outerHTML"


def test_a_match_added_live_gets_the_row_the_server_renders(
    live_match, daphne, new_page
):
    """A match that starts while /scores/ is open gets a row identical to the one
    the server renders for it on a fresh page: same markup, same text."""
    server = daphne()
    page = new_page(server.url)
    page.goto("/scores/")
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "live")
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", NEW_MATCH],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
    )
    added = page.locator(f'.match-row:not([data-match-id="{live_match.pk}"])')
    expect(added.locator(".team.home")).to_have_text("Falcons")
    match_id = added.get_attribute("data-match-id")
    fresh = new_page(server.url)
    fresh.goto("/scores/")
    served = fresh.locator(f'.match-row[data-match-id="{match_id}"]')
    assert added.evaluate(ROW_HTML) == served.evaluate(ROW_HTML)
