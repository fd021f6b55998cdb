"""The language of a socket: chosen once, at the handshake, as a page's would be.

A socket's error texts are read by the person on the page, so they follow the
rules of Django's LocaleMiddleware: the language cookie, then Accept-Language,
restricted to ``settings.LANGUAGES``, else ``settings.LANGUAGE_CODE``.
"""

from types import SimpleNamespace

from django.http.cookie import parse_cookie
from django.utils import translation


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin1")
    return ""


def language_of(scope) -> str:
    """The language code a page opened with this handshake would be shown in."""
    cookies = scope.get("cookies")
    if cookies is None:  # no CookieMiddleware in front (a token client)
        cookies = parse_cookie(_header(scope, b"cookie"))
    request = SimpleNamespace(
        COOKIES=cookies,
        META={"HTTP_ACCEPT_LANGUAGE": _header(scope, b"accept-language")},
        path_info=scope.get("path", "/"),
    )
    return translation.get_language_from_request(request)
