"""The one way to publish, and the per-process hub that hands events to sockets.

    publish(topic, event) --layer--> one Hub per process --> each local Outbox

* ``publish``: a write goes to the database first; on commit it is published,
  one layer message per publish.
* ``hub``: one per process; a topic's group on the layer has the hubs as
  members, so a publish costs one layer message per process with subscribers.
* ``frame``: the hub encodes and frames a message once per wire format, then
  writes the same bytes to every local socket (under daphne: autobahn's
  PreparedMessage).
* ``outbox``: every frame to a socket, the consumer's own included, goes
  through its outbox, in order; it holds, conflates or drops by kind for a
  slow socket, and replays reliable streams from the store after a gap.
* ``liveness``: the hub pings itself through the layer every second; after
  a failed or missing ping, or a reconnect of the layer's Redis connection,
  every local reliable stream replays from the store (``Hub.resync``).
* Control events (``publish_control``) are not sent to sockets: each local
  subscriber's ``on_control`` hook receives them (bans, closes, kicks).
"""

from realtime.core.fanout.frame import Frame, register_format
from realtime.core.fanout.hub import Hub, get_hub, reset_hubs
from realtime.core.fanout.outbox import HIGH_WATER, MAX_PENDING, Outbox, SeqWindow
from realtime.core.fanout.publish import (
    apublish,
    apublish_control,
    check_topic,
    publish,
    publish_control,
    publish_control_on_commit,
    publish_many,
    publish_on_commit,
)

__all__ = [
    "HIGH_WATER",
    "MAX_PENDING",
    "Frame",
    "Hub",
    "Outbox",
    "SeqWindow",
    "apublish",
    "apublish_control",
    "check_topic",
    "get_hub",
    "publish",
    "publish_control",
    "publish_control_on_commit",
    "publish_many",
    "publish_on_commit",
    "register_format",
    "reset_hubs",
]
