"""Does the layer still carry the hub's messages? A heartbeat and a reconnect watch.

channels-redis never calls its ``on_disconnect`` and ``on_reconnect`` hooks
(django/channels_redis#406), and its pub/sub reader reconnects and subscribes
again by itself, silently. What was published while a process was not
subscribed (Redis down, restarting, or dropping the subscriber at its
output-buffer limit) is lost to it; in a stream that stays quiet afterwards,
no later frame shows the hole. So the hub sends itself a numbered ping
through the layer every HEARTBEAT seconds, and the layer becomes suspect when

- a ping cannot be sent (the layer is unreachable),
- a ping never comes back while a later one does (messages went missing),
- the Redis connection the layer receives on connects again (redis-py's
  connect callback; the pub/sub layer only),
- the hub's receive fails (a list-based layer).

The first ping heard after that, with every topic joined again, proves the
subscriptions hold: the hub then has each reliable stream replay from the
database (``Hub.resync``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from realtime.core.fanout.hub import Hub

log = logging.getLogger(__name__)

HEARTBEAT = 1.0  # seconds between the pings a hub sends itself
PING = "fanout.ping"


class Liveness:
    """The heartbeat of one hub, and what it concluded about the layer."""

    def __init__(self, hub: Hub):
        self.hub = hub
        self.sent = 0
        self.heard = 0
        self.suspect = False

    def lost(self, why: str) -> None:
        """The layer may have dropped messages: resync once it is heard again."""
        if not self.suspect:
            log.warning("Fan-out may have missed messages: %s", why)
        self.suspect = True

    async def run(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            if not self.hub.topics:  # with no subscriber, nothing to resync
                continue
            try:
                await self.beat()
            except Exception:  # a bug: the next beat tries again
                log.exception("Fan-out heartbeat failed")

    def watch(self) -> None:
        """Hear of every reconnect of the layer's receiving connections; called
        once a subscription made one, and on each beat."""
        for connection in _receiving_connections(self.hub.layer):
            # Kept as a weak method, once per connection however often added.
            connection.register_connect_callback(self._reconnected)

    async def beat(self) -> None:
        hub = self.hub
        self.watch()
        self.sent += 1
        try:
            await hub.layer.send(hub.channel, {"type": PING, "n": self.sent})
        except Exception as exc:
            self.lost(f"the channel layer is unreachable ({exc})")

    def heard_ping(self, n: int) -> bool:
        """Count a ping that came back; True when the hub should resync now."""
        if n <= self.heard:
            return False  # a duplicate: says nothing
        if n != self.heard + 1:
            self.lost("pings through the channel layer went missing")
        self.heard = n
        if self.suspect and not self.hub.rejoining():
            self.suspect = False
            return True
        return False

    def _reconnected(self, connection) -> None:
        self.lost("the channel layer's Redis connection was re-established")


def _receiving_connections(layer) -> list:
    """The Redis connections channels-redis' pub/sub layer receives on (one per
    shard, once it has subscribed); none for other layers."""
    loop_layer = getattr(layer, "_get_layer", None)
    if loop_layer is None:
        return []
    connections = []
    for shard in getattr(loop_layer(), "_shards", ()):
        connection = getattr(getattr(shard, "_pubsub", None), "connection", None)
        if hasattr(connection, "register_connect_callback"):
            connections.append(connection)
    return connections
