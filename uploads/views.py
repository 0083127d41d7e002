"""Pages: the gallery, the upload page (with a no-JavaScript fallback), an item's page, downloads."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from mediahub import ratelimit
from mediahub.errors import STORAGE_DOWN, STORAGE_ERRORS, NotFound, RateLimited, Refusal
from mediahub.http import owner_id
from uploads import playback, selectors, services, sharing
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
    order = "taken" if request.GET.get("sort") == "taken" else "upload"
    page = selectors.gallery_page(
        owner_id=owner_id(request), cursor=request.GET.get("cursor"), before=request.GET.get("before"), order=order
    )
    cards = [{"item": item, "renditions": selectors.rendition_urls(item)} for item in page.items]  # all: srcset
    context = {"cards": cards, "next_cursor": page.older, "newer_cursor": page.newer}
    # --- search: the date-taken order and month headings (search helper) ---
    context |= {
        "order": order,
        "months": selectors.by_month(cards, order),
        "sort_query": "sort=taken&" if order == "taken" else "",
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


def shared(request: HttpRequest, token: str) -> HttpResponse:
    """The page anyone with the link sees: no sign-in, nothing about the item unless the link still works."""
    ratelimit.limit("share", ratelimit.client_ip(request))  # guessing tokens: 192 bits, but no free scanning
    try:
        found = sharing.open_link(token)
    except NotFound:
        raise Http404("No such link.") from None
    except sharing.LinkGone as exc:
        return render(request, "uploads/share_gone.html", {"state": exc.state, "message": exc.message}, status=410)
    context = {
        "item": found.item,
        "renditions": selectors.rendition_urls(found.item, ("medium",)),
        "player": playback.player(found.item, until=found.link.expires_at),
        "token": token,
        "serves": sharing.describe(found.link),
    }
    return render(request, "uploads/shared.html", context)


@require_POST
def shared_download(request: HttpRequest, token: str) -> HttpResponse:
    ratelimit.limit("share", ratelimit.client_ip(request))
    try:
        return redirect(sharing.shared_download_url(token))
    except NotFound:
        raise Http404("No such link.") from None
    except sharing.LinkGone as exc:
        return render(request, "uploads/share_gone.html", {"state": exc.state, "message": exc.message}, status=410)


@require_POST
@media_page
def delete(request: HttpRequest, media_id: str) -> HttpResponse:
    services.media_delete(owner_id=owner_id(request), media_id=media_id)
    messages.success(request, "Deleted, with all its files.")
    return redirect("home")


@media_page
def download(request: HttpRequest, media_id: str) -> HttpResponse:
    return redirect(services.media_download_url(owner_id=owner_id(request), media_id=media_id))
