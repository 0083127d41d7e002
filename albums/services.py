"""Everything that changes or reads albums: create, edit, delete, add and remove items, cover, pages.

Views and the API parse input, call one of these, and shape the output. Key design: docs/albums.md.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from pynamodb.exceptions import DoesNotExist

from albums import lifecycle
from albums.models import Album, AlbumState, Membership, Order
from mediahub.errors import NotFound, Refusal
from uploads.lifecycle import Lost
from uploads.models import MediaItem, Status
from uploads.selectors import BadCursor, decode_json_cursor, encode_cursor, media_by_ids

ALBUM_ID = re.compile(r"[0-9a-f]{32}")
MEDIA_ID = re.compile(r"[0-9a-f]{32}")
BATCH_GET_MAX = 100  # DynamoDB's BatchGetItem takes at most 100 keys
ORDER_INDEXES = {Order.TAKEN: (Membership.by_taken, "taken"), Order.ADDED: (Membership.by_added, "added_at")}


def bulk_max() -> int:
    """The most ids one request may name (contract with the bulk pages; the setting arrives with the trash)."""
    return getattr(settings, "BULK_MAX_ITEMS", 500)


class ForeignIds(Refusal):
    """Some ids are not the caller's items (or no items at all): the whole request is refused, nothing changed."""

    http_status = 404
    field = "ids"

    def __init__(self, ids: list[str]) -> None:
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        super().__init__(f"Not items of yours (or no longer there): {shown}. Nothing was changed.")
        self.ids = ids


class BadIds(Refusal):
    field = "ids"


def check_ids(ids: list[str]) -> list[str]:
    """At least one, at most bulk_max(), each an item id; repeats once. BadIds (400) otherwise."""
    if not ids:
        raise BadIds("Choose at least one item.")
    if len(ids) > bulk_max():
        raise BadIds(f"{len(ids)} items chosen; at most {bulk_max()} at a time. Nothing was changed.")
    bad = [i for i in ids if not isinstance(i, str) or not MEDIA_ID.fullmatch(i)]
    if bad:
        raise BadIds(f"Not an item id: {str(bad[0])[:40]!r}. Nothing was changed.")
    return list(dict.fromkeys(ids))


# --- Albums ---------------------------------------------------------------------------------------------------


def get_album(*, owner_id: str, album_id: str) -> Album:
    """The album, if it exists, is the owner's and is not being deleted; else NotFound (another's looks unknown)."""
    if not ALBUM_ID.fullmatch(album_id):
        raise NotFound("No such album.")
    try:
        album = Album.get(album_id)
    except DoesNotExist:
        raise NotFound("No such album.") from None
    if album.owner_id != owner_id or album.state != AlbumState.ACTIVE:
        raise NotFound("No such album.")
    return album


def album_create(*, owner_id: str, name: str, description: str = "", order: str = Order.TAKEN) -> Album:
    album = Album(uuid.uuid4().hex, owner_id=owner_id, name=name, description=description, order=order)
    lifecycle.create(album)
    return album


def albums_for_owner(owner_id: str) -> list[Album]:
    """The owner's albums, newest first: one Query on the by-owner index (more pages only past 1 MB of albums)."""
    query = Album.by_owner.query(owner_id, scan_index_forward=False, filter_condition=Album.state == AlbumState.ACTIVE)
    return list(query)


@dataclass(frozen=True)
class Listed:
    album: Album
    cover: MediaItem | None  # None: no cover, or its item is not ready (trashed, say)


def album_list(owner_id: str) -> list[Listed]:
    """The album list page: one Query for the albums, then one BatchGetItem (per 100) for their covers."""
    albums = albums_for_owner(owner_id)
    cover_ids = list(dict.fromkeys(a.cover_id for a in albums if a.cover_id))
    covers: dict[str, MediaItem] = {}
    for start in range(0, len(cover_ids), BATCH_GET_MAX):
        covers.update(media_by_ids(owner_id=owner_id, ids=cover_ids[start : start + BATCH_GET_MAX]))
    return [Listed(a, _ready(covers.get(a.cover_id or ""))) for a in albums]


def _ready(item: MediaItem | None) -> MediaItem | None:
    return item if item is not None and item.status == Status.READY else None


def album_update(*, owner_id: str, album_id: str, name: str, description: str, order: str) -> Album:
    album = get_album(owner_id=owner_id, album_id=album_id)
    try:
        lifecycle.edit(album, owner_id=owner_id, name=name, description=description, order=order)
    except Lost:
        raise NotFound("No such album.") from None
    return album


def album_delete(*, owner_id: str, album_id: str) -> None:
    """The album, its memberships and links go; its items stay in the library."""
    delete_album(get_album(owner_id=owner_id, album_id=album_id))


def delete_album(album: Album) -> None:
    """Deleting first (no add can win after it), then the rows and links, the record last: a failure half way
    leaves it `deleting`, hidden, and deleting again finishes it."""
    try:
        lifecycle.start_delete(album, owner_id=album.owner_id)
    except Lost:
        raise NotFound("No such album.") from None
    _finish_delete(album)


def _finish_delete(album: Album) -> None:
    lifecycle.purge(album)
    lifecycle.forget_links(album)
    lifecycle.finish_delete(album)


def choose_cover(*, owner_id: str, album_id: str, media_id: str) -> Album:
    album = get_album(owner_id=owner_id, album_id=album_id)
    if not MEDIA_ID.fullmatch(media_id):
        raise NotFound("That item is not in this album.")
    try:
        lifecycle.choose_cover(album, owner_id=owner_id, media_id=media_id)
    except Lost:
        raise NotFound("That item is not in this album.") from None
    return album


# --- Memberships ----------------------------------------------------------------------------------------------


def taken_of(item: MediaItem) -> str:
    """When a picture was taken (its EXIF, the camera's clock), else when it was uploaded: the album's sort key."""
    taken = (item.exif or {}).get("taken_at")
    return taken or item.created_at.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class Outcome:
    """Per item, what a bulk change did: `done` (added or removed) and `unchanged` (already in, or not in)."""

    done: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def add_items(*, owner_id: str, album_id: str, ids: list[str]) -> Outcome:
    """Add the owner's items to the album. Any id that is not an item of the owner's refuses the whole request
    (ForeignIds) before anything is written; an item already in the album is reported, not added twice."""
    ids = check_ids(ids)
    album = get_album(owner_id=owner_id, album_id=album_id)
    found = check_owned(owner_id=owner_id, ids=ids)
    outcome = Outcome()
    for media_id in ids:
        item = found[media_id]
        try:
            lifecycle.add(album, item, taken=taken_of(item))
            outcome.done.append(media_id)
        except lifecycle.AlreadyMember:
            outcome.unchanged.append(media_id)
        except Lost:
            _lost(owner_id, album_id, media_id)
    return outcome


def check_owned(*, owner_id: str, ids: list[str]) -> dict[str, MediaItem]:
    """The owner's items among `ids` (one BatchGetItem per 100); ForeignIds naming every other id."""
    found: dict[str, MediaItem] = {}
    for start in range(0, len(ids), BATCH_GET_MAX):
        found.update(media_by_ids(owner_id=owner_id, ids=ids[start : start + BATCH_GET_MAX]))
    foreign = [i for i in ids if i not in found or found[i].status == Status.DELETING]
    if foreign:
        raise ForeignIds(foreign)
    return found


def _lost(owner_id: str, album_id: str, media_id: str) -> None:
    """An add lost its transaction: the album was deleted meanwhile (NotFound) or the item was (ForeignIds)."""
    get_album(owner_id=owner_id, album_id=album_id)
    raise ForeignIds([media_id])


def remove_items(*, owner_id: str, album_id: str, ids: list[str]) -> Outcome:
    """Take items out of the album (never out of the library); an item that was not in it is reported, harmless."""
    ids = check_ids(ids)
    album = get_album(owner_id=owner_id, album_id=album_id)
    outcome = Outcome()
    for media_id in ids:
        (outcome.done if lifecycle.remove(album.id, media_id) else outcome.unchanged).append(media_id)
    return outcome


def forget_media(item: MediaItem) -> int:
    """An item deleted for good leaves every album it was in (the by-media index: one Query). Harmless twice, or
    for an item never in an album. Called from uploads.services.delete_item."""
    return sum(lifecycle.remove(row.album_id, item.id) for row in Membership.by_media.query(item.id))


# --- Pages ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlbumPage:
    items: list[MediaItem]  # ready items only, in the album's order
    next_cursor: str | None


def album_page(album: Album, *, cursor: str | None) -> AlbumPage:
    """One Query on the order's index for a page of the album's members, then one BatchGetItem for their items.

    Only `ready` items are shown: a trashed or deleted one vanishes at once. A row whose item no longer exists
    (the by-media index had not caught up when it was deleted) is forgotten here."""
    index, sort_name = ORDER_INDEXES[album.order]
    start = decode_json_cursor(cursor, keys={"album_id", "media_id", sort_name})
    if start is not None and start["album_id"] != {"S": album.id}:
        raise BadCursor("That page link is not valid.")
    size = settings.MEDIA_PAGE_SIZE
    results = index.query(album.id, scan_index_forward=False, limit=size, page_size=size, last_evaluated_key=start)
    ids = [row.media_id for row in results]
    found = media_by_ids(owner_id=album.owner_id, ids=ids) if ids else {}
    for media_id in ids:
        if media_id not in found:
            lifecycle.remove(album.id, media_id)
    items = [found[i] for i in ids if i in found and found[i].status == Status.READY]
    return AlbumPage(items, encode_cursor(results.last_evaluated_key))


def is_member(album: Album, media_id: str) -> bool:
    if not MEDIA_ID.fullmatch(media_id):
        return False
    try:
        Membership.get(album.id, media_id, consistent_read=True, attributes_to_get=["media_id"])
    except DoesNotExist:
        return False
    return True


def forget_owner(owner_id: str) -> None:
    """Account deletion: every album of the owner's (one being deleted already is finished), media untouched."""
    for album in Album.by_owner.query(owner_id):
        lifecycle.start_delete(album, owner_id=owner_id)
        _finish_delete(album)
