"""Chat across two real daphne processes on Redis and PostgreSQL, including a
process killed with SIGKILL while a client is sending."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from realtime.chat.models import Message, Room

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
FAST = {
    "DUPLEX_CHAT_RATE": 1000,
    "DUPLEX_CHAT_BURST": 1000,
    "DUPLEX_FRAME_RATE": 1000,
    "DUPLEX_FRAME_BURST": 1000,
}


class ChatClient:
    """A resuming chat client, like chat.js: it joins with the last seq it saw."""

    def __init__(self, session_key=None):
        self.cookie = session_key and f"{settings.SESSION_COOKIE_NAME}={session_key}"
        self.seqs: list[int] = []  # every chat.message seq received, in order
        self.texts: list[str] = []
        self.last = 0
        self.replayed = 0  # messages received as a resume replay
        self.errors: list[dict] = []  # error frames, as a refused post gets
        self.ws = None
        self._reader = None
        self._replaying = False
        self._changed = asyncio.Event()

    async def open(self, server):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        self.ws = await connect(
            server.ws_url + "/ws/chat/lobby/",
            origin=server.origin,
            additional_headers=headers,
        )
        await self.ws.send(json.dumps({"type": "chat.join", "after": self.last}))
        self._reader = asyncio.ensure_future(self._read(self.ws))
        return self

    async def _read(self, ws):
        try:
            async for text in ws:
                frame = json.loads(text)
                if frame["type"] == "chat.joined":
                    self._replaying = frame["resume"] == "replay"
                elif frame["type"] == "chat.history":
                    for message in frame["messages"]:
                        self._record(message)
                    self.last = max(self.last, frame["last_seq"])
                    self._replaying = False
                    self._changed.set()
                elif frame["type"] == "chat.message":
                    self.replayed += self._replaying
                    self._record(frame)
                elif frame["type"] == "error":
                    self.errors.append(frame)
        except ConnectionClosed:
            pass
        finally:
            self._changed.set()

    def _record(self, message):
        self.seqs.append(message["seq"])
        self.texts.append(message["text"])
        self.last = max(self.last, message["seq"])
        self._changed.set()

    async def send(self, text):
        await self.ws.send(json.dumps({"type": "chat.send", "text": text}))

    async def _until(self, done) -> None:
        async with asyncio.timeout(20):
            while not done():
                self._changed.clear()
                await self._changed.wait()

    async def wait_for(self, seq):
        await self._until(lambda: self.last >= seq)

    async def wait_for_count(self, count, max_in_flight=0):
        """Until ``count - max_in_flight`` messages arrived, or the socket closed."""
        await self._until(
            lambda: len(self.seqs) >= count - max_in_flight or self._reader.done()
        )

    async def wait_closed(self):
        await asyncio.wait_for(self._reader, 10)

    async def close(self):
        await self.ws.close()
        await self.wait_closed()


@pytest.fixture
def lobby(transactional_db):
    return Room.objects.create(slug="lobby", name="大厅")


@pytest.fixture
def sessions(make_user, session_for):
    return {name: session_for(make_user(name)) for name in ("ann", "bob", "cat")}


async def last_seq(room):
    return (await Room.objects.aget(pk=room.pk)).last_seq


async def stored_seqs():
    return await sync_to_async(list)(
        Message.objects.order_by("seq").values_list("seq", flat=True)
    )


async def test_clients_on_two_processes_see_each_others_messages_in_order(
    daphne, lobby, sessions
):
    """ann on one process and bob on another talk at once; both (and a guest)
    see all messages once each, in the same order: the room's seq order."""
    a, b = daphne(**FAST), daphne(**FAST)
    ann = await ChatClient(sessions["ann"]).open(a)
    bob = await ChatClient(sessions["bob"]).open(b)
    guest = await ChatClient().open(a)
    await asyncio.sleep(0)  # let the joins go out before the first message

    async def talk(client, name):
        for n in range(25):
            await client.send(f"{name} {n}")

    await asyncio.gather(talk(ann, "ann"), talk(bob, "bob"))
    for client in (ann, bob, guest):
        await client.wait_for(50)
        assert client.seqs == list(range(1, 51))
    assert ann.texts == bob.texts == guest.texts
    assert [t for t in ann.texts if t.startswith("ann")] == [
        f"ann {n}" for n in range(25)
    ]
    assert await stored_seqs() == list(range(1, 51))
    for client in (ann, bob, guest):
        await client.close()


async def test_a_killed_process_loses_no_persisted_message(daphne, lobby, sessions):
    """SIGKILL the process of a sending client mid-stream; it and a reader there
    reconnect to the other process and resume. Every stored message reaches
    every client exactly once, in order (a reader on the other process too)."""
    a, b = daphne(**FAST), daphne(**FAST)
    sender = await ChatClient(sessions["ann"]).open(a)
    cut_reader = await ChatClient(sessions["cat"]).open(a)
    steady_reader = await ChatClient(sessions["bob"]).open(b)
    total, attempted, lost, killed = 150, 0, 0, False
    while attempted < total:
        try:
            await sender.send(f"m{attempted}")
            attempted += 1
            # Keep a few messages in flight, as a fast typist (or a bot) would.
            await sender.wait_for_count(attempted - lost, max_in_flight=5)
        except ConnectionClosed:
            pass
        if sender._reader.done():  # the process died under us: go to the other
            await sender.open(b)  # resumes after sender.last
            await sender.wait_for(await last_seq(lobby))
            lost = attempted - len(sender.seqs)  # sent into the dead process
        if not killed and steady_reader.last >= 40:
            a.kill()  # SIGKILL: no close frames, no cleanup
            killed = True
    await sender.wait_for_count(attempted - lost)
    await cut_reader.wait_closed()
    await cut_reader.open(b)
    last = await last_seq(lobby)
    for client in (sender, cut_reader, steady_reader):
        await client.wait_for(last)
    stored = await stored_seqs()
    assert stored == list(range(1, last + 1))
    for client in (sender, cut_reader, steady_reader):
        assert client.seqs == stored  # each once, in order
    assert killed and cut_reader.replayed > 0
    print(
        f"\nchat kill -9: {attempted} sent, {len(stored)} stored, "
        f"{attempted - len(stored)} lost in flight; each of 3 clients received "
        f"{len(stored)} exactly once; the cut reader recovered "
        f"{cut_reader.replayed} by resume"
    )
    for client in (sender, cut_reader, steady_reader):
        await client.close()
