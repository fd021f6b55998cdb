"""Django admin for every feature, one module per feature.

Admin actions that change what live clients see publish through
``realtime.fanout`` after commit, like every other writer.
"""

from realtime.admin import chat, game, notifications, quotes, scores  # noqa: F401
