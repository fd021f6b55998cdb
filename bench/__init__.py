"""Duplex's benchmark suite: ``python -m bench`` (full) or ``python -m bench --smoke``.

It starts every server it measures on free loopback ports (Duplex on daphne,
a stock Channels ``group_send`` peer on the same stack, a minimal
``websockets`` server as the ceiling and Node's ``ws`` as a second one),
drives them with one asyncio client
(picows) and writes a table, a JSON file and a chart. docs/performance.md
explains the method and the figures.
"""
