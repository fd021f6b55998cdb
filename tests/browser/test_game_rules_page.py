"""Gomoku's rules as players see them: draw offers, swap2, quick pairing, ratings."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_game_page import cell, logged_in, sessions, start_game

pytestmark = pytest.mark.browser
ZH = {"extra_http_headers": {"Accept-Language": "zh-hans"}}
__all__ = ["sessions"]  # the fixture, shared with the game page's tests


def test_a_draw_offer_is_declined_then_accepted_and_the_ratings_shown(
    daphne, sessions, new_page
):
    """Ann offers, Bob declines; after a move Ann offers again and Bob accepts."""
    server = daphne()
    ann, bob = start_game(new_page, server, sessions)
    ann.get_by_role("button", name="Offer a draw").click()
    expect(ann.locator("#draw-status")).to_have_text(
        "You offered a draw. A move withdraws it."
    )
    expect(bob.locator("#draw-status")).to_have_text("ann offers a draw.")
    bob.get_by_role("button", name="Decline the draw").click()
    expect(ann.locator("#draw-status")).to_be_hidden()
    expect(ann.get_by_role("button", name="Offer a draw")).to_be_hidden()  # play first

    cell(ann, 7, 7).click()
    expect(bob.locator("#game-status")).to_have_text("Your move.")
    ann.get_by_role("button", name="Offer a draw").click()
    bob.get_by_role("button", name="Accept the draw").click()
    for page in (ann, bob):
        expect(page.locator("#game-status")).to_have_text("Draw (draw agreed)")
        expect(page.locator("#game-ratings")).to_have_text(
            "ann 1500 → 1500 (+0) · bob 1500 → 1500 (+0)"
        )
    ann.goto("/game/leaderboard/")
    expect(ann.locator("#leaderboard tbody tr")).to_have_count(2)


def test_swap2_phases_are_explained_and_enforced_on_the_board(
    daphne, sessions, new_page
):
    """Ann places three stones; Bob is offered the three choices and takes black."""
    server = daphne()
    ann = logged_in(new_page, server, sessions["ann"])
    bob = logged_in(new_page, server, sessions["bob"])
    ann.goto("/game/")
    ann.locator("#create-opening").select_option("swap2")
    ann.get_by_role("button", name="Create a game").click()
    expect(ann).to_have_url(re.compile(r"/game/\d+/$"))
    bob.goto(ann.url)
    bob.get_by_role("button", name="Take the seat").click()
    expect(ann.locator("#swap2-rules")).to_contain_text("The first player places")
    expect(bob.locator("#game-status")).to_have_text(
        "Swap2: ann places three stones (black, white, black): stone 1 of 3."
    )
    expect(bob.locator('.gomoku .cell[aria-disabled="false"]')).to_have_count(0)
    for number, x in enumerate((6, 7, 8), start=1):
        cell(ann, x, 7).click()
        expect(bob.locator("#move-list li")).to_have_count(number)
    expect(cell(bob, 7, 7)).to_have_class(re.compile(r"\bw\b"))
    expect(ann.locator("#game-status")).to_have_text(
        "Swap2: bob chooses: play white, take black, or place two more stones."
    )
    for label in ("Play white", "Play black", "Place two more stones"):
        expect(bob.get_by_role("button", name=label)).to_be_visible()
        expect(ann.get_by_role("button", name=label)).to_be_hidden()
    bob.get_by_role("button", name="Play black").click()
    expect(ann.locator("#game-status")).to_have_text("Your move.")
    expect(ann.locator("#seat-w .name")).to_have_text("ann")
    expect(bob.locator("#seat-b .name")).to_have_text("bob")
    expect(bob.get_by_role("button", name="Play black")).to_be_hidden()


def test_two_seeks_pair_both_players_into_one_game_in_chinese(
    daphne, sessions, new_page
):
    """In Chinese: Ann seeks and waits; Bob seeks the same; both land on one game,
    where Ann's draw offer is accepted; both are then on the leaderboard."""
    from django.conf import settings

    server = daphne()
    pages = []
    for name in ("ann", "bob"):
        page = new_page(server.url, **ZH)
        cookie = {
            "name": settings.SESSION_COOKIE_NAME,
            "value": sessions[name],
            "url": server.url,
        }
        page.context.add_cookies([cookie])
        page.goto("/game/")
        pages.append(page)
    ann, bob = pages
    expect(ann.locator("#seek-status")).to_have_text("未在寻找对局。")
    ann.get_by_role("button", name="寻找对局").click()
    expect(ann.locator("#seek-status")).to_have_text(
        "正在寻找 5+3 对局……配对成功后将自动进入。"
    )
    expect(bob.locator("#seek-pool li")).to_have_text(["1 位玩家在寻找 5+3 对局"])
    bob.get_by_role("button", name="寻找对局").click()
    expect(ann).to_have_url(re.compile(r"/game/\d+/$"))
    expect(bob).to_have_url(ann.url)
    expect(ann.locator("#game-rules")).to_have_text("5+3 · 无禁手 · 计分")
    expect(ann.locator("#seat-b .name")).not_to_have_text("…")
    expect(ann.locator("#seat-w .name")).not_to_have_text("…")

    ann.get_by_role("button", name="提议和棋").click()
    expect(ann.locator("#draw-status")).to_have_text("你已提议和棋。落子即撤回提议。")
    expect(bob.locator("#draw-status")).to_have_text("ann 提议和棋。")
    bob.get_by_role("button", name="接受和棋").click()
    for page in (ann, bob):
        expect(page.locator("#game-status")).to_have_text("和棋 (协议和棋)")
    ann.goto("/game/leaderboard/")
    expect(ann.locator("h1")).to_have_text("五子棋排行榜")
    expect(ann.locator("#leaderboard thead")).to_contain_text("等级分")
    expect(ann.locator("#leaderboard tbody tr")).to_have_count(2)


def test_a_refused_move_is_explained_in_chinese(daphne, sessions, new_page):
    """Ann plays from one tab; her second tab, which lost the move on the way,
    still offers the board: its move is refused, in the page's language."""
    server = daphne()
    ann, bob = start_game(new_page, server, sessions)
    behind = logged_in(new_page, server, sessions["ann"])
    behind.context.add_cookies(
        [{"name": "django_language", "value": "zh-hans", "url": server.url}]
    )

    def lose_moves(ws):
        upstream = ws.connect_to_server()
        upstream.on_message(lambda m: None if '"game.move"' in str(m) else ws.send(m))

    behind.route_web_socket(re.compile(r"/ws/game/\d+/$"), lose_moves)
    behind.goto(ann.url)
    expect(behind.locator("#game-status")).to_have_text("轮到你落子。")
    cell(ann, 7, 7).click()
    expect(bob.locator("#game-status")).to_have_text("Your move.")
    cell(behind, 8, 8).click()
    expect(behind.locator("#game-error")).to_have_text(
        "棋局已有变化，请重新看一下棋盘。"  # noqa: RUF001
    )
    expect(cell(ann, 8, 8)).not_to_have_class(re.compile(r"\b[bw]\b"))
