"""Chat pages and the image upload; the live part is ``consumers/chat.py``."""

import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from realtime.chat import service
from realtime.chat.images import clean_image
from realtime.chat.models import Room
from realtime.chat.protocol import MAX_TEXT, UNREAD_CAP
from realtime.core.envelope import ErrorCode, ProtocolError

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
        for room in Room.objects.filter(closed=False)
        if service.can_read(room, request.user)
    ]
    for room in rooms:  # the socket keeps these current
        room.unread = None
        if request.user.is_authenticated:
            room.unread = service.unread_state(room, request.user.pk)["unread"]
            room.unread_text = unread_text(room.unread)
    return render(request, "realtime/chat/index.html", {"rooms": rooms})


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
    return render(request, "realtime/chat/room.html", {"room": room, "config": config})


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
