"""An admin's HTTP form post on one daphne reaches a socket on another daphne."""

import asyncio
import json
import re
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect

from tests.scores_factory import make_match

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def admin_form(html: str) -> dict:
    """Every field of the change form as the browser would post it."""
    form = {}
    for name, value in re.findall(
        r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html
    ):
        form[name] = value
    for name, body in re.findall(
        r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S
    ):
        selected = re.search(r'<option value="([^"]*)" selected', body)
        form[name] = selected.group(1) if selected else ""
    return form


def post_admin_form(server, match) -> None:
    """What a staff member's browser does: log in, open the form, save a goal."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(CookieJar())
    )

    def request(path, data=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        headers = {"Referer": server.url + path}
        req = urllib.request.Request(server.url + path, body, headers)
        with opener.open(req, timeout=10) as response:
            return response.geturl(), response.read().decode()

    _, login = request("/admin/login/")
    landed, _ = request(
        "/admin/login/?next=/admin/",
        {
            "username": "boss",
            "password": "pw-boss-123",
            "csrfmiddlewaretoken": csrf_token(login),
            "next": "/admin/",
        },
    )
    assert landed.endswith("/admin/")
    path = f"/admin/realtime/match/{match.pk}/change/"
    _, page = request(path)
    form = admin_form(page)
    form.update(
        {
            "home_score": "1",
            "minute": "11",
            "events-0-minute": "11",
            "events-0-kind": "goal",
            "events-0-team": str(match.home_id),
            "events-0-player": "李明",
        }
    )
    landed, _ = request(path, form)
    assert landed.endswith("/admin/realtime/match/"), "saved and redirected"


async def test_a_score_saved_in_admin_reaches_a_socket_on_another_process(
    daphne, make_user
):
    """Log in as staff on daphne A, post the match form; a socket on B sees the goal."""
    match = await sync_to_async(make_match)(status="live", minute=10)
    await sync_to_async(make_user)("boss", is_staff=True, is_superuser=True)
    a, b = daphne(), daphne()
    async with connect(b.ws_url + "/ws/scores/", origin=b.origin) as ws:
        await ws.send(json.dumps({"type": "scores.subscribe", "matches": [match.pk]}))
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert snapshot["matches"][0]["home"]["score"] == 0

        await asyncio.to_thread(post_admin_form, a, match)

        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        while frame["match"]["events"] == []:  # the match saves before its inline
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame["type"] == "scores.match"
        assert (frame["match"]["home"]["score"], frame["match"]["minute"]) == (1, 11)
        assert frame["match"]["events"][0]["player"] == "李明"
