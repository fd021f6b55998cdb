"""Refuse HTTP input that PostgreSQL cannot store before any view reads it."""

from django.http import HttpResponseBadRequest


def _has_nul(query_dict) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values)
               for key, values in query_dict.lists())  # fmt: skip


def reject_nul(get_response):
    """A NUL in the path, the query or a form field is a 400, not a 500.

    PostgreSQL text cannot hold NUL, so ``/users/a%00/`` or ``?symbols=A%00``
    made every lookup by name raise inside the view.
    """

    def middleware(request):
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
        return get_response(request)

    return middleware
