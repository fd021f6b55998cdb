"""Django admin for every feature: each feature folder has its own ``admin``.

Admin actions that change what live clients see publish through
``realtime.core.fanout`` after commit, like every other writer.
"""

from realtime.chat import admin as chat  # noqa: F401
from realtime.game import admin as game  # noqa: F401
from realtime.notifications import admin as notifications  # noqa: F401
from realtime.quotes import admin as quotes  # noqa: F401
from realtime.scores import admin as scores  # noqa: F401
from realtime.tokens import admin as tokens  # noqa: F401
