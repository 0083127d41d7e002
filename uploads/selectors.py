"""Reads of media: one DynamoDB Query per page, with an opaque cursor."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from pynamodb.indexes import GlobalSecondaryIndex

from mediahub.errors import Refusal
from uploads import quota, storage
from uploads.models import MediaItem, Status


class BadCursor(Refusal):
    """The cursor was not one we handed out."""

    field = "cursor"


def encode_cursor(key: dict | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None, *, expected: dict[str, str], range_name: str = "created_at") -> dict | None:
    """Back to DynamoDB's last evaluated key; it must name the same partition the caller asks for."""
    # DynamoDB's key of an index page: the table's key, the index's keys, nothing else, and the caller's partition.
    key = decode_json_cursor(cursor, keys={"id", range_name, *expected})
    if key is not None and any(key[name] != {"S": value} for name, value in expected.items()):
        raise BadCursor("That page link is not valid.")
    return key


def decode_json_cursor(cursor: str | None, *, keys: set[str]) -> dict | None:
    """A cursor back to a last evaluated key holding exactly `keys`, each a string (albums page this way too)."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeError):
        raise BadCursor("That page link is not valid.") from None
    if not isinstance(key, dict) or set(key) != keys or not _is_string(*key.values()):
        raise BadCursor("That page link is not valid.")
    return key


def _is_string(*values: object) -> bool:
    return all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in values)


Page = tuple[list[MediaItem], str | None]


def media_page_for_owner(*, owner_id: str, cursor: str | None) -> Page:
    """The owner's items, every state (the trash too: the admin's view of an owner), newest first, and the cursor
    of the next page (None on the last)."""
    return _page(MediaItem.by_owner, "owner_id", owner_id, cursor)


def media_page_by_status(*, status: str, cursor: str | None) -> Page:
    """Every owner's items in one status, newest first: the admin's moderation list."""
    return _page(MediaItem.by_status, "status", status, cursor)


# --- The library as the owner sees it: the trash left out (docs/trash.md); by upload (the default: what was just
# uploaded is on top) or by date taken (docs/search.md), or only favourites (by upload). Each is the range key of
# an index on the owner, so a page is one Query, plus one per MEDIA_PAGE_SIZE trashed items it passes over.
NOT_TRASHED = MediaItem.status != Status.TRASHED
ORDERS = ("upload", "taken")


@dataclass(frozen=True)
class _Library:
    index: GlobalSecondaryIndex
    hash_name: str
    range_name: str


def _library(favourites: bool, order: str) -> _Library:
    if favourites:  # the sparse by-favourite index has one order: by upload
        return _Library(MediaItem.by_favourite, "favourite_owner", "created_at")
    if order == "taken":
        return _Library(MediaItem.by_shot, "owner_id", "shot_at")
    return _Library(MediaItem.by_owner, "owner_id", "created_at")


def library_page(*, owner_id: str, cursor: str | None, favourites: bool = False, order: str = "upload") -> Page:
    """The owner's items out of the trash (only favourites, if asked), newest first by upload or date taken."""
    library = _library(favourites, order)
    return _page(
        library.index, library.hash_name, owner_id, cursor, range_name=library.range_name, filter_condition=NOT_TRASHED
    )


def trash_page(*, owner_id: str, cursor: str | None) -> Page:
    """The owner's trash, most recently trashed first: one Query per page of the sparse by-trash index."""
    return _page(MediaItem.by_trash, "trash_owner", owner_id, cursor, range_name="trashed_at")


def _page(
    index, hash_name: str, hash_value: str, cursor: str | None, *, range_name: str = "created_at", filter_condition=None
) -> Page:
    start = decode_cursor(cursor, expected={hash_name: hash_value}, range_name=range_name)
    size = settings.MEDIA_PAGE_SIZE
    results = index.query(
        hash_value,
        scan_index_forward=False,
        limit=size,
        page_size=size,
        last_evaluated_key=start,
        filter_condition=filter_condition,
    )
    items = list(results)
    return items, encode_cursor(results.last_evaluated_key)


@dataclass(frozen=True)
class GalleryPage:
    items: list[MediaItem]
    older: str | None  # ?cursor= of the next page down; None on the last
    newer: str | None  # ?before= of the page above; None on the first


def gallery_page(
    *,
    owner_id: str,
    cursor: str | None = None,
    before: str | None = None,
    favourites: bool = False,
    order: str = "upload",
) -> GalleryPage:
    """A page of the owner's items, newest first: the first, the one below `cursor`, or the one above `before`.

    Paging back up is a Query the other way (ScanIndexForward) from the first item of the page below, so no cursor
    history is kept: one more item than a page says whether there is anything above it; if not, the page above is
    the first page (full, even when fewer items than a page lay between)."""
    library = _library(favourites, order)
    if before:
        items = _newer_items(owner_id, before, library)
        if items is not None:
            return GalleryPage(items, older=_cursor(items[-1], library), newer=_cursor(items[0], library))
        cursor = None
    items, older = library_page(owner_id=owner_id, cursor=cursor, favourites=favourites, order=order)
    return GalleryPage(items, older=older, newer=_cursor(items[0], library) if cursor and items else None)


def _newer_items(owner_id: str, before: str, library: _Library) -> list[MediaItem] | None:
    """The page just above `before`, newest first; None when that is the first page."""
    start = decode_cursor(before, expected={library.hash_name: owner_id}, range_name=library.range_name)
    size = settings.MEDIA_PAGE_SIZE
    results = library.index.query(
        owner_id,
        scan_index_forward=True,
        limit=size + 1,
        page_size=size + 1,
        last_evaluated_key=start,
        filter_condition=NOT_TRASHED,
    )
    items = list(results)
    return items[:size][::-1] if len(items) > size else None


def item_cursor(item: MediaItem, order: str = "upload", *, favourites: bool = False) -> str | None:
    """The gallery index's key of an item (by-owner, by-shot or by-favourite), as a cursor: paging starts next to it."""
    return _cursor(item, _library(favourites, order))


def _cursor(item: MediaItem, library: _Library) -> str | None:
    moment = getattr(item, library.range_name)
    return encode_cursor(
        {
            "id": {"S": item.id},
            library.range_name: {"S": MediaItem.created_at.serialize(moment)},
            library.hash_name: {"S": item.owner_id},
        }
    )


@dataclass(frozen=True)
class Month:
    """A month heading and the cards under it."""

    start: datetime  # the first of the month
    cards: list


def by_month(cards: list[dict], order: str) -> list[Month]:
    """Cards grouped under the month of the date the order sorts by (a page may start or end mid-month: its heading
    then repeats on the next page, as in any photo library)."""
    months: list[Month] = []
    for card in cards:
        item = card["item"]
        moment = item.sort_date if order == "taken" else item.created_at
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if not months or months[-1].start != start:
            months.append(Month(start, []))
        months[-1].cards.append(card)
    return months


def neighbours(item: MediaItem) -> tuple[MediaItem | None, MediaItem | None]:
    """The ready pictures just newer and just older than `item` in its owner's library (the gallery's order), for
    the full-window viewer's previous and next. One small Query each, read on past items without renditions."""
    shown = (MediaItem.status == Status.READY) & MediaItem.renditions.exists()
    found = []
    for condition, forward in (
        (MediaItem.created_at > item.created_at, True),
        (MediaItem.created_at < item.created_at, False),
    ):
        query = MediaItem.by_owner.query(
            item.owner_id, condition, scan_index_forward=forward, filter_condition=shown, page_size=10
        )
        found.append(next(iter(query), None))
    return found[0], found[1]


# Items whose file is in the library: an upload refused or failed is not, and one being deleted no longer is.
IN_LIBRARY = (Status.UPLOADED, Status.READY)


def media_with_checksums(*, owner_id: str, checksums: list[str]) -> list[MediaItem]:
    """The owner's items in the library whose file has one of these SHA-256 digests (hex), in the order asked.

    One Query per distinct checksum on the owner's partition of the sparse by-checksum index (no Scan): another
    owner's items cannot be read, and a file is seldom stored more than a few times, so one page answers each.
    """
    found: list[MediaItem] = []
    for checksum in dict.fromkeys(checksums):
        found += MediaItem.by_checksum.query(
            owner_id, MediaItem.sha256 == checksum, filter_condition=MediaItem.status.is_in(*IN_LIBRARY)
        )
    return found


def media_by_ids(*, owner_id: str, ids: list[str]) -> dict[str, MediaItem]:
    """The owner's items among `ids` (at most 100: one BatchGetItem, its unprocessed keys retried by PynamoDB).

    Someone else's item is left out exactly like an unknown one, so the answer tells nothing about other owners.
    Strongly consistent: an item that turned ready a moment ago is seen as ready.
    """
    found = MediaItem.batch_get(ids, consistent_read=True)
    return {item.id: item for item in found if item.owner_id == owner_id}


def rendition_urls(item: MediaItem, names: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Links to the renditions a page shows (all when `names` is None): {name: {"width", "height", ext: url}}."""
    urls = {}
    for name, rendition in (item.renditions or {}).items():
        if names is None or name in names:
            entry = {"width": rendition["width"], "height": rendition["height"]}
            entry.update({ext: storage.rendition_url(f["key"]) for ext, f in rendition["files"].items()})
            urls[name] = entry
    return urls


def media_to_reprocess(*, status: str, owner_id: str | None, before: datetime) -> tuple[int, Iterator[MediaItem]]:
    """How many items match, and the items: by owner or by status, created before `before`; Queries only."""
    if owner_id:
        index, hash_value, condition = MediaItem.by_owner, owner_id, MediaItem.status == status
    else:
        index, hash_value, condition = MediaItem.by_status, status, None
    args = (hash_value, MediaItem.created_at < before)
    return index.count(*args, filter_condition=condition), index.query(*args, filter_condition=condition)


@dataclass(frozen=True)
class Usage:
    items: int
    bytes_stored: int
    downloads: int
    quota: int
    trashed: int = 0  # items in the trash
    trashed_bytes: int = 0  # of `bytes_stored`: trashed items still count until they are deleted for good

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.bytes_stored / self.quota)) if self.quota else 0


def usage_for_owner(owner_id: str) -> Usage:
    """What a user stores: bytes from the quota's count; items and downloads from a Query of small attributes."""
    items = downloads = trashed = trashed_bytes = 0
    query = MediaItem.by_owner.query(owner_id, attributes_to_get=["status", "downloads", "size", "counted"])
    for item in query:
        downloads += item.downloads or 0
        items += item.status not in (Status.REJECTED, Status.FAILED, Status.DELETING, Status.TRASHED)
        if item.status == Status.TRASHED:
            trashed += 1
            trashed_bytes += int(item.size) if item.counted else 0
    return Usage(
        items=items,
        bytes_stored=quota.bytes_stored(owner_id),
        downloads=downloads,
        quota=settings.USER_STORAGE_QUOTA,
        trashed=trashed,
        trashed_bytes=trashed_bytes,
    )
