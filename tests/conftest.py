"""Fixtures shared by every layer of tests."""

import os
import uuid

import pytest
from asgiref.sync import SyncToAsync
from channels.layers import channel_layers
from django.db import connections

from realtime.core.dbthreads import READERS
from realtime.core.fanout import reset_hubs
from realtime.core.presence import reset_presence
from realtime.core.sessions import reset_watchers
from tests import frames
from tests.servers import DaphneProcess, server_env

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ORIGIN = "http://localhost"


@pytest.fixture(autouse=True)
def fresh_layers():
    """Each test's event loop gets its own channel layer, hub and presence."""
    channel_layers.backends.clear()
    reset_hubs()
    reset_presence()
    reset_watchers()
    yield
    channel_layers.backends.clear()
    reset_hubs()
    reset_presence()
    reset_watchers()
    # sync_to_async ran ORM calls on asgiref's worker thread; close its database
    # connection, or dropping the test database finds it still in use.
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()
    READERS.close_connections()


@pytest.fixture(autouse=True, scope="session")
def frames_checked():
    """Every frame a test reads from a ``/ws/`` endpoint matches its TypedDict."""
    from channels.testing import WebsocketCommunicator

    with pytest.MonkeyPatch.context() as patch:
        receive = frames.checked(WebsocketCommunicator.receive_output)
        patch.setattr(WebsocketCommunicator, "receive_output", receive)
        yield


@pytest.fixture
def live_database_url(transactional_db):
    """The test database as a URL that another process can open.

    Other processes see only committed rows, so tests using this run with
    ``transactional_db``.
    """
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.fail(
            "Integration tests need PostgreSQL: run them through `make test`, "
            "which sets DATABASE_URL=postgres://postgres@127.0.0.1:5432/duplex."
        )
    user = settings["USER"] or "postgres"
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


@pytest.fixture
def redis_prefix():
    """A key prefix of its own, so tests never see each other's Redis data."""
    return f"duplex-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def daphne(live_database_url, redis_prefix, tmp_path):
    """Start daphne processes: ``daphne(redis=True, **env)``; stopped at teardown."""
    started: list[DaphneProcess] = []

    def start(redis: bool = True, **extra_env) -> DaphneProcess:
        env = server_env(
            live_database_url, REDIS_URL if redis else None, redis_prefix, **extra_env
        )
        server = DaphneProcess(env, tmp_path, name=f"daphne{len(started)}")
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def make_user(db):
    """Create a user: ``make_user("ann")``; the password is ``pw-<name>-123``."""
    from django.contrib.auth import get_user_model

    def create(username: str, **fields):
        return get_user_model().objects.create_user(
            username=username, password=f"pw-{username}-123", **fields
        )

    return create


@pytest.fixture
def ann(make_user):
    return make_user("ann")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def carol(make_user):
    return make_user("carol")


@pytest.fixture
def players(ann, bob, carol):
    """Three users: ann and bob to play or talk, carol to look on."""
    return ann, bob, carol


@pytest.fixture
def lobby(db):
    """The chat room ``lobby``, public, with a name that is not ASCII only."""
    from realtime.chat.models import Room

    return Room.objects.create(slug="lobby", name="大厅 Lobby", topic="hi")


@pytest.fixture
def login(db):
    """``login(user)``: a test ``Client`` logged in as ``user``.

    With ``csrf=True`` the client enforces CSRF checks and holds the cookie.
    """
    from django.test import Client

    def log_in(user, csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=csrf)
        client.force_login(user)
        if csrf:
            client.get("/notifications/settings/")  # any page with a form sets it
        return client

    return log_in


@pytest.fixture(autouse=True)
def clear_cache():
    """Each test starts and ends with an empty cache (flood and login counters)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def redis_cache(settings, redis_prefix):
    """The cache on the real Redis, as in production, under the test's prefix."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": redis_prefix,
        }
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def session_for(db):
    """``session_for(user)``: a logged-in session key, as the login view makes one."""
    from django.conf import settings as django_settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    def create(user) -> str:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = django_settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        return session.session_key

    return create


def _with_cookie(headers, cookie: str):
    """``headers`` with ``cookie`` added to their one Cookie header."""
    given = [value.decode() for name, value in headers if name == b"cookie"]
    yield from ((name, value) for name, value in headers if name != b"cookie")
    yield b"cookie", "; ".join([*given, cookie]).encode()


@pytest.fixture
def ws(session_for):
    """Open WebSocket communicators on the real application; all closed at teardown.

    ``await ws("/ws/chat/lobby/", user=ann, subprotocols=["chat"])`` returns
    ``(communicator, connected, subprotocol)``; ``headers`` adds handshake
    headers (``[(b"accept-language", b"zh-hans")]``).
    """
    from channels.testing import WebsocketCommunicator
    from django.conf import settings as django_settings

    from project.asgi import application

    async def open_socket(
        path, user=None, subprotocols=None, origin=ORIGIN, headers=()
    ):
        from asgiref.sync import sync_to_async

        headers = [(b"origin", origin.encode()), *headers]
        if user is not None:
            key = await sync_to_async(session_for)(user)
            cookie = f"{django_settings.SESSION_COOKIE_NAME}={key}"
            headers = [*_with_cookie(headers, cookie)]
        communicator = WebsocketCommunicator(
            application, path, headers=headers, subprotocols=subprotocols
        )
        connected, subprotocol = await communicator.connect()
        return communicator, connected, subprotocol

    # Communicators left open are torn down with the test's event loop.
    return open_socket


@pytest.fixture
def topology(live_database_url, redis_prefix, tmp_path):
    """nginx with TLS (deploy/nginx/duplex.conf) in front of two daphne processes."""
    from tests.integration.topology import Topology

    site = Topology(live_database_url, REDIS_URL, redis_prefix, tmp_path)
    try:
        yield site.start()
    finally:
        site.stop()


@pytest.fixture
def private_redis(tmp_path):
    """``private_redis()``: a redis-server of the test's own; killed at teardown."""
    from tests.servers import RedisProcess

    started = []

    def start():
        server = RedisProcess(tmp_path).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def lose(monkeypatch):
    """``lose(test)``: the layer loses every published event that passes ``test``."""
    import json

    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    real = layer.group_send

    def install(test):
        async def lossy(group, message):
            if "text" in message and test(json.loads(message["text"])):
                return
            await real(group, message)

        monkeypatch.setattr(layer, "group_send", lossy)

    return install
