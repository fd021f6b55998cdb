"""Redis behind Sentinel: chat across two daphne processes while the primary
is killed and the replica promoted."""

import asyncio
import contextlib
import time

import pytest
import redis.asyncio
from asgiref.sync import sync_to_async

from realtime.chat.models import Message, Room
from tests.integration.http_session import Browser
from tests.integration.sentinel import MASTER, SentinelCluster
from tests.integration.test_chat_daphne import FAST, ChatClient

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SEND_EVERY = 0.05  # each writer posts up to 20 messages a second
IN_FLIGHT = 5


class TimedClient(ChatClient):
    """A chat client that notes when each message reached it."""

    def __init__(self, session_key):
        super().__init__(session_key)
        self.arrived: dict[str, float] = {}

    def _record(self, message):
        super()._record(message)
        self.arrived.setdefault(message["text"], time.monotonic())


@pytest.fixture
def cluster(tmp_path):
    cluster = SentinelCluster(tmp_path / "redis").start()
    yield cluster
    cluster.stop()


@pytest.fixture
def reader_session(session_for):
    """``reader_session(name)``: a session key of a new user without a password."""
    from django.contrib.auth import get_user_model

    def create(name: str) -> str:
        return session_for(get_user_model().objects.create_user(name))

    return create


async def log_in(server, name: str) -> str:
    visitor = Browser(server.url)
    return await asyncio.to_thread(visitor.log_in, name, f"pw-{name}-123")


async def write(client, name: str, sent: list[str], stop: asyncio.Event) -> None:
    """Post ``name n`` until ``stop``, as a fast typist: every SEND_EVERY
    seconds, with at most IN_FLIGHT posts unanswered (the server sets the pace
    on a loaded machine), but never waiting more than a second for answers,
    as nobody stops typing when echoes are late."""
    while not stop.is_set():
        text = f"{name} {len(sent)}"
        sent.append(text)
        await client.send(text)
        await asyncio.sleep(SEND_EVERY)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1):
                await client._until(
                    lambda: len(sent) - answered(client, sent) <= IN_FLIGHT
                )


def answered(writer, sent: list[str]) -> int:
    """How many of ``sent`` came back to their writer, echoed or refused."""
    return len(set(writer.texts) & set(sent)) + len(writer.errors)


def first_after(reader, sent: list[str], since: int) -> float | None:
    """When the first of ``sent[since:]`` reached ``reader``, if one has."""
    times = [reader.arrived[t] for t in sent[since:] if t in reader.arrived]
    return min(times, default=None)


async def test_chat_survives_a_sentinel_failover(
    daphne, cluster, make_user, reader_session
):
    """Two processes find Redis through three sentinels; ann posts on one and
    bob on the other while the primary is SIGKILLed. Both processes live on,
    live delivery across them resumes by itself once the replica is promoted,
    every post that was acknowledged (echoed to its author) is stored, and
    every client, including two that left during the failover and rejoined
    from their last seq, received every stored message exactly once, in order."""
    for name in ("ann", "bob"):
        await sync_to_async(make_user)(name)
    # cat and dan only read, with sessions made directly (no password to check).
    readers = [await sync_to_async(reader_session)(n) for n in ("cat", "dan")]
    await sync_to_async(Room.objects.create)(slug="lobby", name="大厅")
    sentinel = {"REDIS_SENTINELS": cluster.sentinels, "REDIS_SENTINEL_MASTER": MASTER}
    a, b = (
        daphne(redis=False, **sentinel, **FAST),
        daphne(redis=False, **sentinel, **FAST),
    )
    # ann and bob log in through the form: sessions and throttle counters in
    # the cache, which finds its Redis through the sentinels too.
    ann_key, bob_key = await asyncio.gather(log_in(a, "ann"), log_in(b, "bob"))
    ann = await TimedClient(ann_key).open(a)
    bob = await TimedClient(bob_key).open(b)
    cat = await TimedClient(readers[0]).open(a)
    dan = await TimedClient(readers[1]).open(b)
    stop = asyncio.Event()
    by_ann, by_bob = [], []
    writers = [
        asyncio.ensure_future(write(ann, "ann", by_ann, stop)),
        asyncio.ensure_future(write(bob, "bob", by_bob, stop)),
    ]
    await bob.wait_for_count(20)  # traffic flows both ways
    await asyncio.to_thread(cluster.wait_formed)

    await cat.close()  # two readers leave as the primary dies
    await dan.close()
    since_ann, since_bob = len(by_ann), len(by_bob)
    killed = time.monotonic()
    cluster.kill_primary()
    await asyncio.to_thread(cluster.wait_promoted)
    promoted = time.monotonic() - killed
    # Live delivery across the processes resumes by itself, both ways.
    await bob._until(lambda: first_after(bob, by_ann, since_ann))
    await ann._until(lambda: first_after(ann, by_bob, since_bob))
    await asyncio.sleep(1)  # a second of traffic after the recovery
    stop.set()
    await asyncio.gather(*writers)
    for writer, sent in ((ann, by_ann), (bob, by_bob)):  # every post answered
        await writer._until(lambda w=writer, s=sent: answered(w, s) == len(s))
    await cat.open(a)  # rejoin from the last seq each saw
    await dan.open(b)

    last = (await Room.objects.aget(slug="lobby")).last_seq
    for client in (ann, bob, cat, dan):
        await client.wait_for(last)
    rows = Message.objects.order_by("seq").values_list("seq", "text")
    seqs, texts = zip(*await sync_to_async(list)(rows), strict=True)
    assert list(seqs) == list(range(1, last + 1))
    for client in (ann, bob, cat, dan):
        assert client.seqs == list(seqs)  # each once, in order
        assert client.texts == list(texts)
    assert cat.replayed > 0 and dan.replayed > 0
    # Acknowledged: echoed to its author. Each is stored (and so received by
    # every client); a post missing from the store got an error frame.
    acknowledged = {t for t in ann.texts if t in by_ann} | {
        t for t in bob.texts if t in by_bob
    }
    assert acknowledged <= set(texts)
    refused = len(ann.errors) + len(bob.errors)
    posted = len(by_ann) + len(by_bob)
    assert len(texts) == posted - refused, (ann.errors, bob.errors)
    for server in (a, b):
        assert server.proc.poll() is None, "the process survived"
        log = server.log_path.read_text(errors="replace")
        assert "Traceback" not in log, log
    a_to_b = first_after(bob, by_ann, since_ann) - killed
    b_to_a = first_after(ann, by_bob, since_bob) - killed
    print(
        f"\nsentinel failover: replica promoted {promoted:.2f} s after the kill; "
        f"first live delivery after the kill A->B {a_to_b:.2f} s, "
        f"B->A {b_to_a:.2f} s; {posted} posted, "
        f"{len(texts)} stored, {refused} refused, {len(acknowledged)} acknowledged, "
        f"0 lost; the rejoining readers recovered {cat.replayed} and "
        f"{dan.replayed} by seq"
    )
    for client in (ann, bob, cat, dan):
        await client.close()


async def test_cache_and_presence_follow_the_promoted_replica(cluster, settings):
    """The cache and presence find the master through the sentinels: after the
    primary is killed and the replica promoted, what they held before is still
    there (a logged-in session, who is online) and new writes land, in the same
    process, without a restart."""
    from django.core.cache import cache

    from realtime.core.presence import get_presence

    settings.REDIS_URLS, settings.REDIS_PRESENCE_URL = [], ""
    settings.REDIS_SENTINELS = [("127.0.0.1", w.port) for w in cluster.watchers]
    settings.REDIS_SENTINEL_MASTER = MASTER
    settings.CACHES = {
        "default": {
            "BACKEND": "realtime.core.sentinel.SentinelRedisCache",
            "LOCATION": MASTER,
            "OPTIONS": {"sentinels": settings.REDIS_SENTINELS},
        }
    }
    await asyncio.to_thread(cluster.wait_formed)
    presence = get_presence()
    await sync_to_async(cache.set)("session", "ann's")
    await presence.join("chat.lobby", "conn-1", 1, "ann")
    # Replication is asynchronous: let the replica confirm it has both writes.
    primary = redis.asyncio.Redis(port=cluster.primary.port)
    assert await primary.execute_command("WAIT", 1, 2000) == 1
    await primary.aclose()

    cluster.kill_primary()
    await asyncio.to_thread(cluster.wait_promoted)
    assert await sync_to_async(cache.get)("session") == "ann's"
    await sync_to_async(cache.set)("after", "bob's")
    assert await sync_to_async(cache.get)("after") == "bob's"
    await presence.join("chat.lobby", "conn-2", 2, "bob")
    stored = await presence.store.entries("chat.lobby")  # raises if unreachable
    assert sorted(entry["n"] for entry in stored.values()) == ["ann", "bob"]
    await presence.store.redis.aclose()
