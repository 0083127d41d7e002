"""What every JSON endpoint shares: refusals as JSON, body parsing, one handler per method."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from mediahub import ratelimit
from mediahub.errors import STORAGE_DOWN, STORAGE_ERRORS, RateLimited, Refusal
from mediahub.http import owner_id
from uploads.filetypes import human_size

log = logging.getLogger(__name__)


def errors(http_status: int, **fields: str) -> JsonResponse:
    return JsonResponse({"errors": {name: [message] for name, message in fields.items()}}, status=http_status)


def form_errors(form) -> JsonResponse:
    return JsonResponse({"errors": {name: list(messages) for name, messages in form.errors.items()}}, status=400)


def refusal(exc: Refusal) -> JsonResponse:
    """A domain refusal as JSON; a rate limit says when to come back (Retry-After, seconds)."""
    response = errors(exc.http_status, **{exc.field: exc.message})
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def api_view(methods: dict[str, Callable]) -> Callable:
    """One URL, a handler per method; JSON errors for auth, our refusals and storage outages."""

    if "GET" in methods:
        methods = {**methods, "HEAD": methods["GET"]}  # Django strips the body of a HEAD answer

    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        handler = methods.get(request.method)
        if handler is None:
            response = errors(405, method=f"{request.method} is not allowed here.")
            response["Allow"] = ", ".join(methods)
            return response
        if not request.user.is_authenticated:
            return errors(401, auth="Sign in first.")
        try:
            ratelimit.limit("api", owner_id(request))
            return handler(request, **kwargs)
        except Refusal as exc:
            return refusal(exc)
        except STORAGE_ERRORS:
            log.exception("storage call failed")
            return errors(503, storage=STORAGE_DOWN)

    return view


def json_body(handler: Callable) -> Callable:
    """Parse the JSON object body, or answer 400 saying why."""

    @wraps(handler)
    def wrapper(request: HttpRequest, **kwargs) -> HttpResponse:
        try:
            raw = request.body
        except RequestDataTooBig:
            limit = human_size(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
            return errors(400, body=f"The body is larger than {limit}, the most this API reads.")
        try:
            body = json.loads(raw or b"null")
            # JSON may escape lone surrogates (\ud800) that are not text: refuse them here, once for every field.
            json.dumps(body, ensure_ascii=False).encode()
        except (ValueError, RecursionError):
            return errors(400, body="The body is not valid JSON text.")
        if not isinstance(body, dict):
            return errors(400, body="The body must be a JSON object.")
        return handler(request, body, **kwargs)

    return wrapper
