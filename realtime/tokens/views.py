"""The tokens page: a user creates, names and revokes personal access tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from realtime.tokens import service
from realtime.tokens.models import AccessToken


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    """List the user's tokens; a POST creates one and shows its secret, once."""
    created, status = None, 200
    if request.method == "POST":
        try:
            row, secret = service.create_token(
                user=request.user, name=request.POST.get("name", "")
            )
            created = {"row": row, "secret": secret}
            status = 201
        except ValueError as problem:
            messages.error(request, str(problem))
            status = 400
    rows = AccessToken.objects.filter(user=request.user)
    context = {"tokens": rows, "created": created}
    return render(request, "realtime/tokens/list.html", context, status=status)


@login_required
@require_POST
def revoke(request, pk: int):
    """Revoke one of the user's own tokens; anyone else's is a 404."""
    if not service.revoke_token(user=request.user, token_id=pk):
        raise Http404(_("No such active token."))
    messages.success(request, _("Token revoked: it no longer opens any socket."))
    return redirect("tokens")
