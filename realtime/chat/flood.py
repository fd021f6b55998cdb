"""Chat flood control: one allowance per user in the shared cache, so three tabs
(or three processes) do not triple it.

The allowance is a fixed-window counter: at most CHAT_BURST posts per
CHAT_BURST / CHAT_RATE seconds. ``cache.add`` then ``cache.incr`` count a post
atomically on Redis (SET NX, INCR), so posts racing in several processes never
spend the same allowance twice. Without the shared cache (Redis down), each
process keeps a token bucket per user meanwhile.
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from realtime.core.envelope import ErrorCode, ProtocolError
from realtime.core.outages import SERVICE_ERRORS
from realtime.core.ratelimit import TokenBucket, count_in_window

log = logging.getLogger(__name__)

_local_buckets: dict[tuple[str, int], TokenBucket] = {}


class Flooded(ProtocolError):
    """Over the per-user message rate; ``abuse`` when it goes on regardless."""

    def __init__(self, detail: str, abuse: bool = False):
        super().__init__(ErrorCode.RATE_LIMITED, detail)
        self.abuse = abuse


def check_flood(user_id: int, kind: str = "chat") -> None:
    """Refuse a post over the user's rate, or during their cool-down.

    ``kind`` names the allowance: reactions ("react") have one of their own,
    of the same size, so reacting never costs a message.
    """
    try:
        _check_shared(user_id, kind)
    except SERVICE_ERRORS as exc:
        log.warning("Flood control falls back to this process (%s)", exc)
        bucket = _local_buckets.get((kind, user_id))
        if bucket is None:
            bucket = TokenBucket(
                settings.DUPLEX["CHAT_RATE"], settings.DUPLEX["CHAT_BURST"]
            )
            _local_buckets[(kind, user_id)] = bucket
        if not bucket.take():
            raise Flooded(_("Too many messages: slow down.")) from None


def _check_shared(user_id: int, kind: str) -> None:
    now = time.time()
    cool_key, abuse_key = f"{kind}:cool:{user_id}", f"{kind}:abuse:{user_id}"
    cool_down = settings.DUPLEX["CHAT_COOL_DOWN"]
    cool_until = cache.get(cool_key)
    if cool_until and cool_until > now:
        strikes = count_in_window(abuse_key, cool_down)
        wait = math.ceil(cool_until - now)
        raise Flooded(
            _("Cooling down: wait %(n)d s.") % {"n": wait},
            abuse=strikes >= settings.DUPLEX["CHAT_ABUSE"],
        )
    rate, burst = settings.DUPLEX["CHAT_RATE"], settings.DUPLEX["CHAT_BURST"]
    if count_in_window(f"{kind}:posts:{user_id}", burst / rate) > burst:
        cache.set(cool_key, now + cool_down, cool_down)
        cache.delete(abuse_key)
        raise Flooded(_("Too many messages: wait %(n)d s.") % {"n": cool_down})
