"""``/metrics``: Prometheus text for the local scraper, refused to everyone else."""

import pytest

from realtime.core import metrics


@pytest.fixture
def scraped(client):
    def get(**headers):
        return client.get("/metrics", REMOTE_ADDR="127.0.0.1", headers=headers)

    return get


def test_metrics_render_counters_and_histograms(scraped):
    """Counters and a histogram appear with labels, cumulative buckets, sum, count."""
    metrics.errors_total.inc("chat", "bad_json")
    metrics.delivery_latency.observe(0.003)
    metrics.delivery_latency.observe(0.2)
    response = scraped()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    body = response.content.decode()
    assert 'duplex_ws_errors_total{endpoint="chat",code="bad_json"}' in body
    assert 'duplex_fanout_delivery_seconds_bucket{le="0.005"}' in body
    assert "# TYPE duplex_fanout_delivery_seconds histogram" in body
    buckets = [
        float(line.split()[-1])
        for line in body.splitlines()
        if line.startswith("duplex_fanout_delivery_seconds_bucket")
    ]
    assert buckets == sorted(buckets)  # cumulative


def test_metrics_refused_through_the_proxy_or_from_afar(client, scraped):
    """A request relayed by nginx, or from another address, gets 403."""
    assert scraped(X_Forwarded_For="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403


def test_metrics_token_opens_them_to_a_remote_scraper(client, monkeypatch):
    """With METRICS_TOKEN set, only the bearer of the token may read them."""
    monkeypatch.setenv("METRICS_TOKEN", "s3cret")
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", **remote).status_code == 403
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"}, **remote)
    assert wrong.status_code == 403
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret"}, **remote)
    assert right.status_code == 200


def test_endpoint_labels_stay_few():
    """Room slugs and ids never become label values (bounded cardinality)."""
    assert metrics.endpoint_of("/ws/chat/some-room/") == "chat"
    assert metrics.endpoint_of("/ws/game/42/") == "game"
    assert metrics.endpoint_of("/echo") == "echo"


def test_metrics_render_labels_of_mixed_types():
    """Label values of different types (a code as int, None or text) never
    make rendering raise."""
    counter = metrics.Counter("duplex_test_mixed_total", "Mixed labels.", ("code",))
    try:
        for code in (1000, None, "4009", 1000):
            counter.inc(code)
        lines = counter.render()
    finally:
        metrics._registry.pop("duplex_test_mixed_total")
    assert 'duplex_test_mixed_total{code="1000"} 2' in lines
    assert 'duplex_test_mixed_total{code="None"} 1' in lines
