"""Gomoku in real browsers: two players and a spectator, as visitors use it."""

import re

import pytest
from playwright.sync_api import expect

from tests.game_helpers import BLACK_WINS

pytestmark = pytest.mark.browser


@pytest.fixture
def sessions(make_user, session_for):
    """Ann's and Bob's session keys, made before Playwright's loop starts (the ORM
    refuses to run in a thread with a running event loop)."""
    return {name: session_for(make_user(name)) for name in ("ann", "bob")}


def logged_in(new_page, server, key):
    from django.conf import settings

    page = new_page(server.url)
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": key, "url": server.url}
    page.context.add_cookies([cookie])
    return page


def create_game(page, clock: str) -> str:
    """Create a game from the lobby with ``clock`` minutes; its board's URL."""
    page.goto("/game/")
    page.locator("#create-clock").select_option(clock)
    page.get_by_role("button", name="Create a game").click()
    expect(page).to_have_url(re.compile(r"/game/\d+/$"))
    return page.url


def cell(page, x, y):
    return page.locator(f'.gomoku .cell[data-x="{x}"][data-y="{y}"]')


def test_two_players_play_to_a_win_while_a_third_watches(daphne, sessions, new_page):
    """Ann creates, Bob joins from the lobby, they play five; all three see the line."""
    server = daphne()
    ann = logged_in(new_page, server, sessions["ann"])
    bob = logged_in(new_page, server, sessions["bob"])

    game_path = create_game(ann, clock="5").removeprefix(server.url)
    expect(ann.locator("#game-status")).to_have_text("Waiting for an opponent.")

    bob.goto("/game/")
    bob.locator("#open-games").get_by_role("link", name="join").click()
    expect(bob).to_have_url(server.url + game_path)
    bob.get_by_role("button", name="Take the seat").click()
    watcher = new_page(server.url)
    watcher.goto(game_path)
    expect(ann.locator("#game-status")).to_have_text("Your move.")
    expect(ann.locator("#clock-b")).to_have_text(re.compile(r"^[45]:\d\d$"))
    expect(ann.locator("#watchers")).to_have_text("1")

    for number, (x, y) in enumerate(BLACK_WINS):
        player = ann if number % 2 == 0 else bob
        color = "b" if number % 2 == 0 else "w"
        cell(player, x, y).click()
        for page in (ann, bob, watcher):
            expect(cell(page, x, y)).to_have_class(re.compile(rf"\b{color}\b"))

    for page in (ann, bob, watcher):
        expect(page.locator(".gomoku .cell.win")).to_have_count(5)
        for x in range(5):
            expect(cell(page, x, 0)).to_have_class(re.compile(r"\bwin\b"))
        expect(page.locator("#game-status")).to_have_text(
            "ann wins as Black (five in a row)"
        )
    expect(watcher.locator('.gomoku .cell[aria-disabled="false"]')).to_have_count(0)

    watcher.get_by_role("link", name="Replay").click()
    expect(watcher.locator("#replay-result")).to_have_text(
        "ann wins as Black (five in a row)"
    )
    expect(watcher.locator("#replay-step")).to_have_text(str(len(BLACK_WINS)))
    expect(watcher.locator(".gomoku .cell.win")).to_have_count(5)
    watcher.get_by_role("button", name="Back").click()
    expect(watcher.locator("#replay-step")).to_have_text(str(len(BLACK_WINS) - 1))
    expect(watcher.locator(".gomoku .cell.win")).to_have_count(0)
    expect(cell(watcher, 4, 0)).not_to_have_class(re.compile(r"\bb\b"))


def start_game(new_page, server, sessions):
    """Ann opens an untimed game, Bob takes the seat: both pages, Ann to move."""
    ann = logged_in(new_page, server, sessions["ann"])
    bob = logged_in(new_page, server, sessions["bob"])
    bob.goto(create_game(ann, clock="0"))
    bob.get_by_role("button", name="Take the seat").click()
    expect(ann.locator("#game-status")).to_have_text("Your move.")
    return ann, bob


def test_players_move_by_keyboard_and_the_replay_steps_with_arrow_keys(
    daphne, sessions, new_page
):
    """The board is one tab stop: arrows move over it, Enter plays. Both pages
    list the moves in renju notation; a late spectator reads the earlier chat;
    the replay answers the arrow keys."""
    server = daphne()
    ann, bob = start_game(new_page, server, sessions)
    ann.locator('.gomoku .cell[tabindex="0"]').focus()  # the centre, h8
    ann.keyboard.press("ArrowLeft")
    expect(ann.locator(".gomoku .cell:focus")).to_have_attribute(
        "aria-label", "g8: empty"
    )
    ann.keyboard.press("Enter")
    for page in (ann, bob):
        expect(page.locator("#move-list li")).to_have_text(["g8"])
    expect(bob.locator("#game-status")).to_have_text("Your move.")
    bob.locator('.gomoku .cell[tabindex="0"]').focus()
    bob.keyboard.press("ArrowUp")
    bob.keyboard.press("ArrowUp")
    bob.keyboard.press("Enter")
    for page in (ann, bob):
        expect(page.locator("#move-list li")).to_have_text(["g8", "h10"])
    expect(cell(ann, 7, 5)).to_have_attribute("aria-label", "h10: White")

    ann.locator("#chat-text").fill("good luck")
    ann.locator("#chat-text").press("Enter")
    expect(bob.locator("#chat-log li")).to_have_text(["ann (Black) good luck"])
    late = new_page(server.url)
    late.goto(ann.url)
    expect(late.locator("#chat-log li")).to_have_text(["ann (Black) good luck"])

    ann.on("dialog", lambda dialog: dialog.accept())
    ann.get_by_role("button", name="Resign").click()
    expect(ann.locator("#game-status")).to_have_text("bob wins as White (resignation)")
    ann.get_by_role("link", name="Replay").click()
    step = ann.locator("#replay-step")
    expect(step).to_have_text("2")
    ann.keyboard.press("ArrowLeft")
    expect(step).to_have_text("1")
    expect(ann.locator('#move-list [aria-current="step"]')).to_have_text("g8")
    expect(cell(ann, 7, 5)).to_have_attribute("aria-label", "h10: empty")
    ann.keyboard.press("Home")
    expect(step).to_have_text("0")
    ann.keyboard.press("End")
    expect(step).to_have_text("2")
    ann.locator("#move-list").get_by_role("button", name="g8").click()
    expect(step).to_have_text("1")
