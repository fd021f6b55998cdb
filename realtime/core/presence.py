"""Who is online where, shared between processes.

A *place* is a short ASCII name (``chat.lobby``, ``game.lobby``); each open
socket there is one entry, and a user with three tabs open is one member.
With Redis configured (``REDIS_PRESENCE_URL``, else the first of ``REDIS_URL``,
else the master ``REDIS_SENTINELS`` name) the entries live in a Redis hash per
place, so every daphne process sees the same members; without it they live in
this process.

Entries carry an expiry. Each process renews its own sockets' entries every
``RENEW_EVERY`` seconds; a socket that dies without a close is removed by its
consumer's disconnect (daphne's ping timeout), and if the whole process dies
its entries vanish from every answer after ``TTL`` seconds.
"""

import asyncio
import json
import logging
import threading
import time

from asgiref.sync import async_to_sync
from django.conf import settings

from realtime.core import metrics
from realtime.core.perloop import PerLoop

log = logging.getLogger(__name__)

TTL = 30.0
RENEW_EVERY = 10.0

reads = metrics.Counter(
    "duplex_presence_reads_total",
    "Reads of a place's whole member list (one Redis HGETALL each).",
)


class _MemoryStore:
    def __init__(self):
        self.places: dict[str, dict[str, dict]] = {}

    async def put(self, place: str, conn_id: str, entry: dict) -> None:
        self.places.setdefault(place, {})[conn_id] = entry

    async def remove(self, place: str, conn_id: str) -> None:
        self.places.get(place, {}).pop(conn_id, None)

    async def entries(self, place: str) -> dict[str, dict]:
        return dict(self.places.get(place, {}))

    async def drop(self, place: str, conn_ids: list[str]) -> None:
        for conn_id in conn_ids:
            await self.remove(place, conn_id)


def _presence_url() -> str:
    """Presence's own server, else the layer's first; "" for neither."""
    urls = getattr(settings, "REDIS_URLS", [])
    return getattr(settings, "REDIS_PRESENCE_URL", "") or (urls[0] if urls else "")


def _redis_pool():
    """Presence's pool: to its own server, the layer's first, or the master
    Sentinel names; None when Redis is not configured."""
    import redis.asyncio as aioredis

    # A burst (a crowd joining or leaving at once) waits for a connection
    # instead of failing with "Too many connections".
    options = {
        "max_connections": settings.PRESENCE_POOL_SIZE,
        "timeout": settings.PRESENCE_POOL_TIMEOUT,
        "socket_timeout": 3,
        "socket_connect_timeout": 1,
        **settings.REDIS_ASYNC_OPTIONS,
    }
    url = _presence_url()
    if url:
        return aioredis.BlockingConnectionPool.from_url(url, **options)
    if getattr(settings, "REDIS_SENTINELS", []):
        from realtime.core.sentinel import async_master_pool

        master = settings.REDIS_SENTINEL_MASTER
        options.pop("connection_class")  # Sentinel's own finds the master
        return async_master_pool(settings.REDIS_SENTINELS, master, **options)
    return None


class _RedisStore:
    def __init__(self, pool, prefix: str):
        import redis.asyncio as aioredis

        self.redis = aioredis.Redis(connection_pool=pool)
        self.prefix = f"{prefix}:presence:"

    async def put(self, place: str, conn_id: str, entry: dict) -> None:
        key = self.prefix + place
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, conn_id, json.dumps(entry))
            pipe.expire(key, int(TTL * 4))
            await pipe.execute()

    async def remove(self, place: str, conn_id: str) -> None:
        await self.redis.hdel(self.prefix + place, conn_id)

    async def entries(self, place: str) -> dict[str, dict]:
        raw = await self.redis.hgetall(self.prefix + place)
        return {k.decode(): json.loads(v) for k, v in raw.items()}

    async def drop(self, place: str, conn_ids: list[str]) -> None:
        if conn_ids:
            await self.redis.hdel(self.prefix + place, *conn_ids)


class Presence:
    """The presence registry of one process (one per event loop).

    Presence is a hint, not data: while Redis is unreachable every call still
    returns (a join is "new", members are only this process' own sockets) and
    the renewer writes the entries back once Redis answers again.
    """

    def __init__(self):
        prefix = (
            settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "duplex")
        )
        pool = _redis_pool()
        self.store = _RedisStore(pool, prefix) if pool else _MemoryStore()
        self.local: dict[tuple[str, str], dict] = {}  # this process' own entries
        self.gone: set[tuple[str, str]] = set()  # removals the store refused
        self._renewer: asyncio.Task | None = None

    async def join(
        self, place: str, conn_id: str, user_id: int, name: str, *, check: bool = True
    ) -> bool:
        """Add a socket; True when its user was not online here before.

        ``check=False`` skips reading the place's members to tell (and returns
        True): for a crowd's places, whose changes are coalesced instead.
        """
        was_online = check and any(
            m["id"] == user_id for m in await self.members(place)
        )
        entry = {"u": user_id, "n": name, "exp": time.time() + TTL}
        self.local[(place, conn_id)] = entry
        self._ensure_renewer()
        await self._quietly(self.store.put(place, conn_id, entry))
        return not was_online

    async def leave(self, place: str, conn_id: str, *, check: bool = True) -> bool:
        """Remove a socket; True when its user has no socket left here
        (``check=False``: True without reading the members to tell)."""
        entry = self.local.pop((place, conn_id), None)
        if await self._quietly(self.store.remove(place, conn_id), False) is False:
            self.gone.add((place, conn_id))  # retried by the renewer
            self._ensure_renewer()
        if entry is None:
            return False
        if not check:
            return True
        return not any(m["id"] == entry["u"] for m in await self.members(place))

    async def members(self, place: str) -> list[dict]:
        """Online users of a place, one per user: ``[{"id", "name"}]``, by name."""
        now = time.time()
        reads.inc()
        entries = await self._quietly(self.store.entries(place))
        if entries is None:  # the store is down: this process' own sockets
            entries = {c: e for (p, c), e in self.local.items() if p == place}
        expired = [conn for conn, entry in entries.items() if entry["exp"] < now]
        if expired:
            await self._quietly(self.store.drop(place, expired))
        return _users(entries, now)

    async def count(self, place: str) -> int:
        return len(await self.members(place))

    async def _quietly(self, call, failed=None):
        try:
            return await call
        except Exception as exc:  # Redis down or restarting
            log.warning("Presence store unavailable (%s)", exc)
            return failed

    def _ensure_renewer(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.ensure_future(self._renew_loop())

    async def _renew_loop(self) -> None:
        while self.local or self.gone:
            await asyncio.sleep(RENEW_EVERY)
            try:
                await self._renew()
            except Exception:  # the store is down: try again next round
                continue

    async def _renew(self) -> None:
        """Write back this process' entries; retry the removals that failed."""
        expires = time.time() + TTL
        for (place, conn_id), entry in list(self.local.items()):
            entry["exp"] = expires
            await self.store.put(place, conn_id, entry)
        for place, conn_id in list(self.gone):
            await self.store.remove(place, conn_id)
            self.gone.discard((place, conn_id))


def _users(entries: dict[str, dict], now: float) -> list[dict]:
    """One member per user of the entries that have not expired, by name."""
    users = {
        entry["u"]: entry["n"] for entry in entries.values() if entry["exp"] >= now
    }
    return sorted(({"id": u, "name": n} for u, n in users.items()), key=_by_name)


def _by_name(member: dict) -> str:
    return member["name"].casefold()


THREAD_FRESH = 0.5  # seconds a thread's read of a place is shared by threads


class ThreadReader:
    """Reads of the Redis store from a thread, with redis-py's synchronous
    client: no trip to the event loop.

    Code on the database thread that needs a place's members (a message's
    notifications skip the followers who are in the room) used to wait for
    the event loop with ``async_to_sync``. The process has one such thread,
    so under a crowd, while the loop wrote to thousands of sockets, every
    database call of every socket of the process waited behind that read.
    Reads are shared for ``THREAD_FRESH`` seconds: a busy room costs one
    ``HGETALL`` per interval, not one per message.
    """

    def __init__(self, client, prefix: str):
        self.redis = client
        self.prefix = f"{prefix}:presence:"
        self.lock = threading.Lock()
        self.fresh: dict[str, tuple[float, list[dict]]] = {}

    def members(self, place: str) -> list[dict]:
        now = time.monotonic()
        with self.lock:
            read = self.fresh.get(place)
            if read is not None and now - read[0] < THREAD_FRESH:
                return read[1]
        reads.inc()
        raw = self.redis.hgetall(self.prefix + place)
        entries = {k.decode(): json.loads(v) for k, v in raw.items()}
        members = _users(entries, time.time())
        with self.lock:
            self.fresh[place] = (now, members)
            if len(self.fresh) > 1000:  # places come and go: keep the recent
                self.fresh = {p: r for p, r in self.fresh.items() if now - r[0] < 1}
        return members


_reader: ThreadReader | None = None
_reader_lock = threading.Lock()


def _sync_client():
    """A synchronous client of presence's Redis (``_redis_pool``'s server),
    or None when presence lives in the process."""
    import redis

    options = {
        "socket_timeout": 3,
        "socket_connect_timeout": 1,
        **settings.REDIS_SYNC_OPTIONS,
    }
    url = _presence_url()
    if url:
        return redis.Redis.from_url(url, **options)
    if getattr(settings, "REDIS_SENTINELS", []):
        from realtime.core.sentinel import master_client

        options.pop("connection_class")  # Sentinel's own finds the master
        master = settings.REDIS_SENTINEL_MASTER
        return master_client(settings.REDIS_SENTINELS, master, **options)
    return None


def members_from_thread(place: str) -> list[dict]:
    """A place's members, for code on a thread (the database thread): read
    from Redis by this thread (``ThreadReader``). Without Redis the store is
    the event loop's own, and the read goes there. While Redis is down the
    answer is empty: nobody is known to be there."""
    reader = _thread_reader()
    if reader is None:
        return async_to_sync(_loop_members)(place)
    try:
        return reader.members(place)
    except Exception as exc:  # Redis down or restarting
        log.warning("Presence store unavailable (%s)", exc)
        return []


def _thread_reader() -> ThreadReader | None:
    global _reader
    with _reader_lock:
        if _reader is None:
            client = _sync_client()
            if client is None:
                return None
            config = settings.CHANNEL_LAYERS["default"].get("CONFIG", {})
            _reader = ThreadReader(client, config.get("prefix", "duplex"))
        return _reader


async def _loop_members(place: str) -> list[dict]:
    return await get_presence().members(place)


_registries = PerLoop(Presence)


def get_presence() -> Presence:
    """The presence registry of the running event loop."""
    return _registries.get()


def reset_presence() -> None:
    """Forget every registry (tests switch settings between event loops)."""
    global _reader
    _registries.clear()
    with _reader_lock:
        _reader = None
