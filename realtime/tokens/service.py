"""Personal access tokens: create, revoke, and authenticate a handshake's token.

A token is ``dpx_`` and 43 URL-safe base64 characters (32 random bytes), so a
leaked one is recognisable (secret scanners match the prefix) and guessing one
is hopeless. Only its sha256 is stored: a database dump holds no usable token.
"""

import hashlib
import re
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from realtime.tokens.models import AccessToken

PREFIX = "dpx_"
TOKEN_RE = re.compile(r"dpx_[A-Za-z0-9_-]{43}")
HINT_LENGTH = 8
MAX_TOKENS = 50  # active tokens per user
# last_used_at is written at most this often per token, not on every handshake.
LAST_USED_EVERY = timedelta(minutes=1)


class TokenRefused(Exception):
    """Why a handshake's token authenticates no one; the message never holds it."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def create_token(*, user, name: str) -> tuple[AccessToken, str]:
    """Make a token named ``name``; returns the row and the secret, shown once."""
    name = name.strip()
    if not name or len(name) > 64:
        raise ValueError(_("A token needs a name of 1 to 64 characters."))
    with transaction.atomic():
        active = AccessToken.objects.select_for_update().filter(
            user=user, revoked_at=None
        )
        if len(active) >= MAX_TOKENS:
            raise ValueError(
                _("At most %(count)d active tokens; revoke one first.")
                % {"count": MAX_TOKENS}
            )
        secret = PREFIX + secrets.token_urlsafe(32)
        row = AccessToken.objects.create(
            user=user, name=name, digest=digest(secret), hint=secret[:HINT_LENGTH]
        )
    return row, secret


def revoke_token(*, user, token_id: int) -> bool:
    """Revoke one of ``user``'s tokens; False if it is not theirs or already gone."""
    updated = AccessToken.objects.filter(
        pk=token_id, user=user, revoked_at=None
    ).update(revoked_at=timezone.now())
    return updated == 1


def bearer_token(authorization: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` value."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not TOKEN_RE.fullmatch(token):
        raise TokenRefused("malformed")
    return token


def authenticate(authorization: str):
    """The active user an ``Authorization`` header's token belongs to.

    Raises ``TokenRefused`` ("malformed", "unknown", "revoked", "inactive").
    """
    token = bearer_token(authorization)
    row = (
        AccessToken.objects.select_related("user").filter(digest=digest(token)).first()
    )
    if row is None:
        raise TokenRefused("unknown")
    if row.revoked_at is not None:
        raise TokenRefused("revoked")
    if not row.user.is_active:
        raise TokenRefused("inactive")
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        AccessToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
