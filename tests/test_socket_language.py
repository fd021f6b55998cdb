"""Error details come in the language of the socket's page, codes never change."""

import pytest

from realtime.chat.models import Room
from realtime.core.envelope import CloseCode
from realtime.core.language import language_of
from tests.chat_helpers import RESETS, closed_with, send
from tests.frames import ANY, next_frame
from tests.game_helpers import new_game, seat

pytestmark = pytest.mark.django_db(transaction=True)

ZH_COOKIE = [(b"cookie", b"django_language=zh-hans")]
ZH_ACCEPT = [(b"accept-language", b"zh-CN,zh;q=0.9,en;q=0.5")]


async def _slow_mode_refusal(ws, user, headers=()):
    c, connected, _ = await ws("/ws/chat/lobby/", user=user, headers=headers)
    assert connected
    await c.send_json_to({"type": "chat.join"})
    await next_frame(c, "chat.joined")
    await next_frame(c, *RESETS)
    await send(c, "first")
    await send(c, "too soon")
    error = await next_frame(c, "error", skip=ANY)
    await c.disconnect()
    return error


async def test_chat_rate_limit_detail_follows_the_language_cookie(ws, lobby, ann, bob):
    """Slow mode: 慢速模式 under the zh-hans cookie, English without; same code."""
    await Room.objects.filter(pk=lobby.pk).aupdate(slow_mode_seconds=60)
    chinese = await _slow_mode_refusal(ws, ann, ZH_COOKIE)
    english = await _slow_mode_refusal(ws, bob)
    assert chinese["code"] == english["code"] == "rate_limited"
    assert chinese["detail"].startswith("慢速模式：")  # noqa: RUF001
    assert english["detail"].startswith("Slow mode: wait")


async def test_an_illegal_move_is_explained_in_the_players_language(ws, players):
    """An occupied cell: Chinese for a zh Accept-Language, English for the other."""
    ann, bob, _ = players
    game = await new_game(ann, bob)
    path = f"/ws/game/{game.pk}/"
    black, _ = await seat(ws, path, ann)
    c, connected, _ = await ws(path, user=bob, headers=ZH_ACCEPT)
    assert connected
    await next_frame(c, "game.snapshot")
    await black.send_json_to({"type": "game.move", "x": 7, "y": 7})
    await next_frame(c, "game.move")
    await c.send_json_to({"type": "game.move", "x": 7, "y": 7})
    refused = await next_frame(c, "error")
    assert (refused["code"], refused["reason"]) == ("conflict", "occupied")
    assert refused["detail"] == "(7, 7) 已经有棋子了。"
    await black.send_json_to({"type": "game.move", "x": 8, "y": 8})
    refused = await next_frame(black, "error", skip=ANY)
    assert (refused["reason"], refused["detail"]) == (
        "not_your_turn",
        "It is not your turn.",
    )
    await black.disconnect()
    await c.disconnect()


async def test_bad_frames_and_a_missing_game_speak_the_language_too(ws):
    """The engine's own errors and a game's 4004 reason are translated as well."""
    zh, connected, _ = await ws("/ws/quotes/", headers=ZH_COOKIE)
    assert connected
    await zh.send_to(text_data="{oops")
    error = await next_frame(zh, "error", skip=ANY)
    assert (error["code"], error["detail"]) == ("bad_json", "这一帧不是有效的 JSON。")
    await zh.disconnect()
    gone, connected, _ = await ws("/ws/game/999999/", headers=ZH_COOKIE)
    assert await closed_with(gone, CloseCode.NOT_FOUND) == "没有这局棋。"


@pytest.mark.parametrize(
    "headers, language",
    [
        ([], "en"),
        ([(b"accept-language", b"fr, de;q=0.8")], "en"),
        ([(b"accept-language", b"zh-Hans-CN")], "zh-hans"),
        ([(b"cookie", b"django_language=en"), *ZH_ACCEPT], "en"),
        ([(b"cookie", b"django_language=xx"), *ZH_ACCEPT], "zh-hans"),
    ],
)
def test_the_language_is_chosen_as_a_page_would_be(headers, language):
    """The language cookie first, then Accept-Language, among settings.LANGUAGES."""
    assert (
        language_of({"type": "websocket", "path": "/ws/", "headers": headers})
        == language
    )
