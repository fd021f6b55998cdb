"""Sign up, and logging in with password guessing throttled; logging out is
Django's own view."""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext

from realtime.core.outages import SERVICE_ERRORS
from realtime.core.ratelimit import count_in_window

log = logging.getLogger(__name__)


def signup(request):
    """Create an account and log it in."""
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        next_url = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
            return redirect(next_url)
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, which stops evaluating passwords for an account
    after LOGIN_FAILURES failures, and for a client address after
    LOGIN_ADDRESS_FAILURES, within LOGIN_WINDOW seconds of the first.

    The counters live in the cache (Redis in production, shared by every
    process; cache.add and cache.incr count atomically there). While the cache
    is unreachable, logins are not throttled rather than refused.
    """

    def clean(self):
        counters = self._counters()
        wait = _throttled_for(counters)
        if wait:
            minutes = max(1, math.ceil(wait / 60))
            message = ngettext(
                "Too many failed attempts; try again in %(minutes)d minute.",
                "Too many failed attempts; try again in %(minutes)d minutes.",
                minutes,
            )
            raise ValidationError(
                message, code="throttled", params={"minutes": minutes}
            )
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if exc.code == "invalid_login":
                _count_failure(counters)
            raise
        _forget(counters[0][0])  # the owner got in: their account's count restarts
        return cleaned

    def _counters(self) -> list[tuple[str, int]]:
        """(cache key, limit) of the account tried and of the client address."""
        duplex = settings.DUPLEX
        username = (self.data.get("username") or "").casefold()
        account = hashlib.sha256(username.encode()).hexdigest()[:32]
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        return [
            (f"login:fail:account:{account}", duplex["LOGIN_FAILURES"]),
            (f"login:fail:address:{address}", duplex["LOGIN_ADDRESS_FAILURES"]),
        ]


def _throttled_for(counters) -> float:
    """Seconds until every counter is under its limit again (0: not throttled)."""
    try:
        now, wait = time.time(), 0.0
        for key, most in counters:
            if (cache.get(key) or 0) >= most:
                wait = max(wait, (cache.get(f"{key}:until") or now) - now, 1.0)
        return wait
    except SERVICE_ERRORS as exc:
        log.warning("Login throttling is off: the cache is unreachable (%s)", exc)
        return 0.0


def _count_failure(counters) -> None:
    window = settings.DUPLEX["LOGIN_WINDOW"]
    try:
        for key, _ in counters:
            cache.add(f"{key}:until", time.time() + window, math.ceil(window))
            count_in_window(key, window)
    except SERVICE_ERRORS as exc:
        log.warning("Login failure not counted: the cache is unreachable (%s)", exc)


def _forget(key: str) -> None:
    try:
        cache.delete_many([key, f"{key}:until"])
    except SERVICE_ERRORS as exc:
        log.warning("Login counter not reset: the cache is unreachable (%s)", exc)


class LoginView(auth_views.LoginView):
    """The login page; a throttled attempt answers 429 with the form's message."""

    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "throttled"):
            response.status_code = 429
        return response
