"""client.js calms a reconnect storm: backoff that grows until a connection
proves healthy, the server's retry hint, and no endless CONNECTING."""

import socket
import threading
from urllib.parse import unquote

import pytest
from websockets.sync.server import serve

pytestmark = pytest.mark.browser


@pytest.fixture
def refusing_server():
    """A WebSocket server that accepts, then closes with the code in the path:
    ``/close/1013/busy; retry=2`` closes with 1013 and that reason."""

    def handler(ws):
        _, _, code, reason = ws.request.path.split("/", 3)
        ws.close(int(code), unquote(reason))

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
        server.shutdown()


@pytest.fixture
def silent_server():
    """A TCP server that takes connections and never answers the handshake."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept():
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"ws://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for conn in held:
        conn.close()


@pytest.fixture
def page(daphne, new_page):
    server = daphne(redis=False)
    page = new_page(server.url)
    page.goto("/")
    return page


RETRIES = """async ([url, count, options]) => {
  const retries = [];
  const s = Duplex.connect(url, Object.assign({badge: false}, options));
  s.on("socket:retry", (r) => retries.push(r));
  await new Promise((ok) => { const t = setInterval(() => {
    if (retries.length >= count) { clearInterval(t); ok(); } }, 10); });
  s.destroy();
  return retries;
}"""


def retries(page, url, count, **options):
    return page.evaluate(RETRIES, [url, count, options])


def test_accepted_then_closed_with_1013_the_delays_grow(page, refusing_server):
    """A server that accepts and closes at once (an outage) is no proof of a
    healthy connection: the attempt count, and so the backoff ceiling, grows."""
    got = retries(page, refusing_server + "/close/1013/", 6, minDelay=20, retryAfter=1)
    assert [r["attempt"] for r in got] == [1, 2, 3, 4, 5, 6]
    assert all(r["code"] == 1013 for r in got)


def test_the_servers_retry_hint_is_the_least_wait(page, refusing_server):
    """'busy; retry=2' means at least 2 s, spread up to twice that."""
    got = retries(page, refusing_server + "/close/1013/busy%3B%20retry%3D2", 1)
    assert 2000 <= got[0]["delay"] <= 4000


def test_a_restart_spreads_the_reconnects(page, refusing_server):
    """After 1012 the tabs of a whole process do not come back in one burst."""
    got = retries(page, refusing_server + "/close/1012/", 1, restartSpread=5000)
    delays = [
        retries(page, refusing_server + "/close/1012/", 1)[0]["delay"] for _ in range(8)
    ] + [got[0]["delay"]]
    assert max(delays) > 250, "spread well past the first backoff step"
    assert all(0 <= d <= 5000 for d in delays)


def test_a_restart_of_a_crowded_process_spreads_over_its_hint(page, refusing_server):
    """'server restarting; retry=20': the tabs come back over 20 s, not 5."""
    url = refusing_server + "/close/1012/server%20restarting%3B%20retry%3D20"
    delays = [retries(page, url, 1)[0]["delay"] for _ in range(8)]
    assert max(delays) > 5000, "past the default restart spread"
    assert all(0 <= d <= 20000 for d in delays)


def test_a_policy_close_is_not_retried_at_once(page, refusing_server):
    """1008 (abuse, or a client that stopped reading) waits policyDelay or more."""
    got = retries(page, refusing_server + "/close/1008/", 1, policyDelay=3000)
    assert got[0]["delay"] >= 3000


def test_a_handshake_nobody_answers_times_out_and_retries(page, silent_server):
    """A socket stuck in CONNECTING is given up after connectTimeout."""
    got = retries(page, silent_server + "/ws/", 2, connectTimeout=300, minDelay=10)
    assert [r["attempt"] for r in got] == [1, 2]
