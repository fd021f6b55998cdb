"""Duplex's models, one module per feature, all in the ``realtime`` app."""

from realtime.models.game import Game, Move  # noqa: F401
