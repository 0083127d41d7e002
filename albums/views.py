"""Pages: the album list, an album, its settings and links, adding from an item or a selection, shared albums."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from albums import services, sharing
from albums.forms import NEW_ALBUM, AlbumForm, AlbumShareForm
from albums.models import Order
from mediahub import ratelimit
from mediahub.errors import NotFound, Refusal
from mediahub.http import owner_id
from uploads import selectors
from uploads.models import utcnow
from uploads.views import media_page


def cards(items: list) -> list[dict]:
    return [{"item": item, "renditions": selectors.rendition_urls(item)} for item in items]


@media_page
def album_list(request: HttpRequest) -> HttpResponse:
    form = AlbumForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        album = services.album_create(owner_id=owner_id(request), **form.cleaned_data)
        messages.success(request, "Album created.")
        return redirect("album", album.id)
    listed = services.album_list(owner_id(request))
    covers = [{"album": entry.album, "cover": entry.cover, "renditions": _cover(entry)} for entry in listed]
    return render(request, "albums/list.html", {"albums": covers, "form": form})


def _cover(entry: services.Listed) -> dict:
    return selectors.rendition_urls(entry.cover) if entry.cover else {}


@media_page
def album(request: HttpRequest, album_id: str) -> HttpResponse:
    found = services.get_album(owner_id=owner_id(request), album_id=album_id)
    page = services.album_page(found, cursor=request.GET.get("cursor"))
    initial = {"name": found.name, "description": found.description, "order": found.order}
    context = {
        "album": found,
        "cards": cards(page.items),
        "next_cursor": page.next_cursor,
        "form": AlbumForm(initial=initial),
        "share_form": AlbumShareForm(),
        "links": sharing.links_for_album(found),
        "now": utcnow(),
        "other_order": Order.ADDED if found.order == Order.TAKEN else Order.TAKEN,
    }
    return render(request, "albums/album.html", context)


@require_POST
@media_page
def edit(request: HttpRequest, album_id: str) -> HttpResponse:
    form = AlbumForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("album", album_id)
    services.album_update(owner_id=owner_id(request), album_id=album_id, **form.cleaned_data)
    messages.success(request, "Saved.")
    return redirect("album", album_id)


def _errors(form) -> str:
    return " ".join(message for errors in form.errors.values() for message in errors)


@require_POST
@media_page
def order(request: HttpRequest, album_id: str) -> HttpResponse:
    found = services.get_album(owner_id=owner_id(request), album_id=album_id)
    chosen = request.POST.get("order")
    if chosen not in Order.ALL:
        raise Refusal("Choose an order: by date taken or by when added.")
    services.album_update(
        owner_id=owner_id(request), album_id=album_id, name=found.name, description=found.description, order=chosen
    )
    return redirect("album", album_id)


@require_POST
@media_page
def delete(request: HttpRequest, album_id: str) -> HttpResponse:
    services.album_delete(owner_id=owner_id(request), album_id=album_id)
    messages.success(request, "Album deleted. Its items are still in your gallery.")
    return redirect("albums")


@require_POST
@media_page
def cover(request: HttpRequest, album_id: str) -> HttpResponse:
    services.choose_cover(owner_id=owner_id(request), album_id=album_id, media_id=request.POST.get("cover", ""))
    messages.success(request, "Cover chosen.")
    return redirect("album", album_id)


@require_POST
@media_page
def remove(request: HttpRequest, album_id: str) -> HttpResponse:
    outcome = services.remove_items(owner_id=owner_id(request), album_id=album_id, ids=request.POST.getlist("ids"))
    messages.success(request, f"Removed {_items(len(outcome.done))} from the album (they stay in your gallery).")
    return redirect("album", album_id)


@require_POST
@media_page
def add(request: HttpRequest) -> HttpResponse:
    """A selection (`ids`, from the gallery's selection form or an item's page) into an album (`album`), or into a
    new one (`album=new` and `name`)."""
    ids = services.check_ids(request.POST.getlist("ids"))
    album_id = request.POST.get("album", "")
    if album_id == NEW_ALBUM:
        form = AlbumForm({"name": request.POST.get("name", "")})
        if not form.is_valid():
            raise Refusal(f"New album: {_errors(form)}")
        services.check_owned(owner_id=owner_id(request), ids=ids)  # refuse foreign ids before making the album
        album_id = services.album_create(owner_id=owner_id(request), **form.cleaned_data).id
    outcome = services.add_items(owner_id=owner_id(request), album_id=album_id, ids=ids)
    already = f" ({_items(len(outcome.unchanged))} already there)" if outcome.unchanged else ""
    messages.success(request, f"Added {_items(len(outcome.done))} to the album{already}.")
    return redirect("album", album_id)


def _items(count: int) -> str:
    return f"{count} item{'s' if count != 1 else ''}"


@require_POST
@never_cache  # the page shows the new link: no cache, proxy or back button may keep it
@media_page
def share(request: HttpRequest, album_id: str) -> HttpResponse:
    form = AlbumShareForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("album", album_id)
    link, token = sharing.share_create(
        owner_id=owner_id(request),
        album_id=album_id,
        expires_at=form.cleaned_data["expires_at"],
        downloads=form.cleaned_data["downloads"],
    )
    url = request.build_absolute_uri(reverse("shared-album", args=[token]))
    return render(request, "albums/share_created.html", {"link": link, "url": url, "album_id": album_id})


@require_POST
@media_page
def share_revoke(request: HttpRequest, album_id: str, link_digest: str) -> HttpResponse:
    sharing.share_revoke(owner_id=owner_id(request), album_id=album_id, link_digest=link_digest)
    messages.success(request, "Link revoked: it no longer works.")
    return redirect("album", album_id)


def _gone(request: HttpRequest, exc: sharing.AlbumLinkGone) -> HttpResponse:
    return render(request, "uploads/share_gone.html", {"state": exc.state, "message": exc.message}, status=410)


def shared(request: HttpRequest, token: str) -> HttpResponse:
    """The page anyone with the link sees: no sign-in, nothing about the album unless the link still works."""
    ratelimit.limit("share", ratelimit.client_ip(request))
    try:
        found, page = sharing.shared_page(token, request.GET.get("cursor"))
    except NotFound:
        raise Http404("No such link.") from None
    except sharing.AlbumLinkGone as exc:
        return _gone(request, exc)
    except Refusal as exc:  # a cursor not handed out
        return _refused(request, exc, token)
    context = {"album": found.album, "link": found.link, "cards": cards(page.items), "next_cursor": page.next_cursor}
    return render(request, "albums/shared.html", {**context, "token": token})


@require_POST
def shared_download(request: HttpRequest, token: str, media_id: str) -> HttpResponse:
    ratelimit.limit("share", ratelimit.client_ip(request))
    try:
        return redirect(sharing.shared_download_url(token, media_id))
    except NotFound:
        raise Http404("No such item in this album.") from None
    except sharing.AlbumLinkGone as exc:
        return _gone(request, exc)
    except Refusal as exc:  # downloads not allowed, or a video that may record a place
        return _refused(request, exc, token)


def _refused(request: HttpRequest, exc: Refusal, token: str) -> HttpResponse:
    context = {"title": "Not available", "text": exc.message, "link_url": reverse("shared-album", args=[token])}
    return render(
        request,
        "registration/message_page.html",
        {**context, "link_label": "Back to the album"},
        status=exc.http_status,
    )
