"""A test-only ASGI app for the Outbox slow-socket paths under a real daphne.

``/slow/<topic>/`` follows a topic (sequenced from 0) and replays gaps from
STORE; ``/control/`` publishes bursts and reports what the hub holds for each
follower, so a test can see memory stay bounded while a client stops reading.
"""

import json

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

django_app = get_asgi_application()

from realtime.core import fanout  # noqa: E402
from realtime.core.envelope import encode  # noqa: E402
from realtime.core.sockets import JsonSocket  # noqa: E402
from realtime.core.transport import DaphneSocketMiddleware  # noqa: E402

# topic -> every sequenced event published, as the feature's database would keep it
STORE: dict[str, list[dict]] = {}


class SlowFollower(JsonSocket):
    """Follow the topic in the URL; replay a gap from STORE like chat does from SQL."""

    async def connect(self):
        self.topic = self.scope["url_route"]["kwargs"]["topic"]
        await self.accept()
        self.outbox.start_stream(self.topic, floor=0)
        await self.follow(self.topic)

    async def fanout_gap(self, topic, after_seq):
        for event in STORE.get(topic, []):
            if event["seq"] > after_seq:
                self.outbox.put_replayed(topic, event["seq"], encode(event))


class Control(JsonSocket):
    """Publish bursts and report the followers' outboxes."""

    def handlers(self):
        return {"burst": self.on_burst, "stats": self.on_stats}

    async def on_burst(self, frame):
        topic, pad = frame["topic"], "x" * frame["size"]
        for n in range(frame["count"]):
            if frame["kind"] == "keyed":
                await fanout.apublish(topic, {"type": "t", "n": n, "pad": pad}, key="k")
            else:
                event = {"type": "t", "seq": n + 1, "pad": pad}
                STORE.setdefault(topic, []).append(event)
                await fanout.apublish(topic, event)
        await self.send_json({"type": "burst.done"})

    async def on_stats(self, frame):
        hub = fanout.get_hub()
        outboxes = []
        for outbox in hub.topics.get(frame["topic"], ()):
            latest = {k: json.loads(f.text)["n"] for k, f in outbox.latest.items()}
            outboxes.append(
                {
                    "queued": len(outbox.queue),
                    "held": sum(outbox.held.values()),
                    "latest": latest,
                    "gaps": sorted(outbox.gaps),
                    "replaying": outbox.replaying,
                    "buffered": outbox.socket.buffered_bytes(),
                }
            )
        await self.send_json(
            {"type": "stats", "delivered": hub.delivered, "outboxes": outboxes}
        )


application = DaphneSocketMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_app,
            "websocket": URLRouter(
                [
                    path("slow/<topic>/", SlowFollower.as_asgi()),
                    path("control/", Control.as_asgi()),
                ]
            ),
        }
    )
)
