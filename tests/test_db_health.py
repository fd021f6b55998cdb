"""The database connection a process keeps is health-checked at most once a
second, not before every call of every socket (each Channels database call
is a request of its own to Django)."""

import time

import pytest
from django.db import close_old_connections, connections

from realtime.chat.models import Room

pytestmark = pytest.mark.django_db(transaction=True)

connection = connections["default"]  # the wrapper, not django.db's proxy


@pytest.fixture
def checks(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the backend is PostgreSQL's")
    counted = []
    real = type(connection).is_usable
    monkeypatch.setattr(
        type(connection), "is_usable", lambda self: counted.append(1) or real(self)
    )
    monkeypatch.setattr(connection, "health_check_enabled", True)
    return counted


def calls(n: int) -> None:
    for _ in range(n):
        close_old_connections()  # what Channels does around each call
        Room.objects.filter(slug="lobby").exists()


def test_fifty_calls_in_a_moment_check_the_connection_at_most_once(checks):
    calls(1)
    connection.checked_at = float("-inf")  # as if the last check were long ago
    checks.clear()
    calls(50)
    assert len(checks) == 1


def test_a_second_later_the_next_call_checks_again(checks):
    calls(1)
    connection.checked_at = time.monotonic() - 1.5
    checks.clear()
    calls(1)
    assert len(checks) == 1


def test_a_connection_that_was_closed_under_it_is_replaced(checks):
    """PostgreSQL ended the session (a restart, an admin): the error closes
    the connection at the next call's start, and the call after works."""
    calls(1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()
    with pytest.raises(Exception):  # noqa: B017
        calls(1)
    calls(1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
