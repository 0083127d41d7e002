"""The JSON API of albums: the same services and rules as the pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from albums import services
from albums.forms import AlbumForm
from albums.models import Album
from mediahub.api import api_view, errors, form_errors, json_body
from mediahub.http import owner_id
from uploads.api import item_json


def album_json(album: Album) -> dict:
    return {
        "id": album.id,
        "name": album.name,
        "description": album.description,
        "order": album.order,
        "coverId": album.cover_id,
        "itemCount": int(album.item_count),
        "createdAt": album.created_at.isoformat(),
        "updatedAt": album.updated_at.isoformat(),
    }


def listing(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"albums": [album_json(a) for a in services.albums_for_owner(owner_id(request))]})


@json_body
def create(request: HttpRequest, body: dict) -> JsonResponse:
    form = AlbumForm(body)
    if not form.is_valid():
        return form_errors(form)
    return JsonResponse(album_json(services.album_create(owner_id=owner_id(request), **form.cleaned_data)), status=201)


def detail(request: HttpRequest, album_id: str) -> JsonResponse:
    return JsonResponse(album_json(services.get_album(owner_id=owner_id(request), album_id=album_id)))


@json_body
def update(request: HttpRequest, body: dict, album_id: str) -> JsonResponse:
    current = services.get_album(owner_id=owner_id(request), album_id=album_id)
    cover = body.pop("coverId", None)
    if cover is not None and not isinstance(cover, str):
        return errors(400, coverId="Give the id of an item in the album.")
    form = AlbumForm({"name": current.name, "description": current.description, "order": current.order, **body})
    if not form.is_valid():
        return form_errors(form)
    if cover is not None:  # checked before anything is written: a refusal leaves the album as it was
        services.choose_cover(owner_id=owner_id(request), album_id=album_id, media_id=cover)
    album = services.album_update(owner_id=owner_id(request), album_id=album_id, **form.cleaned_data)
    return JsonResponse(album_json(album))


def delete(request: HttpRequest, album_id: str) -> HttpResponse:
    services.album_delete(owner_id=owner_id(request), album_id=album_id)
    return HttpResponse(status=204)


def items(request: HttpRequest, album_id: str) -> JsonResponse:
    album = services.get_album(owner_id=owner_id(request), album_id=album_id)
    page = services.album_page(album, cursor=request.GET.get("cursor"))
    return JsonResponse({"items": [item_json(item) for item in page.items], "nextCursor": page.next_cursor})


def _ids(body: dict) -> list | JsonResponse:
    ids = body.get("ids")
    if not isinstance(ids, list):
        return errors(400, ids='Give the items\' ids as a list: {"ids": [...]}.')
    return ids


@json_body
def add(request: HttpRequest, body: dict, album_id: str) -> JsonResponse:
    ids = _ids(body)
    if isinstance(ids, JsonResponse):
        return ids
    outcome = services.add_items(owner_id=owner_id(request), album_id=album_id, ids=ids)
    return JsonResponse({"added": outcome.done, "already": outcome.unchanged})


@json_body
def remove(request: HttpRequest, body: dict, album_id: str) -> JsonResponse:
    ids = _ids(body)
    if isinstance(ids, JsonResponse):
        return ids
    outcome = services.remove_items(owner_id=owner_id(request), album_id=album_id, ids=ids)
    return JsonResponse({"removed": outcome.done, "absent": outcome.unchanged})


album_collection = api_view({"GET": listing, "POST": create})
album_item = api_view({"GET": detail, "PATCH": update, "DELETE": delete})
album_items = api_view({"GET": items, "POST": add})
album_items_remove = api_view({"POST": remove})
