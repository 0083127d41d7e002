"""Bearer-token authentication for the JSON API: scripts send a token instead of a session and a CSRF token."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from mediahub.api import errors
from profiles import tokens
from profiles.models import ApiToken

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class ApiTokenMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization")
        if header is None or not request.path.startswith("/api/"):
            return self.get_response(request)
        token = tokens.authenticate(header)
        if token is None:
            return errors(401, auth="The API token is missing, malformed, unknown or revoked.")
        if token.scope == ApiToken.READ and request.method not in SAFE_METHODS:
            return errors(403, auth="This token is read-only.")
        request.user = token.user
        # A bearer token cannot be sent by another site's page, so CSRF protection does not apply to it.
        request._dont_enforce_csrf_checks = True
        return self.get_response(request)
