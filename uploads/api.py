"""The JSON API for scripts and apps: the same services and rules as the pages."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps

from botocore.exceptions import BotoCoreError, ClientError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from pynamodb.exceptions import PynamoDBException

from uploads import selectors, services
from uploads.forms import MediaFieldsForm, UploadRequestForm
from uploads.models import MediaItem, Status

log = logging.getLogger(__name__)


def errors(http_status: int, **fields: str) -> JsonResponse:
    return JsonResponse({"errors": {name: [message] for name, message in fields.items()}}, status=http_status)


def form_errors(form) -> JsonResponse:
    return JsonResponse({"errors": {name: list(messages) for name, messages in form.errors.items()}}, status=400)


def api_view(methods: dict[str, Callable]) -> Callable:
    """One URL, a handler per method; JSON errors for auth, bad bodies, our refusals and AWS outages."""

    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        handler = methods.get(request.method)
        if handler is None:
            response = errors(405, method=f"{request.method} is not allowed here.")
            response["Allow"] = ", ".join(methods)
            return response
        if not request.user.is_authenticated:
            return errors(401, auth="Sign in first.")
        try:
            return handler(request, **kwargs)
        except services.NotFound as exc:
            return errors(404, id=exc.message)
        except services.Conflict as exc:
            return errors(409, status=exc.message)
        except selectors.BadCursor as exc:
            return errors(400, cursor=str(exc))
        except (ClientError, BotoCoreError, PynamoDBException):
            log.exception("storage call failed")
            return errors(503, storage="Storage is unavailable right now; please try again in a moment.")

    return view


def json_body(handler: Callable) -> Callable:
    """Parse the JSON object body, or answer 400 saying why."""

    @wraps(handler)
    def wrapper(request: HttpRequest, **kwargs) -> HttpResponse:
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return errors(400, body="The body is not valid JSON.")
        if not isinstance(body, dict):
            return errors(400, body="The body must be a JSON object.")
        return handler(request, body, **kwargs)

    return wrapper


def item_json(item: MediaItem) -> dict:
    return {
        "id": item.id,
        "name": item.name,
        "caption": item.caption,
        "fileName": item.file_name,
        "contentType": item.detected_type or item.declared_type,
        "size": item.size,
        "status": item.status,
        "reason": item.reason,
        "createdAt": item.created_at.isoformat(),
        "uploadedAt": item.uploaded_at.isoformat() if item.uploaded_at else None,
        "width": item.width,
        "height": item.height,
        "animated": item.animated,
        "downloads": item.downloads,
        "renditions": selectors.rendition_urls(item),
        "downloadUrl": reverse("media-download", args=[item.id]),
    }


def owner(request: HttpRequest) -> str:
    return str(request.user.pk)


@json_body
def create(request: HttpRequest, body: dict) -> JsonResponse:
    form = UploadRequestForm(body)
    if not form.is_valid():
        return form_errors(form)
    data = form.cleaned_data
    ticket = services.media_create(
        owner_id=owner(request),
        name=data["name"],
        caption=data["caption"],
        file_name=data["fileName"],
        content_type=data["contentType"],
        size=data["size"],
    )
    payload = {"id": ticket.item.id, "upload": {"url": ticket.url, "fields": ticket.fields}}
    return JsonResponse({**payload, "expiresIn": ticket.expires_in}, status=201)


def listing(request: HttpRequest) -> JsonResponse:
    items, cursor = selectors.media_page_for_owner(owner_id=owner(request), cursor=request.GET.get("cursor"))
    return JsonResponse({"items": [item_json(item) for item in items], "nextCursor": cursor})


def detail(request: HttpRequest, media_id: str) -> JsonResponse:
    return JsonResponse(item_json(services.get_owned(owner_id=owner(request), media_id=media_id)))


@json_body
def update(request: HttpRequest, body: dict, media_id: str) -> JsonResponse:
    current = services.get_owned(owner_id=owner(request), media_id=media_id)
    form = MediaFieldsForm({"name": current.name, "caption": current.caption, **body})
    if not form.is_valid():
        return form_errors(form)
    item = services.media_update(owner_id=owner(request), media_id=media_id, **form.cleaned_data)
    return JsonResponse(item_json(item))


def delete(request: HttpRequest, media_id: str) -> HttpResponse:
    services.media_delete(owner_id=owner(request), media_id=media_id)
    return HttpResponse(status=204)


def complete(request: HttpRequest, media_id: str) -> JsonResponse:
    item = services.media_complete(owner_id=owner(request), media_id=media_id)
    if item.status == Status.REJECTED:
        return JsonResponse({"errors": {"file": [item.reason]}, "item": item_json(item)}, status=422)
    return JsonResponse(item_json(item), status=202)


media_collection = api_view({"GET": listing, "POST": create})
media_item = api_view({"GET": detail, "PATCH": update, "DELETE": delete})
media_complete = api_view({"POST": complete})
