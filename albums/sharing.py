"""Shared albums: an expiring link that shows an album's ready items to anyone holding it.

The rules of an item's share link (uploads/sharing.py), reused: a 192-bit token of which only the hash is kept,
an expiry within 30 days, revocation, and 410 pages that say why. Downloads, when the owner allows them, hand out
each item without its location exactly as an item's link does (`uploads.sharing.location_free`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from albums import lifecycle, services
from albums.models import Album, AlbumLink, AlbumState
from mediahub.errors import Conflict, NotFound, Refusal
from mediahub.hashing import token_digest
from uploads import sharing
from uploads.lifecycle import Lost
from uploads.models import MediaItem, Status, utcnow

ALBUM_MISSING = "The shared album no longer exists."


class AlbumLinkGone(sharing.LinkGone):
    """410 for an album link: revoked or expired (the item link's messages), or its album deleted."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        if state == "missing":
            self.message, self.args = ALBUM_MISSING, (ALBUM_MISSING,)


class NoDownloads(Refusal):
    http_status = 403
    field = "download"


@dataclass(frozen=True)
class SharedAlbum:
    link: AlbumLink
    album: Album


def share_create(*, owner_id: str, album_id: str, expires_at: datetime, downloads: bool) -> tuple[AlbumLink, str]:
    """A new link to one of the owner's albums; the token is returned once, only its hash is stored."""
    album = services.get_album(owner_id=owner_id, album_id=album_id)
    now = utcnow()
    if not now < expires_at <= now + sharing.MAX_LIFETIME:
        raise Refusal("A link must expire in the future and within 30 days.")
    token = secrets.token_urlsafe(24)
    link = AlbumLink(
        token_digest(token),
        album_id=album.id,
        owner_id=owner_id,
        expires_at=expires_at,
        downloads_allowed=downloads,
        forget_at=expires_at + sharing.REMEMBER_AFTER_EXPIRY,
    )
    lifecycle.share(link)
    return link, token


def links_for_album(album: Album) -> list[AlbumLink]:
    """An album's links, newest first; the caller has checked the album is the user's."""
    return list(AlbumLink.by_album.query(album.id, scan_index_forward=False))


def share_revoke(*, owner_id: str, album_id: str, link_digest: str) -> None:
    try:
        link = AlbumLink.get(link_digest)
    except DoesNotExist:
        raise NotFound("No such link.") from None
    if link.owner_id != owner_id or link.album_id != album_id:
        raise NotFound("No such link.")
    try:
        lifecycle.revoke(link)
    except Lost:
        raise NotFound("No such link.") from None


def open_link(token: str) -> SharedAlbum:
    """The link and its album, if the link still works. Unknown tokens are NotFound; dead links AlbumLinkGone."""
    try:
        link = AlbumLink.get(token_digest(token))
    except DoesNotExist:
        raise NotFound("No such link.") from None
    state = link.state(utcnow())
    if state != "active":
        raise AlbumLinkGone(state)
    try:
        album = Album.get(link.album_id)
    except DoesNotExist:
        raise AlbumLinkGone("missing") from None
    if album.state != AlbumState.ACTIVE:
        raise AlbumLinkGone("missing")
    return SharedAlbum(link, album)


def shared_page(token: str, cursor: str | None) -> tuple[SharedAlbum, services.AlbumPage]:
    shared = open_link(token)
    return shared, services.album_page(shared.album, cursor=cursor)


def shared_download_url(token: str, media_id: str) -> str:
    """A 60-second link to one of the album's ready items, without its location; refused if the owner did not
    allow downloads, or the item is not (or no longer) in the album and ready."""
    shared = open_link(token)
    if not shared.link.downloads_allowed:
        raise NoDownloads("The owner did not allow downloads from this album.")
    if not services.is_member(shared.album, media_id):
        raise NotFound("That item is not in this album.")
    try:
        item = MediaItem.get(media_id)
    except DoesNotExist:
        raise NotFound("That item is not in this album.") from None
    if item.status != Status.READY:
        raise NotFound("That item is not in this album.")
    try:
        served = sharing.location_free(item)
    except Conflict:
        raise Conflict(
            "This video may record where it was filmed, and mediahub cannot take that out: it is shown here but "
            "not offered for download."
        ) from None
    sharing.still_there(item, served)
    return sharing.served_url(served, item)
