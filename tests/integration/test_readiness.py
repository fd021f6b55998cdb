"""Liveness and readiness on real daphne processes: ``/livez`` stays up through a
Redis outage and a drain, ``/readyz`` says when a process should get no traffic."""

import http.client
import json
import signal
import socket
import ssl
import time

import pytest

from tests.integration.raw_ws import StalledClient
from tests.integration.topology import SECRET, Topology
from tests.servers import get_json

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CLOSE = 0x8


def wait_for_status(url: str, status: int, timeout: float = 30) -> tuple[int, dict]:
    deadline = time.monotonic() + timeout
    answer = get_json(url)
    while answer[0] != status and time.monotonic() < deadline:
        time.sleep(0.3)
        answer = get_json(url)
    return answer


def request(conn: http.client.HTTPConnection, path: str) -> tuple[int, dict]:
    """GET on a kept-alive connection: (status, JSON body)."""
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def test_livez_stays_up_while_redis_is_down(daphne, private_redis):
    """Redis stops: /livez is still 200 (a load balancer or a supervisor using it
    keeps the process), /readyz and /healthz are 503 naming the channel layer,
    and readiness comes back by itself with Redis."""
    redis = private_redis()
    server = daphne(redis=False, REDIS_URL=redis.url)
    assert get_json(server.url + "/readyz")[0] == 200
    redis.stop()
    assert get_json(server.url + "/livez") == (200, {"status": "ok"})
    for path in ("/readyz", "/healthz"):
        status, body = get_json(server.url + path)
        assert status == 503 and body["failing"] == ["channel_layer"], (path, body)
        assert body["checks"]["database"]["ok"]
    assert get_json(server.url + "/livez")[0] == 200
    redis.start()
    assert wait_for_status(server.url + "/readyz", 200)[0] == 200


def test_readyz_is_503_during_the_drain(daphne):
    """After SIGTERM, while a socket is still closing (within
    DUPLEX_SHUTDOWN_GRACE), a keep-alive connection opened before the signal
    gets 503 "draining" from /readyz and 200 from /livez; a new connection is
    refused, because the drain closes the listening port at once."""
    server = daphne(DUPLEX_SHUTDOWN_GRACE="30")
    kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    assert request(kept, "/readyz")[0] == 200
    # A client that never answers the close frame keeps the drain going.
    lingering = StalledClient(server, "/ws/site/")
    server.proc.send_signal(signal.SIGTERM)
    opcode, payload = lingering.raw_frame()
    while opcode != CLOSE:
        opcode, payload = lingering.raw_frame()
    assert int.from_bytes(payload[:2], "big") == 1012  # the drain has begun

    status, body = request(kept, "/readyz")
    assert status == 503 and body["status"] == "draining", body
    assert body["failing"] == ["draining"]
    assert request(kept, "/livez") == (200, {"status": "ok"})
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
    assert server.proc.poll() is None, "still draining: the socket has not closed"
    kept.close()
    lingering.sock.close()
    assert server.proc.wait(20) == 0


def test_probes_on_the_daphne_port_are_not_redirected_to_https(daphne):
    """In production (DEBUG=0) every page over plain HTTP is redirected to
    HTTPS; the probes a supervisor or kubelet sends to the daphne port are not."""
    server = daphne(DEBUG="0", SECRET_KEY=SECRET, ALLOWED_HOSTS="127.0.0.1")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/accounts/login/")
    redirected = conn.getresponse()
    redirected.read()
    assert redirected.status == 301  # what a probe would get without the exemption
    for path in ("/livez", "/readyz", "/healthz"):
        assert request(conn, path)[0] == 200, path
    conn.close()


def nginx_get(site, path: str) -> int:
    context = ssl.create_default_context(cafile=str(site.cert))
    context.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", site.port, context=context)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_nginx_keeps_its_upstreams_while_readyz_fails(
    private_redis, live_database_url, redis_prefix, tmp_path
):
    """Through nginx, a load balancer polling /readyz during a Redis outage gets
    503, and nginx does not count that against its daphne processes: /livez and
    pages through nginx still answer, instead of 502 "no live upstreams"."""
    redis = private_redis()
    site = Topology(live_database_url, redis.url, redis_prefix, tmp_path)
    try:
        site.start()
        assert nginx_get(site, "/readyz") == 200
        redis.stop()
        for _poll in range(4):
            assert nginx_get(site, "/readyz") == 503
        assert nginx_get(site, "/livez") == 200
        assert nginx_get(site, "/accounts/login/") == 200
    finally:
        site.stop()
