"""Duplex's models, one module per feature, all in the ``realtime`` app."""

from realtime.models.quotes import Instrument, PricePoint, Quote, Watchlist  # noqa: F401
