"""Staff pages for media items. PynamoDB models are not ORM models, so these are custom admin views.

Being staff only opens the admin: each page and each button asks its own permission (uploads.MediaAccess carries them).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from pynamodb.exceptions import DoesNotExist

from uploads import selectors, services
from uploads.models import MediaItem, Status

VIEW = "uploads.view_media"
CHANGE = "uploads.change_media"
DELETE = "uploads.delete_media"


@permission_required(VIEW, raise_exception=True)
def media_list(request: HttpRequest) -> HttpResponse:
    """Newest first, filtered by status or by owner; each page is one Query on an index, never a Scan."""
    status = request.GET.get("status") or Status.READY
    username = request.GET.get("owner", "").strip()
    cursor = request.GET.get("cursor")
    try:
        if username:
            owner = User.objects.filter(username=username).first()
            items, next_cursor = (
                selectors.media_page_for_owner(owner_id=str(owner.pk), cursor=cursor) if owner else ([], None)
            )
        else:
            items, next_cursor = selectors.media_page_by_status(status=status, cursor=cursor)
    except selectors.BadCursor as exc:
        messages.error(request, str(exc))
        items, next_cursor = [], None
    owners = dict(User.objects.filter(pk__in={int(i.owner_id) for i in items}).values_list("pk", "username"))
    rows = [{"item": item, "owner": owners.get(int(item.owner_id), "(deleted user)")} for item in items]
    context = {
        **admin.site.each_context(request),
        "title": "Media items",
        "rows": rows,
        "statuses": Status.ALL,
        "status": None if username else status,
        "owner": username,
        "next_cursor": next_cursor,
    }
    return render(request, "admin/uploads/media_list.html", context)


def media_detail(request: HttpRequest, media_id: str) -> HttpResponse:
    """The item's page and its buttons at one address; each action is checked before the item is even read."""
    action = request.POST.get("action") if request.method == "POST" else None
    return ACTIONS.get(action, media_page)(request, media_id)


@permission_required(VIEW, raise_exception=True)
def media_page(request: HttpRequest, media_id: str) -> HttpResponse:
    item = _get_item(media_id)
    owner = User.objects.filter(pk=int(item.owner_id)).first()
    context = {
        **admin.site.each_context(request),
        "title": item.name,
        "item": item,
        "owner": owner,
        "renditions": selectors.rendition_urls(item, ("thumb",)),
    }
    return render(request, "admin/uploads/media_detail.html", context)


@permission_required(DELETE, raise_exception=True)
def media_delete(request: HttpRequest, media_id: str) -> HttpResponse:
    item = _get_item(media_id)
    services.delete_item(item)
    messages.success(request, f"Deleted “{item.name}” and all its files.")
    return redirect("admin-media-list")


@permission_required(CHANGE, raise_exception=True)
def media_reprocess(request: HttpRequest, media_id: str) -> HttpResponse:
    services.reprocess(_get_item(media_id))
    messages.success(request, "Processing re-queued.")
    return redirect("admin-media-detail", media_id)


ACTIONS = {"delete": media_delete, "reprocess": media_reprocess}


def _get_item(media_id: str) -> MediaItem:
    try:
        return MediaItem.get(media_id)
    except DoesNotExist:
        raise Http404("No such media item.") from None


def urls() -> list:
    return [
        path("media/", admin.site.admin_view(media_list), name="admin-media-list"),
        path("media/<str:media_id>/", admin.site.admin_view(media_detail), name="admin-media-detail"),
    ]


admin.site.index_template = "admin/mediahub_index.html"
