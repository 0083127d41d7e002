"""Share links: an owner lets anyone holding a link see and download one item, for a while."""

from __future__ import annotations

import io
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from pynamodb.exceptions import DoesNotExist

from mediahub.errors import Conflict, NotFound, Refusal
from mediahub.hashing import token_digest
from uploads import lifecycle, locationfree, storage
from uploads.filetypes import allowed_types, family, human_size
from uploads.models import MediaItem, ShareLink, Status, utcnow
from uploads.services import count_download, download_link, get_owned

log = logging.getLogger(__name__)

MAX_LIFETIME = timedelta(days=30)
REMEMBER_AFTER_EXPIRY = timedelta(days=30)
GONE_MESSAGES = {
    "revoked": "The owner revoked this link.",
    "expired": "This link has expired.",
    "exhausted": "This link has reached its download limit.",
    "missing": "The shared item no longer exists.",
    "trashed": "The owner moved the shared item to the trash. If they restore it, this link works again.",
}

# What a link hands out (`ShareLink.serves`). Links made before there was a choice carry none: the original.
COPY, LARGE, ORIGINAL = "copy", "large", "original"
# Copies are made in memory, in the request that creates the link; past this the large rendition is shared instead.
COPY_MAX_BYTES = 64 * 1024 * 1024
COPY_NAME = "shared/location-free"
SERVES_TEXT = {
    COPY: "This link shares a copy without location data: the picture is the original's, byte for byte.",
    LARGE: "This link shares a copy without location data: a JPEG of the picture, at most {size} pixels wide or high.",
    ORIGINAL: "This link shares the original, as it is.",
}
SERVES_LABEL = {COPY: "Copy without location", LARGE: "JPEG without location", ORIGINAL: "Original"}
# Kinds whose location mediahub cannot take out and that have no rendition to share instead.
AS_THEY_ARE = {
    "video": "mediahub cannot look for location data in this kind of video; the original is shared.",
    "document": "Documents are shared as they are.",
}


class LinkGone(Refusal):
    """410: the link existed but no longer works; `state` says why."""

    http_status = 410

    def __init__(self, state: str) -> None:
        super().__init__(GONE_MESSAGES[state])
        self.state = state


@dataclass(frozen=True)
class Shared:
    link: ShareLink
    item: MediaItem


@dataclass(frozen=True)
class Served:
    """What a link hands out: `serves` (COPY, LARGE, ORIGINAL), the renditions-bucket key of a copy, and a note."""

    serves: str
    key: str | None = None
    note: str | None = None


def share_create(
    *, owner_id: str, media_id: str, expires_at: datetime, max_downloads: int | None, original: bool = False
) -> tuple[ShareLink, str]:
    """A new link to one of the owner's ready items; the token (192 random bits) is returned once.

    Without `original` the link serves the item without its location (`location_free`)."""
    item = get_owned(owner_id=owner_id, media_id=media_id)
    if item.status != Status.READY:
        raise Conflict("Only items that are ready can be shared.")
    now = utcnow()
    if not now < expires_at <= now + MAX_LIFETIME:
        raise Refusal("A link must expire in the future and within 30 days.")
    served = Served(ORIGINAL) if original else location_free(item)
    token = secrets.token_urlsafe(24)
    link = ShareLink(
        token_digest(token),
        media_id=item.id,
        owner_id=owner_id,
        expires_at=expires_at,
        max_downloads=max_downloads,
        forget_at=expires_at + REMEMBER_AFTER_EXPIRY,
        original=original,
        serves=served.serves,
        copy_key=served.key,
        note=served.note,
    )
    lifecycle.share(link)
    still_there(item, served)
    return link, token


def still_there(item: MediaItem, served: Served) -> None:
    """A delete that ran while the copy was made has already emptied the item's prefix: remove the copy it missed."""
    if served.serves != COPY:
        return
    try:
        current = MediaItem.get(item.id, consistent_read=True)
    except DoesNotExist:
        current = None
    if current is None or current.status != Status.READY:
        storage.delete_rendition(served.key)
        raise NotFound("No such media item.")


def location_free(item: MediaItem) -> Served:
    """What a link without location serves for this item: a copy of the original without it (JPEG, PNG, WebP,
    GIF), else the large rendition (which carries no metadata at all). An MP4 or QuickTime video is shared as it
    is if it records no place, and refused (Conflict: share the original by choice) if it may; other videos and
    documents are shared as they are, with a note saying so."""
    content_type = item.detected_type or item.declared_type
    if content_type in locationfree.ISO_VIDEO_TYPES:
        return _video(item)
    if family(content_type) != "image":
        return Served(ORIGINAL, note=AS_THEY_ARE[family(content_type)])
    if content_type not in locationfree.COPYABLE:
        return _large(item, f"mediahub cannot take location data out of {content_type} files.")
    if item.size > COPY_MAX_BYTES:
        return _large(item, f"The original is over {human_size(COPY_MAX_BYTES)}.")
    original = io.BytesIO()
    storage.download_original(item.object_key, original, item.version_id)
    try:
        data = locationfree.strip(original.getvalue(), content_type)
    except locationfree.Unstrippable as exc:
        log.info("item %s: no location-free copy (%s); sharing the large rendition", item.id, exc)
        return _large(item, str(exc))
    key = f"{storage.rendition_prefix(item.owner_id, item.id)}{COPY_NAME}.{allowed_types()[content_type]}"
    storage.put_rendition(key, data, content_type=content_type, cache_control="private, no-cache")
    return Served(COPY, key)


def _video(item: MediaItem) -> Served:
    """An MP4 or QuickTime video is shared as it is only if it records no place; mediahub cannot take one out."""

    def read(offset: int, length: int) -> bytes:
        return storage.read_original_range(item.object_key, offset, offset + length, item.version_id)

    try:
        placed = locationfree.video_names_a_place(read, item.size)
    except locationfree.Unstrippable as exc:
        log.info("item %s: cannot tell whether the video records a place (%s)", item.id, exc)
        placed = True
    if placed:
        raise Conflict(
            "This video may record where it was filmed, and mediahub cannot take that out of a video yet. "
            "To share it anyway, tick “Share the original as it is”."
        )
    return Served(ORIGINAL, note="The video records no location; the original is shared.")


def _large(item: MediaItem, why: str) -> Served:
    files = (item.renditions or {}).get("large", {}).get("files", {})
    if "jpg" not in files:
        raise Conflict(f"This item cannot be shared without its location ({why}). Share the original instead.")
    return Served(LARGE, files["jpg"]["key"], note=why)


def describe(link: ShareLink) -> str:
    """What the link hands out, in a sentence for its page."""
    serves = link.serves or ORIGINAL
    text = SERVES_TEXT[serves].format(size=settings.MEDIA_RENDITIONS["large"]["size"])
    if serves == ORIGINAL and link.original:
        return text.removesuffix(".") + " (with its location, if it has one)."
    return text


def owner_note(link: ShareLink) -> str:
    """For the owner: why the link does not serve a copy of the original without location, if it does not."""
    return link.note or ""


def links_for_item(item: MediaItem) -> list[ShareLink]:
    """An item's links, newest first; the caller has already checked the item is the user's."""
    return list(ShareLink.by_media.query(item.id, scan_index_forward=False))


def share_revoke(*, owner_id: str, media_id: str, link_digest: str) -> None:
    try:
        link = ShareLink.get(link_digest)
    except DoesNotExist:
        raise NotFound("No such link.") from None
    if link.owner_id != owner_id or link.media_id != media_id:
        raise NotFound("No such link.")
    try:
        lifecycle.revoke(link)
    except lifecycle.Lost:
        raise NotFound("No such link.") from None


def open_link(token: str) -> Shared:
    """The link and its item, if the link still works. Unknown tokens are NotFound; dead links are LinkGone."""
    try:
        link = ShareLink.get(token_digest(token))
    except DoesNotExist:
        raise NotFound("No such link.") from None
    state = link.state(utcnow())
    if state != "active":
        raise LinkGone(state)
    try:
        item = MediaItem.get(link.media_id)
    except DoesNotExist:
        raise LinkGone("missing") from None
    if item.status == Status.TRASHED:  # a restore brings the link back, unless it expired meanwhile
        raise LinkGone("trashed")
    if item.status != Status.READY:  # being deleted
        raise LinkGone("missing")
    return Shared(link, item)


def shared_download_url(token: str) -> str:
    """Count a download on the link (refused atomically past its limit or expiry) and on the item."""
    shared = _counted(token)
    link = shared.link
    return served_url(Served(link.serves or ORIGINAL, link.copy_key), shared.item)


def play(token: str) -> Shared:
    """Count a play as a download: a player's link streams the whole file for hours, so on a link with a download
    limit each play takes one, like the Download button. (Links without a limit show the player at once.)"""
    shared = _counted(token)
    count_download(shared.item)
    return shared


def plays_at_once(link: ShareLink) -> bool:
    """Whether the page shows its video player on opening, or behind a Play button that counts a download."""
    return link.max_downloads is None


def _counted(token: str) -> Shared:
    """The link and its item, once a download has been counted on the link (atomically: never past its limit)."""
    shared = open_link(token)
    link, now = shared.link, utcnow()
    try:
        lifecycle.count_share_download(link, now)
    except lifecycle.Lost:
        try:
            raise LinkGone(ShareLink.get(link.digest).state(now)) from None
        except DoesNotExist:
            raise LinkGone("missing") from None
    return shared


def served_url(served: Served, item: MediaItem) -> str:
    """A 60-second attachment link to what a link serves (an item's or an album's); the item's downloads count
    it either way."""
    if served.serves == ORIGINAL:
        return download_link(item)
    count_download(item)
    name = item.file_name if served.serves == COPY else f"{item.file_name.rsplit('.', 1)[0] or 'download'}.jpg"
    content_type = item.detected_type if served.serves == COPY else "image/jpeg"
    bucket = settings.RENDITIONS_BUCKET
    return storage.download_url(served.key, file_name=name, content_type=content_type, bucket=bucket)
