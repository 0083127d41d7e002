"""Sign-in throttling beyond axes' username+address lock-out: failed sign-ins per address and per username.

Axes locks one username at one address. Spraying many usernames from one address, or guessing one username's
password from many addresses, never trips it; these two limits (settings.RATE_LIMITS "signin-ip" and
"signin-user") do. They count failures only, so a person who types their password right is never counted.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from mediahub import ratelimit


class SignInThrottle:
    """First of AUTHENTICATION_BACKENDS: while the address or the username has used up its failures, no password
    is checked at all (RateLimited propagates out of authenticate() and the page answers 429).

    Only `authenticate`, no `get_user`: it never signs anyone in, so Django never picks it for a session."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, **credentials) -> None:
        if request is None:
            return None
        ratelimit.check_limit("signin-ip", ratelimit.client_ip(request))
        if username:
            ratelimit.check_limit("signin-user", username)
        return None


@receiver(user_login_failed)
def count_failed_sign_in(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    if request is None:
        return
    ratelimit.limit("signin-ip", ratelimit.client_ip(request))
    username = credentials.get("username")
    if username:
        ratelimit.limit("signin-user", username)
