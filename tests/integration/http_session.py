"""Log in through the real login form of a running server, as a browser does."""

import re
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar


class Browser:
    """A cookie-keeping HTTP client for one visitor of a live server."""

    def __init__(self, base_url: str, context=None):
        self.base = base_url
        self.jar = CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)]
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self.opener = urllib.request.build_opener(*handlers)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=10).read().decode()

    def post_form(self, path: str, fields: dict, token_from: str | None = None):
        page = self.get(token_from or path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Referer": self.base + path}
        )
        return self.opener.open(request, timeout=10)

    def log_in(self, username: str, password: str) -> str:
        """Log in; return the session cookie's value."""
        self.post_form("/accounts/login/", {"username": username, "password": password})
        session = self.cookie("sessionid")
        assert session, "the login form did not log in"
        return session

    def log_out(self) -> None:
        self.post_form("/accounts/logout/", {}, token_from="/")
