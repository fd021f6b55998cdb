"""Several hosts, simulated with network namespaces: two app hosts (daphne), a
data host (Redis, PostgreSQL), nginx in front; one app host is cut from the
data host for 10 s while both chat."""

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed

from tests.integration.netns import SimulatedSite, missing
from tests.integration.topology import ChatClient

WHY_NOT = missing()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(WHY_NOT is not None, reason=f"no simulated hosts: {WHY_NOT}"),
]

USERS = ("ann", "bob", "carol", "dave")
# The users, the room, and a logged-in session for each user (printed).
SETUP = f"""
from importlib import import_module
from django.conf import settings
from django.contrib import auth
from realtime.chat.models import Room
Room.objects.create(slug="lobby", name="Lobby")
for name in {USERS!r}:
    user = auth.get_user_model().objects.create_user(name)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[auth.SESSION_KEY] = str(user.pk)
    session[auth.BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[auth.HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    print(session.session_key)
"""
CUT_SECONDS = 10
JOINS = '"WSCONNECT /ws/chat/lobby/"'


@pytest.fixture
def site(tmp_path):
    """The simulated hosts, with chat's flood limit raised for fast writers."""
    site = SimulatedSite(tmp_path, DUPLEX_CHAT_RATE="50", DUPLEX_CHAT_BURST="100")
    try:
        yield site.start(setup=SETUP)
    finally:
        site.stop()


def joins(daphne) -> int:
    return daphne.log_path.read_text(errors="replace").count(JOINS)


async def placed(site, session: str) -> tuple[ChatClient, int]:
    """A chat client through nginx, and the index of the app host it landed on."""
    before = [joins(d) for d in site.daphnes]
    client = ChatClient(site, session)
    await client.open()
    for _ in range(100):
        grown = [i for i, d in enumerate(site.daphnes) if joins(d) > before[i]]
        if grown:
            return client, grown[0]
        await asyncio.sleep(0.05)
    raise AssertionError("no daphne logged the chat socket's handshake")


def ready(daphne) -> int:
    """The status of the app host's own /readyz (the balancer's health check)."""
    try:
        with urllib.request.urlopen(daphne.url + "/readyz", timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


async def wait_until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)


class Writer:
    """Posts ``<host>-<n>`` twice a second on a client; keeps what it sent."""

    def __init__(self, client: ChatClient, host: str):
        self.client, self.host = client, host
        self.sent: list[str] = []

    def acked(self) -> set[str]:
        """What came back to the writer as a message: stored and published."""
        return {t for t in self.client.texts.values() if t.startswith(self.host)}

    def unanswered(self) -> set[str]:
        """Posts that came back neither as a message nor as `unavailable`
        (the server answers each post in turn, so the newest are these)."""
        refused = self.client.errors.count("unavailable")
        pending = set(self.sent) - self.acked()
        return set(sorted(pending, key=lambda t: int(t.split("-")[1]))[refused:])

    async def write(self, until) -> None:
        n = 0
        while not until():
            text = f"{self.host}-{n}"
            n += 1
            try:
                frame = {"type": "chat.send", "text": text}
                await self.client.ws.send(json.dumps(frame))
                self.sent.append(text)
            except ConnectionClosed:
                pass  # reconnecting: not sent
            await asyncio.sleep(0.5)


async def test_a_partitioned_app_host_degrades_and_recovers_while_the_other_chats(
    site,
):
    """app1 loses the data host for 10 s: its sockets answer `unavailable` or
    close with 1013, never worse; app2's sockets go on chatting untouched;
    app1 recovers by itself; every acknowledged message is stored, and every
    stored message reaches every reader once, in order."""
    sessions = site.setup_output.split()[-len(USERS) :]
    by_host: dict[int, list[ChatClient]] = {0: [], 1: []}
    for n in range(12):
        client, host = await placed(site, sessions[n % len(sessions)])
        by_host[host].append(client)
        if all(len(clients) >= 2 for clients in by_host.values()):
            break
    assert all(len(c) >= 2 for c in by_host.values()), "nginx used one host only"
    (writer_a, reader_a), (writer_b, reader_b) = by_host[0][:2], by_host[1][:2]
    clients = [c for group in by_host.values() for c in group]
    writers = [Writer(writer_a, "app1"), Writer(writer_b, "app2")]

    observed: dict[str, object] = {}
    stored: list[tuple[int, str]] = []
    writing_done = asyncio.Event()

    async def partition():
        await asyncio.sleep(2)
        site.net.cut("app1", "data")
        seen_b, sent_b = len(reader_b.seen), len(writers[1].sent)
        await asyncio.sleep(CUT_SECONDS / 2)
        probes = asyncio.gather(*[asyncio.to_thread(ready, d) for d in site.daphnes])
        await asyncio.sleep(CUT_SECONDS / 2)
        observed["ready_in_cut"] = await probes
        observed["b_seen_in_cut"] = len(reader_b.seen) - seen_b
        observed["b_sent_in_cut"] = len(writers[1].sent) - sent_b
        site.net.heal("app1")
        observed["sent_before_heal"] = len(writers[0].sent)

    def recovered() -> bool:
        """app1's writer posted after the heal and got its message back."""
        after = writers[0].sent[observed["sent_before_heal"] :]
        return bool(writers[0].acked().intersection(after))

    def settled(client) -> bool:
        return bool(stored) and client.last_seq >= stored[-1][0]

    readers = [asyncio.ensure_future(c.run(lambda c=c: settled(c))) for c in clients]
    writing = [asyncio.ensure_future(w.write(writing_done.is_set)) for w in writers]
    await partition()
    healed_at = time.monotonic()
    await wait_until(recovered, 30)
    observed["recovered_after"] = round(time.monotonic() - healed_at, 1)
    await asyncio.sleep(1)  # a little traffic on the healed host
    writing_done.set()
    await asyncio.gather(*writing)
    await wait_until(lambda: not any(w.unanswered() for w in writers), 20)
    rows = site.sql("SELECT seq, text FROM realtime_message ORDER BY seq")
    stored[:] = [(int(seq), text) for seq, text in (r.split("|", 1) for r in rows)]
    await asyncio.wait_for(asyncio.gather(*readers), 20)
    print(
        f"netem delay: {site.net.delayed}; stored {len(stored)}; "
        f"sent {[len(w.sent) for w in writers]}; "
        f"closes A {writer_a.closes + reader_a.closes}, "
        f"B {writer_b.closes + reader_b.closes}; errors A {writer_a.errors}; "
        f"observed {observed}"
    )

    texts = [text for _, text in stored]
    seqs = [seq for seq, _ in stored]
    # No acknowledged message is lost; every stored one reaches every reader
    # exactly once, in order (live, or replayed on resume).
    for writer in writers:
        assert writer.acked() <= set(texts)
    for client in clients:
        assert client.seen == seqs
    # app1 degraded cleanly: refusals and 1013, nothing else.
    a_closes = writer_a.closes + reader_a.closes
    assert "unavailable" in writer_a.errors or 1013 in a_closes
    assert set(a_closes) <= {1013}
    assert set(writer_a.errors) <= {"unavailable"}
    # Nothing vanished silently: each post of app1's writer came back, or was
    # answered `unavailable` (and is not stored), or was in flight when its
    # socket closed.
    assert not writers[0].unanswered() or writer_a.closes, writers[0].unanswered()
    assert observed["ready_in_cut"][0] == 503
    # app2 was untouched: no close, no error, every post stored and delivered,
    # live during the cut.
    assert writer_b.closes == reader_b.closes == [] and writer_b.errors == []
    assert set(writers[1].sent) <= set(texts)
    assert observed["ready_in_cut"][1] == 200
    assert observed["b_seen_in_cut"] >= observed["b_sent_in_cut"] // 2 > 0
    # app1 came back by itself.
    assert recovered(), "app1's posts after the heal never came back to it"
    assert await asyncio.to_thread(ready, site.daphnes[0]) == 200
    for client in clients:
        await client.ws.close()
