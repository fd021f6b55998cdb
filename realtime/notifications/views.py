"""Notification pages and the follow endpoints other pages call.

Every write is a POST with Django's CSRF token. A request that asks for JSON
(``Accept: application/json``, as ``fetch`` from the chat and quotes pages
would) gets JSON; a plain form post is redirected back (``next``).
"""

import re
from decimal import Decimal, InvalidOperation
from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from realtime.models import (
    Instrument,
    Notification,
    PriceAlert,
    Room,
    RoomFollow,
    Team,
    TeamFollow,
    UserFollow,
)
from realtime.notifications import alerts, texts
from realtime.notifications import service as notify
from realtime.notifications.models import plain_number

SYMBOL_RE = re.compile(r"[A-Z0-9][A-Z0-9.\-]{0,15}")
SLUG_RE = re.compile(r"[-a-zA-Z0-9_]{1,64}")
MAX_ALERTS = 50
PAGE_SIZE = 50


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def member(view):
    """Logged-in users only: 401 JSON for fetch, the login page for browsers."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if _wants_json(request):
            return JsonResponse({"error": "unauthenticated"}, status=401)
        return redirect_to_login(request.get_full_path())

    return wrapped


def _done(request, payload: dict, status: int = 200):
    if _wants_json(request):
        return JsonResponse(payload, status=status)
    if status >= 400:
        messages.error(request, payload.get("detail", _("That did not work.")))
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return redirect(next_url)
    return redirect("notifications-settings")


@member
def notification_list(request):
    rows = Notification.objects.filter(user=request.user).order_by("-seq")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for n in page:  # said in the reader's language, not the writer's
        n.shown_title, n.shown_body = texts.shown(n)
    return render(request, "realtime/notifications/list.html", {"page": page})


@member
def notification_settings(request):
    user = request.user
    context = {
        "teams": TeamFollow.objects.filter(user=user).select_related("team"),
        "users": UserFollow.objects.filter(follower=user).select_related("followed"),
        "rooms": RoomFollow.objects.filter(user=user).order_by("room_slug"),
        "alerts": PriceAlert.objects.filter(user=user),
        "all_teams": Team.objects.exclude(followers__user=user),
        "directions": PriceAlert.Direction.choices,
        "margin": plain_number(alerts.REARM_MARGIN * 100),
        "symbols": Instrument.objects.filter(active=True).values_list("symbol", "name"),
    }
    return render(request, "realtime/notifications/settings.html", context)


@require_POST
@member
def read_all(request):
    notify.mark_read(request.user.pk)
    return _done(request, {"ok": True})


def _follow(request, model, following: bool, **fields):
    if following:
        try:
            with transaction.atomic():
                model.objects.get_or_create(**fields)
        except IntegrityError:  # a race with another tab: already following
            pass
    else:
        model.objects.filter(**fields).delete()
    return _done(request, {"following": following})


@require_POST
@member
def follow_team(request, following: bool, pk: int | None = None):
    """``pk`` from the URL, or from the settings page's form."""
    pk = pk or request.POST.get("pk", "")
    team = get_object_or_404(Team, pk=pk if str(pk).isdigit() else 0)
    return _follow(request, TeamFollow, following, user=request.user, team=team)


@require_POST
@member
def follow_user(request, following: bool, username: str = ""):
    username = username or request.POST.get("username", "").strip()
    other = get_user_model().objects.filter(username=username).first()
    if other is None:
        detail = _("There is no user named “%(name)s”.") % {"name": username}
        return _done(request, {"error": "not_found", "detail": detail}, 404)
    if other == request.user:
        return _done(request, {"detail": _("You cannot follow yourself.")}, 400)
    return _follow(
        request, UserFollow, following, follower=request.user, followed=other
    )


@require_POST
@member
def follow_room(request, following: bool, slug: str = ""):
    slug = slug or request.POST.get("slug", "").strip()
    if not SLUG_RE.fullmatch(slug):
        return _done(request, {"detail": _("A room is named by its slug.")}, 400)
    # Unfollowing a room that has since gone is allowed; following one is not.
    if following and not Room.objects.filter(slug=slug).exists():
        detail = _("There is no room “%(slug)s”.") % {"slug": slug}
        return _done(request, {"error": "not_found", "detail": detail}, 404)
    return _follow(request, RoomFollow, following, user=request.user, room_slug=slug)


@require_POST
@member
def add_alert(request):
    """Create a price alert: symbol, direction (above/below), level."""
    symbol = request.POST.get("symbol", "").strip().upper()
    direction = request.POST.get("direction", "")
    try:
        level = Decimal(request.POST.get("level", "").strip())
    except InvalidOperation:
        level = None
    if not SYMBOL_RE.fullmatch(symbol):
        detail = _("A symbol is 1-16 letters, digits, dots or dashes.")
    elif not Instrument.objects.filter(symbol=symbol, active=True).exists():
        detail = _("There is no instrument %(symbol)s on the quotes board.") % {
            "symbol": symbol
        }
    elif direction not in PriceAlert.Direction.values:
        detail = _("The direction is above or below.")
    elif level is None or not level.is_finite() or not 0 < level < 10**10:
        detail = _("The level is a positive number.")
    elif PriceAlert.objects.filter(user=request.user).count() >= MAX_ALERTS:
        detail = _("You have too many alerts; remove one first.")
    else:
        alert, _created = PriceAlert.objects.get_or_create(
            user=request.user,
            symbol=symbol,
            direction=direction,
            level=level.quantize(Decimal("0.0001")),
        )
        return _done(request, {"alert": alert.pk, "armed": alert.armed}, 201)
    return _done(request, {"error": "invalid", "detail": detail}, 400)


@require_POST
@member
def delete_alert(request, pk: int):
    """Only one's own alerts: another user's (or a gone one) is a 404."""
    deleted, _rows = PriceAlert.objects.filter(user=request.user, pk=pk).delete()
    if not deleted:
        detail = _("That alert does not exist.")
        return _done(request, {"error": "not_found", "detail": detail}, 404)
    return _done(request, {"deleted": pk})
