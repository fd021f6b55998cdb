"""Helpers shared by the chat tests: join a room, send, post, wait for a close."""

from realtime.chat import service
from tests.frames import next_frame

LOBBY = "/ws/chat/lobby/"
RESETS = ("chat.history", "chat.reset")


async def join(ws, user=None, after=0, path=LOBBY):
    """Open a room socket and join; returns (communicator, joined, reply)."""
    c, connected, _ = await ws(path, user=user)
    assert connected
    await c.send_json_to({"type": "chat.join", "after": after})
    joined = await next_frame(c, "chat.joined")
    reply = None if joined["resume"] == "replay" else await next_frame(c, *RESETS)
    return c, joined, reply


async def send(c, text):
    await c.send_json_to({"type": "chat.send", "text": text})


async def closed_with(c, code, wait=3):
    """Skip frames until the close; return its reason."""
    while True:
        output = await c.receive_output(wait)
        if output["type"] == "websocket.close":
            assert output["code"] == code
            return output.get("reason", "")


def post(room, user, text):
    return service.post_message(room.pk, user, text)
