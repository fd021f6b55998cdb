"""Duplex's models, one module per feature, all in the ``realtime`` app."""

from realtime.models.chat import Ban, Message, Mute, Room, RoomEvent  # noqa: F401
