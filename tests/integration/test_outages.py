"""Outages of the services Duplex stands on: requests fail cleanly, then recover."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.servers import ROOT, DaphneProcess, PostgresProcess, server_env

pytestmark = pytest.mark.integration


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def private_postgres():
    server = PostgresProcess().init().start()
    yield server
    server.destroy()


def test_postgres_restart_fails_requests_cleanly_and_recovers(
    private_postgres, tmp_path
):
    """While PostgreSQL is down /healthz answers 503 naming the database, at once;
    after it is back the same process answers 200 again."""
    env = server_env(private_postgres.url, None, "outage")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
    )
    server = DaphneProcess(env, tmp_path).start()
    try:
        assert get(server.url + "/healthz")[0] == 200
        private_postgres.stop()
        started = time.monotonic()
        status, body = get(server.url + "/healthz")
        assert status == 503 and body["failing"] == ["database"]
        assert body["checks"]["channel_layer"]["ok"]
        assert time.monotonic() - started < 5, (
            "a refused database must not hang requests"
        )
        login_page = urllib.request.urlopen(server.url + "/accounts/login/", timeout=10)
        assert login_page.status == 200  # pages that need no database still work
        private_postgres.start()
        assert get(server.url + "/healthz")[0] == 200
    finally:
        server.stop()
