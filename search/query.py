"""Answering a search in a bounded number of DynamoDB calls (docs/search.md says how many, and what they cost).

With words: one Query per word on the owner's partition of the term table (`begins_with`, so "sun" finds
"Sunset"), longest word first, stopping as soon as nothing is left; the rows carry type, camera and date, so the
filters cost nothing more; then BatchGetItem of the page's items, keeping only ready ones (trashed, processing or
refused items drop out here). Without words: the by-shot index, the date range a KeyCondition, type and camera a
filter. Never a Scan.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from mediahub.errors import Refusal
from search.index import item_terms, words
from search.models import SearchTerm
from uploads.filetypes import family as family_of
from uploads.models import MediaItem, Status
from uploads.services import MEDIA_ID

ROWS_PER_WORD = 2000  # rows one word may read (one Query page: ~150 bytes a row); past it the search is too broad
BATCHES_PER_PAGE = 3  # BatchGetItems a page may make to fill itself past items that are not ready
READS_PER_PAGE = 5  # by-shot Queries a filter-only page may make past items its filter drops
READ_SIZE = 100  # items each of those Queries reads


class BadCursor(Refusal):
    field = "cursor"


@dataclass(frozen=True)
class Search:
    """What was asked, already checked (search/forms.py)."""

    owner_id: str
    words: tuple[str, ...] = ()
    family: str | None = None  # image, video, document
    camera: str | None = None
    since: datetime | None = None  # taken at or after
    until: datetime | None = None  # taken before


@dataclass
class SearchPage:
    items: list[MediaItem]
    cursor: str | None  # of the next page; None on the last
    too_broad: str | None = None  # a word that matched more rows than a search reads: results may be missing


def search(request: Search, cursor: str | None = None) -> SearchPage:
    if request.words:
        return _by_words(request, cursor)
    return _by_date(request, cursor)


def query_words(text: str) -> list[str]:
    """The distinct words of a query, without those another word already implies ("sun sunset": "sunset" alone
    finds exactly the items both do)."""
    distinct = list(dict.fromkeys(words(text)))
    return [w for w in distinct if not any(o != w and o.startswith(w) for o in distinct)]


# --- With words ---------------------------------------------------------------------------------------------


def _by_words(request: Search, cursor: str | None) -> SearchPage:
    after = _decode(cursor)
    page = SearchPage(items=[], cursor=None)
    matches: dict[str, datetime] | None = None
    broad: list[tuple[str, dict[str, datetime]]] = []  # words whose rows were cut at ROWS_PER_WORD
    for word in sorted(request.words, key=len, reverse=True):  # a longer prefix is likelier to match fewer rows
        # One Query: ROWS_PER_WORD rows of ~150 bytes stay far below the 1 MB a Query page holds.
        rows = list(
            SearchTerm.query(
                request.owner_id,
                SearchTerm.term.startswith(word),
                limit=ROWS_PER_WORD + 1,
                page_size=ROWS_PER_WORD + 1,
            )
        )
        found = {row.media_id: row.shot_at for row in rows[:ROWS_PER_WORD] if _keeps(request, row)}
        if len(rows) > ROWS_PER_WORD:
            broad.append((word, found))  # not every match was read: checked on the page's items instead
            continue
        matches = found if matches is None else {k: v for k, v in matches.items() if k in found}
        if not matches:
            return page
    if matches is None:  # every word was too broad: the first one's rows are all there is to go on
        page.too_broad, matches = broad[0][0], broad[0][1]
        for _, found in broad[1:]:
            matches = {k: v for k, v in matches.items() if k in found}
        broad = []
    ordered = sorted(((shot, media_id) for media_id, shot in matches.items()), reverse=True)
    if after:
        ordered = [key for key in ordered if key < after]
    return _fill(page, request.owner_id, ordered, verify=[word for word, _ in broad])


def _keeps(request: Search, row: SearchTerm) -> bool:
    if row.media_id is None or row.shot_at is None:
        return False
    if request.family and row.family != request.family:
        return False
    if request.camera and row.camera != request.camera:
        return False
    if request.since and row.shot_at < request.since:
        return False
    return not (request.until and row.shot_at >= request.until)


def _fill(page: SearchPage, owner_id: str, ordered: list[tuple[datetime, str]], verify: list[str]) -> SearchPage:
    """The page's items in order, read a page's worth at a time (one BatchGetItem each), keeping the ready ones
    that also have a word starting with each of `verify` (the words too broad to read all the rows of)."""
    size = settings.MEDIA_PAGE_SIZE
    position = batches = 0
    while len(page.items) < size and position < len(ordered) and batches < BATCHES_PER_PAGE:
        chunk = ordered[position : position + size - len(page.items)]
        found = {item.id: item for item in MediaItem.batch_get([media_id for _, media_id in chunk])}
        batches += 1
        for _, media_id in chunk:
            item = found.get(media_id)
            if item and item.owner_id == owner_id and item.status == Status.READY and _has(item, verify):
                page.items.append(item)
        position += len(chunk)
    if position < len(ordered):
        page.cursor = _encode(ordered[position - 1])
    return page


def _has(item: MediaItem, prefixes: list[str]) -> bool:
    terms = item_terms(item) if prefixes else []
    return all(any(term.startswith(prefix) for term in terms) for prefix in prefixes)


# --- Filters alone: the date-taken index --------------------------------------------------------------------


def _by_date(request: Search, cursor: str | None) -> SearchPage:
    start = _decode_index_key(cursor, request.owner_id)
    page = SearchPage(items=[], cursor=None)
    size = settings.MEDIA_PAGE_SIZE
    for _ in range(READS_PER_PAGE):
        query = MediaItem.by_shot.query(
            request.owner_id,
            _date_range(request),
            filter_condition=_date_filter(request),
            scan_index_forward=False,
            page_size=min(READ_SIZE, 2 * (size - len(page.items))),
            last_evaluated_key=start,
        )
        raw = next(query.page_iter)  # exactly one Query: the iterator alone would read on until the page is full
        rows = raw.get("Items", [])
        start = raw.get("LastEvaluatedKey")
        for position, data in enumerate(rows):
            page.items.append(MediaItem.from_raw_data(data))
            if len(page.items) == size:
                if position < len(rows) - 1:  # the page ends inside what was read: go on after its last item
                    start = _index_key(page.items[-1])
                break
        if start is None or len(page.items) == size:
            break
    page.cursor = _encode_index_key(start) if start else None
    return page


def _date_range(request: Search):
    if request.since and request.until:
        return MediaItem.shot_at.between(request.since, _just_before(request.until))
    if request.since:
        return MediaItem.shot_at >= request.since
    if request.until:
        return MediaItem.shot_at < request.until
    return None


def _just_before(moment: datetime) -> datetime:
    return moment - timedelta(microseconds=1)


def _date_filter(request: Search):
    condition = MediaItem.status == Status.READY
    if request.family:
        types = [t for t in settings.MEDIA_TYPES if family_of(t) == request.family]
        condition &= MediaItem.detected_type.is_in(*types)
    if request.camera:
        condition &= MediaItem.camera == request.camera
    return condition


def _index_key(item: MediaItem) -> dict:
    return {
        "id": {"S": item.id},
        "owner_id": {"S": item.owner_id},
        "shot_at": {"S": MediaItem.shot_at.serialize(item.shot_at)},
    }


# --- Cursors ------------------------------------------------------------------------------------------------

INVALID = "That page link is not valid."


def _encode(key: tuple[datetime, str]) -> str:
    raw = json.dumps({"s": MediaItem.shot_at.serialize(key[0]), "i": key[1]}, separators=(",", ":"))
    return "w" + base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    value = _load(cursor, "w")
    if not isinstance(value, dict) or set(value) != {"s", "i"} or not all(isinstance(v, str) for v in value.values()):
        raise BadCursor(INVALID)
    return _decode_parts(value["s"], value["i"])


def _encode_index_key(key: dict) -> str:
    return "d" + base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _decode_index_key(cursor: str | None, owner_id: str) -> dict | None:
    """DynamoDB's key of a by-shot page: the table's key and the index's, of the caller's own partition."""
    if not cursor:
        return None
    key = _load(cursor, "d")
    if not isinstance(key, dict) or set(key) != {"id", "owner_id", "shot_at"}:
        raise BadCursor(INVALID)
    if key["owner_id"] != {"S": owner_id} or not all(
        isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values()
    ):
        raise BadCursor(INVALID)
    _decode_parts(key["shot_at"]["S"], key["id"]["S"])  # DynamoDB would refuse a malformed key less politely
    return key


def _decode_parts(shot_at: str, media_id: str) -> tuple[datetime, str]:
    if not MEDIA_ID.fullmatch(media_id):
        raise BadCursor(INVALID)
    try:
        return MediaItem.shot_at.deserialize(shot_at), media_id
    except ValueError:
        raise BadCursor(INVALID) from None


def _load(cursor: str, kind: str) -> object:
    if not cursor.startswith(kind):
        raise BadCursor(INVALID)
    try:
        return json.loads(base64.urlsafe_b64decode(cursor[1:].encode()))
    except (binascii.Error, ValueError, UnicodeError):
        raise BadCursor(INVALID) from None
