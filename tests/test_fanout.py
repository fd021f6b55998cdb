"""The fan-out engine through the real ASGI stack: topics, formats, control events."""

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from realtime.core import fanout
from realtime.core.envelope import CloseCode
from realtime.core.sockets import JsonSocket


class TopicSocket(JsonSocket):
    """A minimal feature: follow the topic in the URL, obey close controls."""

    async def connect(self):
        await self.accept()
        await self.follow(self.scope["url_route"]["kwargs"]["topic"])

    async def fanout_control(self, topic, event):
        if event["type"] == "close":
            await self.close(CloseCode.ROOM_CLOSED, event["reason"])


class FollowFirstSocket(TopicSocket):
    """Follow before accepting, as a storm-proof feature does."""

    async def connect(self):
        await self.follow(self.scope["url_route"]["kwargs"]["topic"])
        await self.accept()


class LineSocket(TopicSocket):
    wire_format = "test.line"


fanout.register_format(
    "test.line", lambda e: f"{e['who']}: {e['text']}" if "who" in e else None
)
app = URLRouter(
    [
        path("t/<topic>/", TopicSocket.as_asgi()),
        path("l/<topic>/", LineSocket.as_asgi()),
        path("f/<topic>/", FollowFirstSocket.as_asgi()),
    ]
)


async def open_socket(path):
    communicator = WebsocketCommunicator(app, path)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_publish_reaches_every_follower_of_the_topic_only():
    """Two followers of a topic get the event; a follower of another topic does not."""
    a, b, other = [await open_socket(p) for p in ("/t/news/", "/t/news/", "/t/sport/")]
    await fanout.apublish("news", {"type": "news.item", "n": 1})
    assert await a.receive_json_from() == {"type": "news.item", "n": 1}
    assert await b.receive_json_from() == {"type": "news.item", "n": 1}
    assert await other.receive_nothing()
    for communicator in (a, b, other):
        await communicator.disconnect()


async def test_a_process_joins_the_layer_group_once_per_topic():
    """Many local followers of one topic cost one group membership for the process."""
    sockets = [await open_socket("/t/busy/") for _ in range(5)]
    hub = fanout.get_hub()
    assert hub.local_count("busy") == 5
    layer = hub.layer
    assert list(layer.groups["fanout.busy"]) == [hub.channel]
    for communicator in sockets:
        await communicator.disconnect()
    assert hub.local_count("busy") == 0
    assert "fanout.busy" not in layer.groups


async def test_events_arrive_in_publish_order():
    """A burst of publishes arrives complete and in order."""
    communicator = await open_socket("/t/burst/")
    for n in range(200):
        await fanout.apublish("burst", {"type": "burst.n", "n": n})
    received = [(await communicator.receive_json_from())["n"] for _ in range(200)]
    assert received == list(range(200))
    await communicator.disconnect()


async def test_other_wire_formats_are_rendered_and_filtered():
    """A plain-text follower gets its own rendering, minus events it cannot show."""
    line = await open_socket("/l/room/")
    await fanout.apublish("room", {"type": "room.typing", "user": "ann"})
    await fanout.apublish("room", {"type": "room.msg", "who": "ann", "text": "你好"})
    assert await line.receive_from() == "ann: 你好"
    assert await line.receive_nothing()
    await line.disconnect()


async def test_control_events_reach_consumers_not_sockets():
    """A control event runs the consumer's hook (here: close with a reason)."""
    communicator = await open_socket("/t/closing/")
    await fanout.apublish_control(
        "closing", {"type": "close", "reason": "closed by admin"}
    )
    assert await communicator.receive_output(1) == {
        "type": "websocket.close",
        "code": CloseCode.ROOM_CLOSED,
        "reason": "closed by admin",
    }


async def test_bad_frames_get_error_frames_and_the_socket_stays_open():
    """Malformed JSON, a non-object, no type, an unknown type: each an error frame."""
    communicator = await open_socket("/t/errors/")
    for text, code in [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"no": "type"}', "bad_frame"),
        ('{"type": "nope"}', "unknown_type"),
        ('{"type": "__init__"}', "unknown_type"),
        ("NaN", "bad_json"),
    ]:
        await communicator.send_to(text_data=text)
        frame = await communicator.receive_json_from()
        assert (frame["type"], frame["code"]) == ("error", code)
    await communicator.send_to(text_data='{"type": "ping"}')
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


async def test_repeated_abuse_closes_with_1008(settings):
    """Past the strike limit the socket closes with 1008 (policy violation)."""
    settings.DUPLEX = {**settings.DUPLEX, "MAX_STRIKES": 3}
    communicator = await open_socket("/t/abuse/")
    for _ in range(3):
        await communicator.send_to(text_data="junk")
        assert (await communicator.receive_json_from())["code"] == "bad_json"
    await communicator.send_to(text_data="junk")
    assert await communicator.receive_output(1) == {
        "type": "websocket.close",
        "code": CloseCode.POLICY_VIOLATION,
    }


async def test_a_flood_is_rate_limited(settings):
    """Past the token bucket's burst, frames get rate_limited errors."""
    settings.DUPLEX = {**settings.DUPLEX, "FRAME_RATE": 1, "FRAME_BURST": 5}
    communicator = await open_socket("/t/flood/")
    for _ in range(6):
        await communicator.send_to(text_data='{"type": "ping"}')
    replies = [await communicator.receive_json_from() for _ in range(6)]
    assert replies[:5] == [{"type": "pong"}] * 5
    assert replies[5]["code"] == "rate_limited"
    await communicator.disconnect()


async def test_followers_arriving_together_cost_one_layer_join():
    """Sockets that follow a new topic at once share one group_add, and each is
    subscribed when its handshake completes (a connect storm's many joins)."""
    import asyncio

    hub = fanout.get_hub()
    await hub._start()
    calls = []
    real_add = hub.layer.group_add

    async def slow_add(group, channel):
        calls.append(group)
        await asyncio.sleep(0.05)  # in flight while the others arrive
        await real_add(group, channel)

    hub.layer.group_add = slow_add
    sockets = await asyncio.gather(*(open_socket("/f/storm/") for _ in range(20)))
    assert calls == ["fanout.storm"]
    await fanout.apublish("storm", {"type": "storm.hi"})
    for communicator in sockets:
        assert await communicator.receive_json_from() == {"type": "storm.hi"}
        await communicator.disconnect()


async def test_a_failed_layer_join_is_retried():
    """When the layer refuses a join (Redis down, pool exhausted) the socket still
    opens, and the hub retries in the background until publishes reach it."""
    hub = fanout.get_hub()
    await hub._start()
    real_add = hub.layer.group_add
    failures = []

    async def flaky_add(group, channel):
        if not failures:
            failures.append(group)
            raise ConnectionError("Too many connections")
        await real_add(group, channel)

    hub.layer.group_add = flaky_add
    communicator = await open_socket("/t/flaky/")
    assert failures == ["fanout.flaky"]
    for _ in range(50):  # the rejoin loop retries within a second or so
        if "flaky" in hub.joined:
            break
        await communicator.receive_nothing(0.1)
    await fanout.apublish("flaky", {"type": "flaky.back"})
    assert await communicator.receive_json_from() == {"type": "flaky.back"}
    await communicator.disconnect()


async def test_a_gap_replay_keeps_the_stored_order():
    """Frames replayed after a gap go out in the order the store gives them,
    ahead of live frames that arrived during the replay, without duplicates."""
    import asyncio

    from realtime.core.fanout import Outbox

    sent = []

    async def send(message):
        sent.append(message["text"])

    outbox = Outbox({}, send)
    outbox.start_stream("room", floor=0)

    async def replay(topic, after_seq):
        outbox.put_text('"live during replay"')
        await asyncio.sleep(0)
        for seq in range(after_seq + 1, 6):
            outbox.put_replayed(topic, seq, f'"seq {seq}"')
        outbox.put_replayed(topic, 3, '"seq 3 again"')

    outbox.on_gap = replay
    outbox.gaps.add("room")
    outbox.start_replay()
    for _ in range(10):
        await asyncio.sleep(0.01)
    assert sent == [f'"seq {n}"' for n in range(1, 6)] + ['"live during replay"']
    outbox.close()


async def test_a_backlog_of_layer_messages_lets_the_process_serve_others(monkeypatch):
    """Messages the layer has queued (a burst, or a room's messages waiting
    while the process was busy) come out of its queue without a pause: the
    hub must still give the event loop back between them, or handshakes,
    client frames and a SIGTERM wait until the whole backlog is written."""
    import asyncio

    from channels.layers import get_channel_layer

    from realtime.core.fanout import hub as hub_module
    from realtime.core.fanout.publish import layer_message

    # The hub yields once it has held the loop this long; at 0 it yields
    # after every message, which makes the test exact.
    monkeypatch.setattr(hub_module, "HOLD", 0.0, raising=False)
    follower = await open_socket("/t/burst/")
    hub = hub_module.get_hub()
    before = hub.delivered
    # What the pub/sub layer's reader does while the process is busy: queue
    # the process' messages (asyncio.Queue.put on an open queue never waits).
    layer = get_channel_layer()
    for n in range(200):
        message = layer_message("burst", {"type": "burst.item", "n": n}, None)
        await layer.send(hub.channel, message)
    seen = []

    async def bystander():  # ready right after the hub: a handshake, a frame
        seen.append(hub.delivered - before)

    await asyncio.wait_for(asyncio.ensure_future(bystander()), 5)
    for _ in range(500):  # the rest of the backlog
        if hub.delivered - before == 200:
            break
        await asyncio.sleep(0.01)
    assert hub.delivered - before == 200
    assert seen[0] < 200, "the hub held the loop for the whole backlog"
    assert await follower.receive_json_from() == {"type": "burst.item", "n": 0}
    await follower.disconnect()
