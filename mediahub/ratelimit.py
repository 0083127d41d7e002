"""Rate limits that hold across processes and Lambda containers: fixed-window counters in DynamoDB.

A per-process cache cannot do this on Lambda, where every concurrent request may land in another container. Each
(scope, key, window) is one item; a request adds one to its count with a single conditional UpdateItem that is
refused once the count has reached the limit, so two containers can never both let the last request through.
Windows are fixed (aligned on multiples of their length): one write per request, at the price of allowing up to
twice the limit across a window boundary. A TTL attribute lets DynamoDB drop old windows.

Which address a request comes from: `client_ip`.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.models import Model

from mediahub.dynamo import condition_failed, register, table_meta
from mediahub.errors import STORAGE_ERRORS, RateLimited
from mediahub.hashing import token_digest

log = logging.getLogger(__name__)

# What each scope counts, as the refusal names it; RATE_LIMITS in settings gives each its limit and window.
SCOPES = {
    "signup": "sign-ups from your address",
    "upload": "uploads started",
    "share": "visits to shared links from your address",
    "password": "password checks",
    "signin-ip": "failed sign-ins from your address",
    "signin-user": "failed sign-ins for this account",
    "api": "API calls",
}
# A window's record outlives its window a little, so a request that read the clock just before the end still
# finds it; DynamoDB deletes expired items within a day or two, and an expired window is never read again.
KEEP_AFTER_WINDOW = 60


@register
class RateWindow(Model):
    """How many requests of one scope one caller made in one window."""

    Meta = table_meta("rate-limits")

    # "<scope>#<window start, epoch seconds>#<SHA-256 of the caller's key>": no address or username is stored.
    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    forget_at = TTLAttribute()


def client_ip(request: HttpRequest) -> str | None:
    """The address a request comes from: REMOTE_ADDR, locally and on Lambda.

    Behind API Gateway, Zappa's handler sets REMOTE_ADDR from X-Forwarded-For's second-to-last entry: the viewer
    address CloudFront appended in front of Zappa's default edge-optimized endpoint (the last entry is CloudFront's
    own). The entries before it are whatever the client sent, so X-Forwarded-For's first hop is never trusted here:
    an attacker would rotate it to escape every per-address limit. (A regional endpoint without CloudFront would
    make the second-to-last entry client-chosen too; use the edge endpoint, as zappa_settings.json does.)
    """
    return request.META.get("REMOTE_ADDR") or None  # None, not a made-up name: axes stores it in an address column


def _window_key(scope: str, key: str | None, start: int) -> str:
    # Requests without an address (none arrive so from API Gateway or runserver) share one window.
    return f"{scope}#{start}#{token_digest(key or 'no-address')[:32]}"


def _human(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


def _refusal(scope: str, limit: int, per_seconds: int, retry_after: int) -> RateLimited:
    message = (
        f"Too many {SCOPES[scope]}: the limit is {limit} per {_human(per_seconds)}. Try again in {_human(retry_after)}."
    )
    return RateLimited(message, retry_after)


def hit(scope: str, key: str | None, *, limit: int, per_seconds: int, now: float | None = None) -> int:
    """Count one request of `scope` by `key`, or raise RateLimited if the window already holds `limit`.

    Returns the window's count after this request. If the table cannot be reached the request is let through (and
    the fault logged): a limiter outage must not take sign-in and uploads down with it, and nothing it guards is
    unsafe to allow for a moment, since each guarded action still checks passwords, quotas and tokens itself.
    """
    now = int(now if now is not None else time.time())
    start = now - now % per_seconds
    end = start + per_seconds
    window = RateWindow(_window_key(scope, key, start))
    # No existence condition here: a window's first request is meant to create its record (and the TTL removes
    # it); the condition that matters is on the count.
    condition = RateWindow.hits.does_not_exist() | (RateWindow.hits < limit)
    actions = [RateWindow.hits.add(1), RateWindow.forget_at.set(datetime.fromtimestamp(end + KEEP_AFTER_WINDOW, UTC))]
    try:
        window.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if condition_failed(exc):
            raise _refusal(scope, limit, per_seconds, end - now) from None
        log.exception("rate limit %s not counted: its table failed", scope)
        return 0
    except STORAGE_ERRORS:
        log.exception("rate limit %s not counted: its table failed", scope)
        return 0
    return window.hits


def check(scope: str, key: str | None, *, limit: int, per_seconds: int, now: float | None = None) -> None:
    """Raise RateLimited if `key`'s window of `scope` is full, without counting anything (one GetItem)."""
    now = int(now if now is not None else time.time())
    start = now - now % per_seconds
    try:
        window = RateWindow.get(_window_key(scope, key, start), consistent_read=True)
    except DoesNotExist:
        return
    except STORAGE_ERRORS:
        log.exception("rate limit %s not checked: its table failed", scope)
        return
    if window.hits >= limit:
        raise _refusal(scope, limit, per_seconds, start + per_seconds - now)


def limit(scope: str, key: str | None) -> None:
    """`hit` with the scope's limit from settings.RATE_LIMITS (None there: no limit)."""
    configured = settings.RATE_LIMITS[scope]
    if configured is not None:
        hit(scope, key, limit=configured[0], per_seconds=configured[1])


def check_limit(scope: str, key: str | None) -> None:
    """`check` with the scope's limit from settings.RATE_LIMITS (None there: no limit)."""
    configured = settings.RATE_LIMITS[scope]
    if configured is not None:
        check(scope, key, limit=configured[0], per_seconds=configured[1])
