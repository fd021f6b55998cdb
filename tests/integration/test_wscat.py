"""Clients nobody here wrote chat with a token: npm's wscat and Python's websockets.

wscat is installed with npm into tests/node_modules (git-ignored) the first
time; the test is skipped only when Node.js is missing.
"""

import asyncio
import shutil
import subprocess

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from realtime.chat.models import Message, Room
from realtime.tokens import service
from tests.servers import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WSCAT_VERSION = "6.1.0"
NODE_DIR = ROOT / "tests"
WSCAT = NODE_DIR / "node_modules" / ".bin" / "wscat"


@pytest.fixture(scope="session")
def wscat() -> str:
    """The path of npm's wscat, installed on first use."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js (node and npm) is not installed: no wscat to run")
    if not WSCAT.exists():
        subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--no-package-lock",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(NODE_DIR),
                f"wscat@{WSCAT_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return str(WSCAT)


async def read_until(stream, text: str) -> list[str]:
    """Lines from ``stream`` up to the one that contains ``text``."""
    lines = []
    while True:
        line = (await asyncio.wait_for(stream.readline(), 10)).decode()
        if not line:
            raise AssertionError(f"wscat ended before {text!r}: {lines}")
        lines.append(line.rstrip("\n"))
        if text in line:
            return lines


async def test_wscat_chats_in_a_room_with_a_token(daphne, make_user, wscat):
    """wscat, with ann's token and the chat subprotocol, sends a line; it is stored
    as ann's and a websockets reader with bob's token sees it."""
    server = daphne()
    ann = await sync_to_async(make_user)("ann")
    bob = await sync_to_async(make_user)("bob")
    await Room.objects.acreate(slug="lobby", name="大厅 Lobby")
    _, ann_token = await sync_to_async(service.create_token)(user=ann, name="wscat")
    _, bob_token = await sync_to_async(service.create_token)(user=bob, name="reader")
    url = server.ws_url + "/ws/chat/lobby/"
    async with connect(
        url,
        subprotocols=["chat"],
        additional_headers={"Authorization": f"Bearer {bob_token}"},
    ) as reader:
        tool = await asyncio.create_subprocess_exec(
            wscat,
            *("--no-color", "-c", url, "-s", "chat"),
            *("-H", f"Authorization: Bearer {ann_token}"),
            *("-x", "hello from wscat 你好", "-w", "-1"),
            stdin=asyncio.subprocess.PIPE,  # wscat quits when its input ends
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            assert await asyncio.wait_for(reader.recv(), 10) == (
                "ann: hello from wscat 你好"
            )
            await read_until(tool.stdout, "ann: hello from wscat 你好")
        finally:
            tool.stdin.close()
            tool.terminate()
            await tool.wait()
    stored = await Message.objects.select_related("author").aget(room__slug="lobby")
    assert (stored.author.username, stored.text) == ("ann", "hello from wscat 你好")


async def test_wrong_token_is_closed_4001_through_daphne(daphne):
    """Through a real daphne the refusal arrives as close 4001 "invalid token"."""
    server = daphne()
    async with connect(
        server.ws_url + "/ws/chat/lobby/",
        subprotocols=["chat"],
        additional_headers={"Authorization": "Bearer dpx_" + "x" * 43},
    ) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert (ws.close_code, ws.close_reason) == (4001, "invalid token")
    assert "dpx_xxxx" not in server.log()
    assert "unknown token" in server.log()


async def test_a_copied_cookie_is_refused_without_an_origin(
    daphne, make_user, session_for
):
    """A script that copied a logged-in session cookie but sends no Origin gets
    HTTP 403: only a token signs in a client that is not the site's page."""
    server = daphne()
    ann = await sync_to_async(make_user)("ann")
    key = await sync_to_async(session_for)(ann)
    cookie = f"{settings.SESSION_COOKIE_NAME}={key}"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            server.ws_url + "/ws/notifications/", additional_headers={"Cookie": cookie}
        ):
            pass
    assert refused.value.response.status_code == 403
