"""Duplex's models, one module per feature, all in the ``realtime`` app."""
