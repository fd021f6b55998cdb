"""``/healthz`` reports the database and the channel layer."""

import pytest
from channels.layers import channel_layers
from django.db import connection

from project.settings import redis_channel_layer


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
