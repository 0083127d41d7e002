"""Pages: the gallery, the upload page (with a no-JavaScript fallback), an item's page, downloads."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from mediahub import ratelimit
from mediahub.errors import STORAGE_DOWN, STORAGE_ERRORS, NotFound, RateLimited, Refusal
from mediahub.http import owner_id
from uploads import playback, selectors, services, sharing, trash
from uploads.filetypes import allowed_types, picker_accept
from uploads.forms import (
    DirectUploadForm,
    MediaFieldsForm,
    ShareForm,
    check_direct_upload_length,
    direct_upload_limit,
)
from uploads.models import Status, utcnow


def back_url(request: HttpRequest) -> str:
    """Where the person came from, if it is this site; else the gallery."""
    referer = request.META.get("HTTP_REFERER", "")
    if url_has_allowed_host_and_scheme(referer, {request.get_host()}, require_https=request.is_secure()):
        return referer
    return reverse("home")


def media_page(view: Callable) -> Callable:
    """Signed-in only; someone else's item is a 404; refusals and storage outages become messages, not 500s.

    A rate limit is left to the 429 page (mediahub.middleware.RateLimitPage), which says when to come back."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404("No such media item.") from None
        except RateLimited:
            raise
        except Refusal as exc:
            messages.error(request, exc.message)
        except STORAGE_ERRORS:
            messages.error(request, STORAGE_DOWN)
        return redirect(back_url(request))

    return wrapper


@media_page
def gallery(request: HttpRequest) -> HttpResponse:
    favourites = request.GET.get("favourites") == "1"
    # Favourites have one order (by upload: their sparse index's); the library is by upload or by date taken.
    order = "taken" if request.GET.get("sort") == "taken" and not favourites else "upload"
    page = selectors.gallery_page(
        owner_id=owner_id(request),
        cursor=request.GET.get("cursor"),
        before=request.GET.get("before"),
        favourites=favourites,
        order=order,
    )
    cards = [{"item": item, "renditions": selectors.rendition_urls(item)} for item in page.items]  # all: srcset
    context = {
        "cards": cards,
        "months": selectors.by_month(cards, order),
        "next_cursor": page.older,
        "newer_cursor": page.newer,
        "favourites": favourites,
        "order": order,
        "page_query": "favourites=1&" if favourites else "sort=taken&" if order == "taken" else "",
    }
    return render(request, "uploads/gallery.html", context)


@media_page
def usage(request: HttpRequest) -> HttpResponse:
    return render(request, "uploads/usage.html", {"usage": selectors.usage_for_owner(owner_id(request))})


@csrf_exempt  # only this check: CsrfViewMiddleware would read the whole body for its token; upload_form has it
@media_page
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # From the declared length, before anything reads the body: on Lambda a larger one is refused unread.
        check_direct_upload_length(request.META.get("CONTENT_LENGTH"))
    return upload_form(request)


@csrf_protect
def upload_form(request: HttpRequest) -> HttpResponse:
    form = DirectUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        ratelimit.limit("upload", owner_id(request))
        item = services.media_upload_direct(
            owner_id=owner_id(request),
            name=form.cleaned_data["name"],
            caption=form.cleaned_data["caption"],
            upload=form.cleaned_data["file"],
            delete_after_days=form.cleaned_data["delete_after_days"],
        )
        return redirect("media-uploaded", item.id)
    context = {
        "form": form,
        "accept": ",".join(allowed_types()),
        "picker_accept": picker_accept(),
        "max_size": settings.MAX_UPLOAD_SIZE,
        "direct_max_size": direct_upload_limit(),
    }
    return render(request, "uploads/upload.html", context)


@media_page
def uploaded(request: HttpRequest, media_id: str) -> HttpResponse:
    item = services.get_owned(owner_id=owner_id(request), media_id=media_id)
    return render(request, "uploads/uploaded.html", {"item": item})


@media_page
def detail(request: HttpRequest, media_id: str) -> HttpResponse:
    item = services.get_owned(owner_id=owner_id(request), media_id=media_id)
    form = MediaFieldsForm(request.POST or None, initial={"name": item.name, "caption": item.caption})
    if request.method == "POST" and form.is_valid():
        services.media_update(owner_id=owner_id(request), media_id=media_id, **form.cleaned_data)
        messages.success(request, "Saved.")
        return redirect("media-detail", media_id)
    renditions = selectors.rendition_urls(item, ("medium", "large"))
    newer, older = selectors.neighbours(item) if "large" in renditions else (None, None)
    context = {
        "item": item,
        "form": form,
        "renditions": renditions,
        "newer": newer,
        "older": older,
        "player": playback.player(item),
        "share_form": ShareForm(),
        "links": sharing.links_for_item(item) if item.status == Status.READY else [],
        "now": utcnow(),
    }
    return render(request, "uploads/detail.html", context)


@require_POST
@never_cache  # the page shows the new link: no cache, proxy or back button may keep it
@media_page
def share(request: HttpRequest, media_id: str) -> HttpResponse:
    form = ShareForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect("media-detail", media_id)
    link, token = sharing.share_create(
        owner_id=owner_id(request),
        media_id=media_id,
        expires_at=form.cleaned_data["expires_at"],
        max_downloads=form.cleaned_data["max_downloads"],
        original=form.cleaned_data["original"],
    )
    # Rendered, not redirected: the link is shown this once; only its hash is kept.
    url = request.build_absolute_uri(reverse("shared", args=[token]))
    context = {"link": link, "url": url, "media_id": media_id, "serves": sharing.describe(link)}
    return render(request, "uploads/share_created.html", context)


@require_POST
@media_page
def share_revoke(request: HttpRequest, media_id: str, link_digest: str) -> HttpResponse:
    sharing.share_revoke(owner_id=owner_id(request), media_id=media_id, link_digest=link_digest)
    messages.success(request, "Link revoked: it no longer works.")
    return redirect("media-detail", media_id)


def share_link_page(view: Callable) -> Callable:
    """A page of a share link: rate-limited per address (guessing tokens: 192 bits, but no free scanning), 404 for
    unknown tokens, 410 with the reason for links that no longer work (revealing nothing of the item)."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str) -> HttpResponse:
        ratelimit.limit("share", ratelimit.client_ip(request))
        try:
            return view(request, token)
        except NotFound:
            raise Http404("No such link.") from None
        except sharing.LinkGone as exc:
            context = {"state": exc.state, "message": exc.message}
            return render(request, "uploads/share_gone.html", context, status=410)

    return wrapper


@share_link_page
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """The page anyone with the link sees: no sign-in, nothing about the item unless the link still works."""
    found = sharing.open_link(token)
    return _shared_page(request, token, found, play=sharing.plays_at_once(found.link))


@require_POST
@share_link_page
def shared_play(request: HttpRequest, token: str) -> HttpResponse:
    """The page with its player, once the play has been counted as a download (links with a download limit)."""
    return _shared_page(request, token, sharing.play(token), play=True)


@require_POST
@share_link_page
def shared_download(request: HttpRequest, token: str) -> HttpResponse:
    return redirect(sharing.shared_download_url(token))


def _shared_page(request: HttpRequest, token: str, found: sharing.Shared, *, play: bool) -> HttpResponse:
    player = playback.player(found.item, until=found.link.expires_at)
    behind_button = bool(player and player["playable"] and not play)  # its link is handed out only once counted
    context = {
        "item": found.item,
        "renditions": selectors.rendition_urls(found.item, ("medium",)),
        "player": None if behind_button else player,
        "play_counts": behind_button,
        "token": token,
        "serves": sharing.describe(found.link),
    }
    return render(request, "uploads/shared.html", context)


@require_POST
@media_page
def delete(request: HttpRequest, media_id: str) -> HttpResponse:
    """The owner's delete: to the trash (an unfinished upload, having nothing to keep, goes for good)."""
    if trash.move_to_trash(owner_id=owner_id(request), media_id=media_id) == trash.DELETED:
        messages.success(request, "Upload cancelled and deleted.")
    else:
        messages.success(request, f"Moved to the trash. You can restore it for {settings.TRASH_DAYS} days.")
    return redirect("home")


@media_page
def download(request: HttpRequest, media_id: str) -> HttpResponse:
    return redirect(services.media_download_url(owner_id=owner_id(request), media_id=media_id))


# --- Trash, favourites and the selection's bulk actions (docs/trash.md) ------------------------------------------


@media_page
def trash_page(request: HttpRequest) -> HttpResponse:
    items, cursor = selectors.trash_page(owner_id=owner_id(request), cursor=request.GET.get("cursor"))
    now = utcnow()
    cards = [
        {
            "item": item,
            "renditions": selectors.rendition_urls(item),
            "days_left": trash.days_left(item, now),
        }
        for item in items
    ]
    context = {"cards": cards, "next_cursor": cursor, "trash_days": settings.TRASH_DAYS}
    return render(request, "uploads/trash.html", context)


@require_POST
@media_page
def restore(request: HttpRequest, media_id: str) -> HttpResponse:
    trash.restore(owner_id=owner_id(request), media_id=media_id)
    messages.success(request, "Restored.")
    return redirect(back_url(request))


@require_POST
@media_page
def delete_for_good(request: HttpRequest, media_id: str) -> HttpResponse:
    trash.delete_for_good(owner_id=owner_id(request), media_id=media_id)
    messages.success(request, "Deleted for good, with all its files.")
    return redirect("trash")


@media_page
def empty_trash(request: HttpRequest) -> HttpResponse:
    """GET asks (works without JavaScript); POST empties."""
    if request.method != "POST":
        return render(request, "uploads/empty_trash.html")
    count = trash.empty_trash(owner_id(request))
    messages.success(request, f"Trash emptied: {count} item{'s' if count != 1 else ''} deleted for good.")
    return redirect("trash")


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
@media_page
def favourite(request: HttpRequest, media_id: str) -> HttpResponse:
    """The card's and detail page's toggle: a plain form POST, or fetch() asking for JSON so the page stays."""
    on = request.POST.get("favourite") == "1"
    item = trash.set_favourite(owner_id=owner_id(request), media_id=media_id, on=on)
    if _wants_json(request):
        return JsonResponse({"id": item.id, "favourite": item.favourite})
    messages.success(request, "Added to favourites." if on else "Removed from favourites.")
    return redirect(back_url(request))


@require_POST
@media_page
def bulk(request: HttpRequest, action: str) -> HttpResponse:
    """A toolbar button of the selection form: `action` on every ticked `ids`, each outcome in the messages."""
    outcomes = trash.bulk(owner_id=owner_id(request), action=action, ids=request.POST.getlist("ids"))
    done, failed = trash.summary(action, outcomes)
    messages.success(request, done)
    for line in failed:
        messages.error(request, line)
    return redirect(back_url(request))
