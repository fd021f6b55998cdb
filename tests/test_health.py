"""``/healthz`` reports the database and the channel layer."""

import pytest
from channels.layers import channel_layers
from django.db import connection

from project.config import redis_channel_layer


@pytest.mark.django_db
def test_healthz_is_ok_when_everything_answers(client):
    """Both checks pass: 200 with per-check timings."""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["channel_layer"]["ok"]


@pytest.mark.django_db
def test_healthz_names_a_failing_channel_layer(client, settings):
    """With Redis unreachable, 503 names the channel layer and keeps the database ok."""
    settings.CHANNEL_LAYERS = {
        "default": redis_channel_layer(["redis://127.0.0.1:1/0"], "duplex")
    }
    channel_layers.backends.clear()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["channel_layer"]
    assert body["checks"]["database"]["ok"]


@pytest.mark.django_db
def test_healthz_names_a_failing_database(client, monkeypatch):
    """With the database refusing queries, 503 names the database."""

    def refuse(*args, **kwargs):
        raise connection.Database.OperationalError("database is down")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


@pytest.mark.django_db
def test_healthz_names_the_failing_part_without_exception_text(
    client, settings, caplog
):
    """An anonymous caller learns which part fails, not the exception's text
    (addresses, ports); the detail goes to the log."""
    settings.CHANNEL_LAYERS = {
        "default": redis_channel_layer(["redis://127.0.0.1:1/0"], "duplex")
    }
    channel_layers.backends.clear()
    with caplog.at_level("WARNING", logger="realtime.core.health"):
        response = client.get("/healthz")
    assert response.status_code == 503
    check = response.json()["checks"]["channel_layer"]
    assert check == {"ok": False, "error": "unavailable"}
    assert "127.0.0.1:1" not in response.content.decode()
    logged = [r for r in caplog.records if r.name == "realtime.core.health"]
    assert any("channel_layer" in r.getMessage() for r in logged)
    assert any("127.0.0.1:1" in r.getMessage() for r in logged)


@pytest.mark.django_db
def test_livez_answers_while_every_dependency_fails(client, settings, monkeypatch):
    """Liveness checks no dependency: with Redis and the database both gone, the
    process still answers 200, so nothing restarts it or drops it for that."""
    settings.CHANNEL_LAYERS = {
        "default": redis_channel_layer(["redis://127.0.0.1:1/0"], "duplex")
    }
    channel_layers.backends.clear()

    def refuse(*args, **kwargs):
        raise connection.Database.OperationalError("database is down")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_and_its_healthz_alias_name_a_failing_layer(client, settings):
    """/readyz checks what /healthz checked; /healthz stays as its alias."""
    settings.CHANNEL_LAYERS = {
        "default": redis_channel_layer(["redis://127.0.0.1:1/0"], "duplex")
    }
    channel_layers.backends.clear()
    for path in ("/readyz", "/healthz"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.json()["failing"] == ["channel_layer"], path


@pytest.mark.django_db
def test_readyz_is_503_once_a_drain_begins(client, monkeypatch):
    """From SIGTERM on (lifecycle's drain), readiness fails at once, naming the
    drain, while liveness stays 200: the process is healthy, just leaving."""
    from realtime.core import lifecycle

    assert client.get("/readyz").status_code == 200
    monkeypatch.setitem(lifecycle._state, "stopping", True)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "draining"
    assert response.json()["failing"] == ["draining"]
    assert client.get("/livez").status_code == 200
