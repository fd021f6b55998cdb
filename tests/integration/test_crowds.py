"""A crowd on the product's own sockets: many logged-in users join one room at once,
on a real daphne with Redis and PostgreSQL.

Admission control is lifted here: this is about what one process does with
300 at once (tests/integration/test_admission.py covers the limit).
"""

import re
import types
from collections import Counter

import psutil
import pytest
from django.conf import settings

from bench import accounts
from bench.crowd import SITE, Crowd, chat_endpoint
from realtime.chat.models import Room
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CROWD = 300


@pytest.fixture
def crowd_sessions(transactional_db):
    """CROWD distinct users, each with a logged-in session (bulk rows)."""
    Room.objects.create(slug="crowd", name="Crowd")
    return accounts.new_sessions(accounts.ensure_users(CROWD))


def failure_report(crowd: Crowd, log: str) -> str:
    stats = crowd.stats["chat"]
    warnings = Counter(
        re.sub(r"^\S+ \S+ ", "", line)[:120]  # without the timestamp
        for line in log.splitlines()
        if " WARNING " in line or " ERROR " in line
    )
    return (
        f"{stats.ready} of {CROWD} joined; {stats.opened} handshakes completed; "
        f"failures: {dict(stats.failures)}; server log: {warnings.most_common(5)}"
    )


@pytest.mark.timeout(120)
async def test_300_users_join_one_room_at_the_same_moment(daphne, crowd_sessions):
    """300 distinct logged-in users open /ws/chat/crowd/ and send chat.join at
    once (all 300 in flight): each one is accepted and receives chat.joined;
    none is refused, dropped or closed."""
    # All 300 at once, past admission control's limit (tested on its own).
    server = daphne(DUPLEX_MAX_HANDSHAKES="1000")
    target = types.SimpleNamespace(url=server.ws_url, origin=server.origin)
    crowd = Crowd(target, settings.SESSION_COOKIE_NAME, in_flight=CROWD)
    _, failed = await crowd.storm(crowd_sessions, [chat_endpoint("crowd")])
    report = failure_report(crowd, server.log_path.read_text(errors="replace"))
    await crowd.close_all()
    print(f"\ncrowd of {CROWD}: {report}")
    assert (len(failed), crowd.stats["chat"].ready) == (0, CROWD), report


def redis_connections(server) -> int:
    """The TCP connections the daphne process holds to Redis."""
    port = int(REDIS_URL.rsplit(":", 1)[1].split("/")[0])
    process = psutil.Process(server.proc.pid)
    return sum(
        1 for c in process.net_connections("tcp") if c.raddr and c.raddr.port == port
    )


@pytest.fixture
def page_sessions(transactional_db):
    return accounts.new_sessions(accounts.ensure_users(40))


@pytest.mark.timeout(120)
async def test_redis_connections_do_not_grow_with_the_sockets(daphne, page_sessions):
    """Each logged-in socket loads its session from the Redis cache: 10 and
    then 30 more open /ws/site/, and the process holds about as many Redis
    connections as before the 30 (it held one per socket: Redis' client
    limit would have been the limit of a crowd)."""
    server = daphne()
    target = types.SimpleNamespace(url=server.ws_url, origin=server.origin)
    first = Crowd(target, settings.SESSION_COOKIE_NAME, in_flight=10)
    more = Crowd(target, settings.SESSION_COOKIE_NAME, in_flight=10)
    assert (await first.storm(page_sessions[:10], [SITE]))[1] == []
    before = redis_connections(server)
    assert (await more.storm(page_sessions[10:], [SITE]))[1] == []
    after = redis_connections(server)
    await first.close_all()
    await more.close_all()
    assert after - before < 5, (before, after)
