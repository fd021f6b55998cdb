"""``/healthz`` comes back by itself after a short Redis outage."""

import time

import pytest

from tests.servers import get_json

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for_health(server, timeout: float) -> tuple[int, dict]:
    deadline = time.monotonic() + timeout
    status, body = get_json(server.url + "/healthz")
    while status != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
        status, body = get_json(server.url + "/healthz")
    return status, body


def test_healthz_recovers_after_a_redis_blip(daphne, private_redis):
    """Redis is gone for 0.3 s; the first checks after it is back may miss their
    ping (the subscriber reconnects a moment later) and time out, but /healthz
    is 200 again by itself, without a restart of the process."""
    redis = private_redis()
    server = daphne(redis=False, REDIS_URL=redis.url)
    assert get_json(server.url + "/healthz")[0] == 200
    for _blip in range(2):
        redis.stop()
        time.sleep(0.3)
        redis.start()
        get_json(server.url + "/healthz")  # published before the resubscribe
        status, body = wait_for_health(server, timeout=30)
        assert status == 200, body
    assert "healthz: channel_layer failed" in server.log()
