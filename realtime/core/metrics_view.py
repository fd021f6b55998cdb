"""``/metrics``: this process' metrics, for Prometheus on the same host only.

Reachable from loopback without a proxy in between (Prometheus scraping each
daphne port directly), or from anywhere with ``Authorization: Bearer
$METRICS_TOKEN`` when that variable is set. Through nginx (which adds
``X-Forwarded-For``) it is refused, and deploy/nginx/duplex.conf denies it too.
"""

import hmac
import os

from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache

from realtime.core import metrics

LOOPBACK = {"127.0.0.1", "::1"}


def _allowed(request) -> bool:
    token = os.environ.get("METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given, f"Bearer {token}")
    proxied = "X-Forwarded-For" in request.headers
    return request.META.get("REMOTE_ADDR") in LOOPBACK and not proxied


@never_cache
def metrics_view(request):
    if not _allowed(request):
        return HttpResponseForbidden("metrics are for the local Prometheus only\n")
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4")
