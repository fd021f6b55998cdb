"""The plain-text chat socket through a PostgreSQL outage, on a real daphne."""

import asyncio
import subprocess
import sys

import pytest
from websockets.asyncio.client import connect

from tests.integration import test_outages
from tests.integration.http_session import Browser
from tests.servers import ROOT, DaphneProcess, server_env

pytestmark = [pytest.mark.integration]
private_postgres = test_outages.private_postgres
SETUP = """
from django.contrib.auth import get_user_model
from realtime.chat.models import Room
get_user_model().objects.create_user("ann", password="pw-ann-123")
Room.objects.create(slug="lobby", name="Lobby")
"""


def manage(env, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


async def line(ws) -> str:
    return await asyncio.wait_for(ws.recv(), 5)


async def plain_text_through_an_outage(server, postgres, cookie) -> None:
    async with connect(
        server.ws_url + "/ws/chat/lobby/",
        origin=server.origin,
        subprotocols=["chat"],
        additional_headers={"Cookie": f"sessionid={cookie}"},
    ) as ws:
        await ws.send("before")
        assert await line(ws) == "ann: before"
        postgres.stop()
        await ws.send("during the outage")
        answer = await line(ws)
        assert answer.startswith("! unavailable:") and "try again" in answer
        postgres.start()
        # The same socket posts again: at once, or after a few more
        # "unavailable" answers while the connect breaker's cool-down ends.
        for _ in range(20):
            await ws.send("after")
            answer = await line(ws)
            if answer == "ann: after":
                break
            assert answer.startswith("! unavailable:"), answer
            await asyncio.sleep(0.5)
        assert answer == "ann: after"


def test_plain_text_chat_answers_unavailable_in_a_database_outage(
    private_postgres, tmp_path
):
    """PostgreSQL stops under a plain-text ("chat") socket: a line it posts gets
    "! unavailable: ..." and the socket stays open (no 1011, no traceback);
    once the database is back, the same socket posts again."""
    env = server_env(private_postgres.url, None, "outage", DB_CONN_MAX_AGE=60)
    manage(env, "migrate", "-v0")
    manage(env, "shell", "-c", SETUP)
    server = DaphneProcess(env, tmp_path).start()
    try:
        cookie = Browser(server.url).log_in("ann", "pw-ann-123")
        asyncio.run(plain_text_through_an_outage(server, private_postgres, cookie))
        assert "Traceback" not in server.log()
    finally:
        server.stop()
