"""``/healthz``: is the database reachable, does the channel layer carry a message?"""

import asyncio
import time

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

LAYER_TIMEOUT = 2.0


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _check_layer() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()  # the hub's prefix: see Hub._start
    token = str(time.monotonic_ns())
    await layer.send(channel, {"type": "healthz.ping", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), LAYER_TIMEOUT)
    if message.get("token") != token:
        raise RuntimeError("the layer returned another message")


async def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        await check()
    except Exception as exc:
        detail = str(exc) or type(exc).__name__
        return {"ok": False, "error": f"{type(exc).__name__}: {detail}"[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}


@never_cache
async def healthz(request):
    """200 when every part answers; 503 naming the parts that do not."""
    checks = {
        "database": await _timed(sync_to_async(_check_database)),
        "channel_layer": await _timed(_check_layer),
    }
    failing = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "fail" if failing else "ok", "failing": failing, "checks": checks}
    return JsonResponse(body, status=503 if failing else 200)
