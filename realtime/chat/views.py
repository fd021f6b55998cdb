"""Chat pages, the image upload, search and direct messages; the live part
is ``consumers.py``."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from realtime.chat import direct, service
from realtime.chat import search as finder
from realtime.chat.images import clean_image
from realtime.chat.models import Room
from realtime.chat.protocol import MAX_TEXT, UNREAD_CAP
from realtime.core.envelope import ErrorCode, ProtocolError
from realtime.models import RoomFollow

STATUS = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.TOO_BIG: 413,
    ErrorCode.RATE_LIMITED: 429,
}


def index(request):
    """The rooms this visitor may read; online counts arrive over /ws/chat/."""
    rooms = [
        room
        for room in Room.objects.filter(closed=False, direct_key__isnull=True)
        if service.can_read(room, request.user)
    ]
    for room in rooms:  # the socket keeps these current
        room.unread = None
        if request.user.is_authenticated:
            room.unread = service.unread_state(room, request.user.pk)["unread"]
            room.unread_text = unread_text(room.unread)
    directs = direct.direct_rooms(request.user)
    context = {"rooms": rooms, "directs": directs}
    return render(request, "realtime/chat/index.html", context)


def unread_text(count: int) -> str:
    """As chat.js writes it: "3 unread", "99+ unread" past the cap."""
    if count >= UNREAD_CAP:
        return _("99+ unread")
    return ngettext("%(count)d unread", "%(count)d unread", count) % {"count": count}


def room(request, slug):
    room = get_object_or_404(Room, slug=slug)
    if not service.can_read(room, request.user):
        raise Http404(_("No such room."))  # a private room's existence stays private
    config = {
        "slug": room.slug,
        "user": service.user_ref(request.user),
        "edit_seconds": settings.DUPLEX["CHAT_EDIT_SECONDS"],
        "max_length": room.max_length,
        "max_image_bytes": settings.DUPLEX["CHAT_IMAGE_BYTES"],
    }
    context = {"room": room, "config": config, **_room_extras(request, room)}
    return render(request, "realtime/chat/room.html", context)


def _room_extras(request, room: Room) -> dict:
    """The room's title for this reader, and its follow button's state."""
    user = request.user
    if room.is_direct:
        other = direct.partner(room, user)
        name = other.get_username() if other else _("(deleted user)")
        title = _("Direct messages with %(name)s") % {"name": name}
        return {"title": title, "partner": other, "followable": False}
    following = (
        user.is_authenticated
        and RoomFollow.objects.filter(user=user, room_slug=room.slug).exists()
    )
    # Followers hear of public rooms only (notifications.sources).
    followable = user.is_authenticated and room.is_public
    return {"title": room.name, "following": following, "followable": followable}


def _error(code: ErrorCode, detail: str) -> JsonResponse:
    body = {"type": "error", "code": str(code), "detail": detail}
    return JsonResponse(body, status=STATUS.get(code, 400))


@require_POST
def upload(request, slug):
    """Post an image (and an optional caption) to a room; CSRF-checked form POST."""
    if not request.user.is_authenticated:
        return _error(ErrorCode.UNAUTHENTICATED, _("Log in to post."))
    room = Room.objects.filter(slug=slug).first()
    if room is None or not service.can_read(room, request.user):
        # As the room page does: a private room's existence stays private.
        return _error(ErrorCode.NOT_FOUND, _("No such room."))
    problem = service.refusal(room, request.user)
    if problem is not None:
        return _error(ErrorCode.FORBIDDEN, problem[1])
    image = request.FILES.get("image")
    if image is None:
        return _error(ErrorCode.INVALID, _("Choose an image to send."))
    if image.size > settings.DUPLEX["CHAT_IMAGE_BYTES"]:
        size = settings.DUPLEX["CHAT_IMAGE_BYTES"] // 1024
        return _error(ErrorCode.TOO_BIG, _("Images are at most %d KiB.") % size)
    try:
        content, extension = clean_image(image)
    except ProtocolError as exc:
        return _error(exc.code, exc.detail)
    text = request.POST.get("text", "")[:MAX_TEXT]
    name = default_storage.save(
        f"chat/{room.slug}/{uuid.uuid4().hex}.{extension}", ContentFile(content)
    )
    try:
        message = service.post_message(room.pk, request.user, text, image=name)
    except ProtocolError as exc:
        default_storage.delete(name)
        return _error(exc.code, exc.detail)
    return JsonResponse(
        {"id": message.pk, "seq": message.seq, "image": message.image.url}
    )


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _readable(request, slug) -> Room:
    """The room, if this visitor may read it now; else 404 (not readable, so
    it does not exist for them) or 403 (banned, or the room is closed)."""
    room = Room.objects.filter(slug=slug).first()
    if room is None or not service.can_read(room, request.user):
        raise Http404(_("No such room."))
    problem = service.refusal(room, request.user)
    if problem is not None:
        raise PermissionDenied(problem[1])
    return room


def _before(request) -> int | None:
    before = request.GET.get("before", "")
    return int(before) if before.isdigit() and len(before) < 19 else None


def search(request, slug):
    """Messages of one room containing a text: a page, or JSON for the room's
    search box (``Accept: application/json``)."""
    try:
        room = _readable(request, slug)
    except (Http404, PermissionDenied) as exc:
        if not _wants_json(request):
            raise
        code = ErrorCode.NOT_FOUND if isinstance(exc, Http404) else ErrorCode.FORBIDDEN
        return _error(code, str(exc) or _("No such room."))
    raw = request.GET.get("q", "")
    context = {
        "room": room,
        "query": raw[: finder.MAX_QUERY],
        **_room_extras(request, room),
    }
    try:
        found = finder.search(room, finder.clean_query(raw), _before(request))
    except ProtocolError as exc:
        if _wants_json(request):
            return _error(exc.code, exc.detail)
        context["error"] = exc.detail if raw else ""
        return render(request, "realtime/chat/search.html", context)
    for message in found["results"]:
        message["url"] = reverse("chat-message", args=[room.slug, message["seq"]])
    if _wants_json(request):
        return JsonResponse({"type": "chat.search", **found})
    _with_times(found["results"])
    context = {**context, **found, "searched": True}
    return render(request, "realtime/chat/search.html", context)


def _with_times(messages: list[dict]) -> list[dict]:
    """Messages as the templates want them: with ``at`` as a datetime too."""
    for message in messages:
        message["posted"] = parse_datetime(message["at"])
    return messages


def message(request, slug, seq: int):
    """One message with the messages around it: where a search result leads."""
    room = _readable(request, slug)
    found = finder.around(room, seq)
    if found is None:
        raise Http404(_("That message is not in this room (any more)."))
    _with_times(found["nearby"])
    context = {"room": room, **found, **_room_extras(request, room)}
    return render(request, "realtime/chat/message.html", context)


@require_POST
def start_direct(request, username):
    """Open (made on first use) the direct room with ``username``: a POST from
    their profile page."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("profile", args=[username]))
    try:
        room = direct.start_direct(request.user, username)
    except ProtocolError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise Http404(exc.detail) from exc
        messages.error(request, exc.detail)
        return redirect("profile", username=username)
    return redirect("chat-room", slug=room.slug)
