"""static/realtime/js/client.js in Chromium: queueing, refusals, backoff, staleness."""

import pytest

pytestmark = pytest.mark.browser

QUEUE = """async () => {
  const got = [];
  const s = Duplex.connect("/ws/echo/", {json: false, maxQueue: 3, badge: false});
  s.on("socket:message", (m) => got.push(m));
  for (const n of ["1", "2", "3", "4", "5"]) s.send(n);   // before the socket opens
  await new Promise((ok) => { const t = setInterval(() => {
    if (got.length >= 3) { clearInterval(t); ok(); } }, 20); });
  await new Promise((ok) => setTimeout(ok, 300));
  s.destroy();
  return got;
}"""

REFUSAL = """async () => {
  let sockets = 0, refusal = null;
  const s = Duplex.connect("/ws/notifications/", {badge: false});
  s.on("socket:connecting", () => sockets++);
  s.on("socket:refused", (r) => { refusal = r; });
  await new Promise((ok) => setTimeout(ok, 2500));
  return {sockets, refusal, state: s.state};
}"""

BACKOFF = """async () => {
  const delays = [];
  const s = Duplex.connect("ws://127.0.0.1:9/nothing/", {minDelay: 100, maxDelay: 400,
                                                         badge: false});
  s.on("socket:retry", (r) => delays.push([r.attempt, r.delay]));
  await new Promise((ok) => { const t = setInterval(() => {
    if (delays.length >= 7) { clearInterval(t); ok(); } }, 20); });
  s.destroy();
  return delays;
}"""

STALE = """async () => {
  const events = [];
  const s = Duplex.connect("/ws/site/", {heartbeat: 400, badge: false});
  s.on("socket:open", () => events.push("open"));
  s.on("socket:stale", () => events.push("stale"));
  await new Promise((ok) => { const t = setInterval(() => {
    if (events.includes("open")) { clearInterval(t); ok(); } }, 20); });
  // The network goes silent without a close: this socket's frames stop arriving.
  s.ws.onmessage = null;
  await new Promise((ok) => { const t = setInterval(() => {
    if (events.filter((e) => e === "open").length >= 2) { clearInterval(t); ok(); }
  }, 20); });
  s.destroy();
  return events;
}"""

# An error frame from the server and a socket that cannot connect at all.
ERRORS = """async () => {
  const frames = [], socketErrors = [];
  const live = Duplex.connect("/ws/site/", {badge: false});
  live.on("error", (f) => frames.push(f.code));
  live.on("socket:error", () => socketErrors.push("live"));
  live.send({type: "no.such.type"});
  const dead = Duplex.connect("ws://127.0.0.1:9/nothing/",
                              {badge: false, reconnect: false});
  dead.on("error", () => frames.push("dead"));
  dead.on("socket:error", () => socketErrors.push("dead"));
  let closed = false;
  dead.on("socket:close", () => { closed = true; });
  await new Promise((ok) => { const t = setInterval(() => {
    if (frames.includes("unknown_type") && closed) { clearInterval(t); ok(); }
  }, 20); });
  live.destroy();
  dead.destroy();
  return {frames, socketErrors};
}"""

# off() removes one listener; the others still hear the event.
OFF = """async () => {
  const heard = [];
  const s = Duplex.connect("/ws/echo/", {json: false, badge: false});
  const first = (m) => heard.push("first " + m);
  s.on("socket:message", first);
  s.on("socket:message", (m) => heard.push("second " + m));
  const secondHeard = (text) => new Promise((ok) => { const t = setInterval(() => {
    if (heard.includes("second " + text)) { clearInterval(t); ok(); } }, 20); });
  s.send("a");
  await secondHeard("a");
  s.off("socket:message", first);
  s.send("b");
  s.send("c");
  await secondHeard("c");
  s.destroy();
  return heard;
}"""


@pytest.fixture
def page(daphne, new_page):
    server = daphne()
    page = new_page(server.url)
    page.goto("/")
    return page


def test_the_send_queue_is_bounded_and_flushed_in_order_on_open(page):
    """Frames sent before open wait; past maxQueue the oldest are dropped."""
    assert page.evaluate(QUEUE) == ["3", "4", "5"]


def test_a_4xxx_close_is_a_refusal_and_is_not_retried(page):
    """An anonymous notifications socket is refused with 4001 and stays offline."""
    result = page.evaluate(REFUSAL)
    assert result["refusal"]["code"] == 4001
    assert result["sockets"] == 1 and result["state"] == "offline"


def test_reconnects_back_off_with_full_jitter_under_a_cap(page):
    """Each retry waits a random time below min(maxDelay, minDelay * 2^attempt)."""
    delays = page.evaluate(BACKOFF)
    assert [attempt for attempt, _ in delays] == list(range(1, len(delays) + 1))
    for attempt, delay in delays:
        assert 0 <= delay <= min(400, 100 * 2 ** (attempt - 1))
    assert len({round(d) for _, d in delays}) > 1  # jittered, not fixed


def test_a_silent_connection_is_declared_stale_and_replaced(page):
    """With a heartbeat, no frame for two periods means stale: reconnect."""
    assert page.evaluate(STALE)[:3] == ["open", "stale", "open"]


def test_an_error_frame_and_a_socket_error_reach_different_listeners(page):
    """on("error") hears the server's error frames only; the browser's socket
    error event goes to on("socket:error") only."""
    result = page.evaluate(ERRORS)
    assert result["frames"] == ["unknown_type"]
    assert result["socketErrors"] == ["dead"]


def test_off_removes_one_listener(page):
    assert page.evaluate(OFF) == ["first a", "second a", "second b", "second c"]
