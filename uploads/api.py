"""The JSON API for scripts and apps: the same services and rules as the pages."""

from __future__ import annotations

import hashlib
import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response

from mediahub import ratelimit
from mediahub.api import api_view, errors, form_errors, json_body
from mediahub.http import owner_id
from uploads import selectors, services, trash
from uploads.forms import (
    ChecksumLookupForm,
    MediaFieldsForm,
    PartsRequestForm,
    StatusLookupForm,
    UploadRequestForm,
)
from uploads.models import MediaItem, Status
from uploads.multipart import PART_URL_SECONDS, part_count


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
        "duration": float(item.duration) if item.duration is not None else None,
        "videoCodec": item.video_codec,
        "audioCodec": item.audio_codec,
        "frameRate": float(item.frame_rate) if item.frame_rate is not None else None,
        "rotation": int(item.rotation) if item.rotation is not None else None,
        "pages": int(item.pages) if item.pages is not None else None,
        "downloads": item.downloads,
        "sha256": item.sha256,
        "deleteAt": item.delete_at.isoformat() if item.delete_at else None,
        "favourite": item.favourite,
        "trashedAt": item.trashed_at.isoformat() if item.trashed_at else None,
        "renditions": selectors.rendition_urls(item),
        "thumbhash": item.thumbhash,
        "color": item.color,
        "downloadUrl": reverse("media-download", args=[item.id]),
    }


@json_body
def create(request: HttpRequest, body: dict) -> JsonResponse:
    form = UploadRequestForm(body)
    if not form.is_valid():
        return form_errors(form)
    ratelimit.limit("upload", owner_id(request))
    data = form.cleaned_data
    ticket = services.media_create(
        owner_id=owner_id(request),
        name=data["name"],
        caption=data["caption"],
        file_name=data["fileName"],
        content_type=data["contentType"],
        size=data["size"],
        delete_after_days=data["deleteAfterDays"],
    )
    item = ticket.item
    if ticket.multipart:
        sending = {"multipart": {"uploadId": item.upload_id, "partSize": item.part_size, "partCount": part_count(item)}}
    else:
        sending = {"upload": {"url": ticket.url, "fields": ticket.fields}}
    return JsonResponse({"id": item.id, **sending, "expiresIn": ticket.expires_in}, status=201)


def listing(request: HttpRequest) -> JsonResponse:
    if "sha256" in request.GET:
        return lookup(request)
    items, cursor = selectors.library_page(
        owner_id=owner_id(request), cursor=request.GET.get("cursor"), favourites=request.GET.get("favourites") == "1"
    )
    return JsonResponse({"items": [item_json(item) for item in items], "nextCursor": cursor})


def lookup(request: HttpRequest) -> JsonResponse:
    """The caller's items in the library with any of the given checksums: one page, no cursor."""
    form = ChecksumLookupForm(request.GET)
    if not form.is_valid():
        return form_errors(form)
    items = selectors.media_with_checksums(owner_id=owner_id(request), checksums=form.cleaned_data["sha256"])
    return JsonResponse({"items": [item_json(item) for item in items], "nextCursor": None})


def detail(request: HttpRequest, media_id: str) -> JsonResponse:
    return JsonResponse(item_json(services.get_owned(owner_id=owner_id(request), media_id=media_id)))


UNKNOWN = "unknown"  # not an item of the caller's: never one, gone, or someone else's (the three look alike)


def statuses(request: HttpRequest) -> HttpResponse:
    """Where several items are now, for the pages that follow items still processing: one BatchGet, and a 304
    (before any link is signed) when nothing changed since the answer whose ETag the caller sends back."""
    form = StatusLookupForm(request.GET)
    if not form.is_valid():
        return form_errors(form)
    ids = form.cleaned_data["ids"]
    found = selectors.media_by_ids(owner_id=owner_id(request), ids=ids)
    etag = _status_etag([found.get(media_id) or media_id for media_id in ids])
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = JsonResponse({"items": [_status_json(media_id, found.get(media_id)) for media_id in ids]})
    response["ETag"] = etag
    return response


def _status_json(media_id: str, item: MediaItem | None) -> dict:
    if item is None:
        return {"id": media_id, "status": UNKNOWN, "reason": None, "renditions": {}, "thumbhash": None, "color": None}
    return {
        "id": item.id,
        "status": item.status,
        "reason": item.reason,
        "renditions": selectors.rendition_urls(item),
        "thumbhash": item.thumbhash,
        "color": item.color,
    }


def _status_etag(answers: list[MediaItem | str]) -> str:
    """Over what the answer says, not its links: those are re-signed every few minutes and mean the same."""
    state = [
        [a.id, a.status, a.reason, sorted((a.renditions or {}).keys()), a.thumbhash, a.color]
        if isinstance(a, MediaItem)
        else [a, UNKNOWN]
        for a in answers
    ]
    return f'"{hashlib.sha256(json.dumps(state).encode()).hexdigest()[:32]}"'


@json_body
def update(request: HttpRequest, body: dict, media_id: str) -> JsonResponse:
    favourite = body.pop("favourite", None)
    if favourite is not None and not isinstance(favourite, bool):
        return errors(400, favourite="favourite must be true or false.")
    current = services.get_owned(owner_id=owner_id(request), media_id=media_id)
    form = MediaFieldsForm({"name": current.name, "caption": current.caption, **body})
    if not form.is_valid():
        return form_errors(form)
    item = current
    if body or favourite is None:
        item = services.media_update(owner_id=owner_id(request), media_id=media_id, **form.cleaned_data)
    if favourite is not None:
        item = trash.set_favourite(owner_id=owner_id(request), media_id=media_id, on=favourite)
    return JsonResponse(item_json(item))


def delete(request: HttpRequest, media_id: str) -> HttpResponse:
    """To the trash (a pending upload: for good); `?forever=1` deletes for good, whatever the state."""
    if request.GET.get("forever") == "1":
        services.media_delete(owner_id=owner_id(request), media_id=media_id)
    else:
        trash.move_to_trash(owner_id=owner_id(request), media_id=media_id)
    return HttpResponse(status=204)


def complete(request: HttpRequest, media_id: str) -> JsonResponse:
    item = services.media_complete(owner_id=owner_id(request), media_id=media_id)
    if item.status == Status.REJECTED:
        return JsonResponse({"errors": {"file": [item.reason]}, "item": item_json(item)}, status=422)
    return JsonResponse(item_json(item), status=202)


@json_body
def sign_parts(request: HttpRequest, body: dict, media_id: str) -> JsonResponse:
    form = PartsRequestForm(body)
    if not form.is_valid():
        return form_errors(form)
    signed = services.media_sign_parts(
        owner_id=owner_id(request),
        media_id=media_id,
        part_numbers=form.cleaned_data["partNumbers"],
        checksums=form.cleaned_data["checksums"],
    )
    parts = [{"partNumber": part.number, "url": part.url, "headers": part.headers} for part in signed]
    return JsonResponse({"parts": parts, "expiresIn": PART_URL_SECONDS})


def list_parts(request: HttpRequest, media_id: str) -> JsonResponse:
    item, listed = services.media_parts(owner_id=owner_id(request), media_id=media_id)
    parts = [{"partNumber": p["PartNumber"], "size": p["Size"], "etag": p["ETag"].strip('"')} for p in listed]
    return JsonResponse({"partSize": item.part_size, "partCount": part_count(item), "parts": parts})


def cancel_upload(request: HttpRequest, media_id: str) -> HttpResponse:
    services.media_cancel_upload(owner_id=owner_id(request), media_id=media_id)
    return HttpResponse(status=204)


# --- Trash, favourites, bulk (docs/trash.md) ---------------------------------------------------------------------


def trash_listing(request: HttpRequest) -> JsonResponse:
    items, cursor = selectors.trash_page(owner_id=owner_id(request), cursor=request.GET.get("cursor"))
    return JsonResponse({"items": [item_json(item) for item in items], "nextCursor": cursor})


def empty_trash(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"deleted": trash.empty_trash(owner_id(request))})


@json_body
def bulk_action(request: HttpRequest, body: dict) -> JsonResponse:
    """One action on many items: refused whole (400, 404) before anything changes, else each item's outcome."""
    ids, action = body.get("ids"), body.get("action")
    if not isinstance(ids, list) or not all(isinstance(media_id, str) for media_id in ids):
        return errors(400, ids="ids must be a list of media ids.")
    if not isinstance(action, str):
        return errors(400, action=f"action must be one of: {', '.join(trash.ACTIONS)}.")
    outcomes = trash.bulk(owner_id=owner_id(request), action=action, ids=ids)
    return JsonResponse(
        {
            "action": action,
            "done": sum(o.ok for o in outcomes),
            "failed": sum(not o.ok for o in outcomes),
            "items": [{"id": o.id, "ok": o.ok, "status": o.status, "error": o.error} for o in outcomes],
        }
    )


media_collection = api_view({"GET": listing, "POST": create})
media_statuses = api_view({"GET": statuses})
media_item = api_view({"GET": detail, "PATCH": update, "DELETE": delete})
media_complete = api_view({"POST": complete})
media_parts = api_view({"GET": list_parts, "POST": sign_parts})
media_upload = api_view({"DELETE": cancel_upload})
bulk = api_view({"POST": bulk_action})
trash_collection = api_view({"GET": trash_listing, "DELETE": empty_trash})
