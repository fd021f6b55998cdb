"""Refuse HTTP input that PostgreSQL cannot store before any view reads it."""

from asgiref.sync import iscoroutinefunction
from django.http import HttpResponseBadRequest
from django.utils.decorators import sync_and_async_middleware


def _has_nul(query_dict) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values)
               for key, values in query_dict.lists())  # fmt: skip


def _refusal(request):
    form = request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    )
    if (
        "\x00" in request.path
        or _has_nul(request.GET)
        or (form and _has_nul(request.POST))
    ):
        return HttpResponseBadRequest("NUL characters are not allowed.")
    return None


@sync_and_async_middleware
def reject_nul(get_response):
    """A NUL in the path, the query or a form field is a 400, not a 500.

    PostgreSQL text cannot hold NUL, so ``/users/a%00/`` or ``?symbols=A%00``
    made every lookup by name raise inside the view. Async-capable: a sync-only
    middleware would run every async view (the long-poll) in a thread of its
    own for as long as it waits.
    """
    if iscoroutinefunction(get_response):

        async def middleware(request):
            return _refusal(request) or await get_response(request)

    else:

        def middleware(request):
            return _refusal(request) or get_response(request)

    return middleware
