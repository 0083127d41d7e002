"""Personal API tokens: made, listed and revoked on the profile page; checked on every API request that bears one."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from mediahub.hashing import token_digest
from profiles.models import ApiToken

PREFIX = "mh_"
LAST_USED_PRECISION = timedelta(minutes=1)  # write "last used" at most once a minute per token


def token_create(user: User, *, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token; the plain token is returned once and never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(user=user, name=name, scope=scope, prefix=token[:10], digest=token_digest(token))
    return record, token


def token_revoke(user: User, token_id: int) -> bool:
    return bool(ApiToken.objects.filter(user=user, pk=token_id, revoked_at=None).update(revoked_at=timezone.now()))


def authenticate(header: str) -> ApiToken | None:
    """The live token named by an `Authorization: Bearer …` header, or None."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(PREFIX):
        return None
    record = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(token.strip()), revoked_at=None, user__is_active=True)
        .first()
    )
    if record is not None:
        _touch(record)
    return record


def _touch(record: ApiToken) -> None:
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
