"""Health endpoints of one process.

``/livez``: the process and its event loop answer; no dependency is checked,
so a Redis or PostgreSQL outage never makes a supervisor restart every
process, nor a load balancer drop every one at once.

``/readyz`` (and its alias ``/healthz``): is the database reachable, does the
channel layer carry a message, and is the process not draining (SIGTERM:
realtime/core/lifecycle.py)? 503 naming the failing parts otherwise.
"""

import asyncio
import logging
import time
import weakref

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from realtime.core import lifecycle

log = logging.getLogger(__name__)

LAYER_TIMEOUT = 2.0


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


class _Probe:
    """One channel per event loop and layer, reused by every check that
    answers: on the pub/sub layer a channel is a Redis subscription, not to be
    made per request. A check that times out replaces it."""

    def __init__(self, layer):
        self.layer = layer
        self.channel: str | None = None
        self.lock = asyncio.Lock()


_probes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Probe]" = (
    weakref.WeakKeyDictionary()
)


async def _check_layer() -> None:
    layer = get_channel_layer()
    loop = asyncio.get_running_loop()
    probe = _probes.get(loop)
    if probe is None or probe.layer is not layer:
        probe = _probes[loop] = _Probe(layer)
    async with probe.lock:
        if probe.channel is None:
            probe.channel = await layer.new_channel()
        token = str(time.monotonic_ns())
        await layer.send(probe.channel, {"type": "healthz.ping", "token": token})
        try:
            async with asyncio.timeout(LAYER_TIMEOUT):
                # Skip late answers to earlier checks that timed out.
                while (await layer.receive(probe.channel)).get("token") != token:
                    pass
        except BaseException:
            # A cancelled receive() makes channels-redis unsubscribe and forget
            # the channel: a ping sent to it later is lost before receive()
            # subscribes again, so every later check would time out too. The
            # next check starts on a fresh channel, subscribed before its ping.
            probe.channel = None
            raise


async def _timed(name: str, check) -> dict:
    """Run one check. The answer names the failure only: the exception's text
    (host names, ports) is for the log, not for anonymous callers."""
    started = time.perf_counter()
    try:
        await check()
    except Exception as exc:
        detail = str(exc) or "no detail"
        log.warning("healthz: %s failed: %s: %s", name, type(exc).__name__, detail)
        return {"ok": False, "error": "unavailable"}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}


@never_cache
async def livez(request):
    """200 whenever the event loop runs this view; an answer is the check."""
    return JsonResponse({"status": "ok"})


@never_cache
async def readyz(request):
    """200 when every part answers; 503 naming the parts that do not, or
    naming the drain from the moment SIGTERM begins it."""
    if lifecycle.draining():
        body = {"status": "draining", "failing": ["draining"], "checks": {}}
        return JsonResponse(body, status=503)
    checks = {
        "database": await _timed("database", sync_to_async(_check_database)),
        "channel_layer": await _timed("channel_layer", _check_layer),
    }
    failing = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "fail" if failing else "ok", "failing": failing, "checks": checks}
    return JsonResponse(body, status=503 if failing else 200)
