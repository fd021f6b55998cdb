"""A user's profile: who they are, what they said in public, and the buttons
to follow them or write to them directly."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, render

from realtime.chat import direct
from realtime.chat.selectors import public_messages_of
from realtime.models import UserFollow

RECENT = 10  # public messages shown


def profile(request, username: str):
    other = get_object_or_404(get_user_model(), username=username)
    viewer = request.user
    following = (
        viewer.is_authenticated
        and UserFollow.objects.filter(follower=viewer, followed=other).exists()
    )
    context = {
        "profile_user": other,
        "following": following,
        "followers": UserFollow.objects.filter(followed=other).count(),
        "follows": UserFollow.objects.filter(follower=other).count(),
        "recent": public_messages_of(other, RECENT),
        "direct_room": (
            direct.find_direct(viewer, other)
            if viewer.is_authenticated and viewer != other
            else None
        ),
    }
    return render(request, "realtime/profile.html", context)
