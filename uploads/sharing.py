"""Share links: an owner lets anyone holding a link see and download one item, for a while."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from mediahub.errors import Conflict, NotFound, Refusal
from mediahub.hashing import token_digest
from uploads import lifecycle
from uploads.models import MediaItem, ShareLink, Status, utcnow
from uploads.services import download_link, get_owned

MAX_LIFETIME = timedelta(days=30)
REMEMBER_AFTER_EXPIRY = timedelta(days=30)
GONE_MESSAGES = {
    "revoked": "The owner revoked this link.",
    "expired": "This link has expired.",
    "exhausted": "This link has reached its download limit.",
    "missing": "The shared item no longer exists.",
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


def share_create(
    *, owner_id: str, media_id: str, expires_at: datetime, max_downloads: int | None
) -> tuple[ShareLink, str]:
    """A new link to one of the owner's ready items; the token (192 random bits) is returned once."""
    item = get_owned(owner_id=owner_id, media_id=media_id)
    if item.status != Status.READY:
        raise Conflict("Only items that are ready can be shared.")
    now = utcnow()
    if not now < expires_at <= now + MAX_LIFETIME:
        raise Refusal("A link must expire in the future and within 30 days.")
    token = secrets.token_urlsafe(24)
    link = ShareLink(
        token_digest(token),
        media_id=item.id,
        owner_id=owner_id,
        expires_at=expires_at,
        max_downloads=max_downloads,
        forget_at=expires_at + REMEMBER_AFTER_EXPIRY,
    )
    lifecycle.share(link)
    return link, token


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
    if item.status != Status.READY:  # being deleted
        raise LinkGone("missing")
    return Shared(link, item)


def shared_download_url(token: str) -> str:
    """Count a download on the link (refused atomically past its limit or expiry) and on the item."""
    shared = open_link(token)
    link, now = shared.link, utcnow()
    try:
        lifecycle.count_share_download(link, now)
    except lifecycle.Lost:
        try:
            raise LinkGone(ShareLink.get(link.digest).state(now)) from None
        except DoesNotExist:
            raise LinkGone("missing") from None
    return download_link(shared.item)
