"""``/metrics`` of a real daphne process: file descriptors, memory, event-loop
lag and handshakes in flight, as an operator's Prometheus scrapes them."""

import asyncio
import time
import urllib.request

import pytest
from websockets.asyncio.client import connect

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def scrape(server) -> dict[str, float]:
    """The process' samples: ``{"name{labels}": value}``."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


async def test_metrics_count_the_sockets_a_process_holds(daphne):
    """20 more sockets show as about 20 more open file descriptors (one each:
    the cache's Redis pool is shared, and one of its idle connections may
    close meanwhile); resident
    memory is reported; handshakes in flight show as 0 once all are answered."""
    server = daphne()
    before = await asyncio.to_thread(scrape, server)
    assert before["duplex_ws_handshakes_in_flight"] == 0
    assert before["process_resident_memory_bytes"] > 0
    assert before["process_max_fds"] >= before["process_open_fds"] > 0
    sockets = [
        await connect(server.ws_url + "/ws/site/", origin=server.origin)
        for _ in range(20)
    ]
    after = await asyncio.to_thread(scrape, server)
    assert after["process_open_fds"] >= before["process_open_fds"] + 18
    assert after['duplex_ws_connections{endpoint="site"}'] == 20
    assert after["duplex_ws_handshakes_in_flight"] == 0
    for ws in sockets:
        await ws.close()


def test_metrics_measure_event_loop_lag(daphne):
    """A periodic task measures how late the event loop wakes a sleep; its
    histogram fills while the process runs, whether or not anyone scrapes."""
    server = daphne()
    samples = scrape(server)
    assert "duplex_event_loop_lag_seconds_count" in samples
    assert 'duplex_event_loop_lag_seconds_bucket{le="+Inf"}' in samples
    deadline = time.monotonic() + 20
    while samples["duplex_event_loop_lag_seconds_count"] < 2:
        assert time.monotonic() < deadline, "the lag monitor never ran"
        time.sleep(0.5)
        samples = scrape(server)
    assert samples["duplex_event_loop_lag_seconds_sum"] >= 0
    server.stop()
    assert server.proc.returncode == 0
    assert "Task was destroyed" not in server.log()  # the monitor stops cleanly
    assert "Traceback" not in server.log()
