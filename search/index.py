"""Keeping the search index true: the words of an item and the rows that hold them.

Called by the code that changes an item (uploads/processing.py when it becomes ready, uploads/services.py on an
edit and on deletion for good). Every call writes the whole truth it knows (puts and deletes of whole rows), so a
call repeated, or made for an item the index never saw, changes nothing more. Trash needs nothing: rows stay while
an item is trashed, and the results keep only ready items (so a restore brings it back at once).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from pynamodb.exceptions import UpdateError

from search.models import SearchTerm
from uploads.models import MediaItem

# A word: letters and digits of any script, after accents are folded and case is dropped.
WORD = re.compile(r"[^\W_]+")
MIN_PREFIX = 2  # shorter words are neither indexed nor searched for: a 1-letter prefix matches half a library
MAX_TERM = 40  # longer words are indexed (and searched) by their first 40 characters: keys stay small
MAX_TERMS_PER_ITEM = 300  # the first distinct words of name, file name and caption, in that order: bounds a write
CAMERA = "!camera#"
CAMERAS = "!cameras"


def words(text: str) -> list[str]:
    """The normalised words of a text, in order: "Été à Zürich_2024" -> ["ete", "a", "zurich", "2024"]."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return [word[:MAX_TERM] for word in WORD.findall(folded.casefold())]


def file_stem(file_name: str) -> str:
    """The file name without its extension: "IMG_2041.HEIC" -> "IMG_2041" (the type filter covers the rest)."""
    stem, dot, _ = file_name.rpartition(".")
    return stem if dot and stem else file_name


def item_terms(item: MediaItem) -> list[str]:
    """The distinct words an item is found by: its name, its file name's stem parts, its caption."""
    found = dict.fromkeys(
        word
        for text in (item.name or "", file_stem(item.file_name or ""), item.caption or "")
        for word in words(text)
        if len(word) >= MIN_PREFIX
    )
    return list(found)[:MAX_TERMS_PER_ITEM]


def camera_of(exif: dict | None) -> str | None:
    """ "Make Model" as people say it ("Canon EOS R5", not "Canon Canon EOS R5"); None without either."""
    make, model = ((exif or {}).get(key, "").strip() for key in ("make", "model"))
    name = model if make and model.casefold().startswith(make.casefold()) else f"{make} {model}"
    name = " ".join(name.replace("#", " ").split())  # "#" separates the parts of a row's key
    return name or None


def taken_at(exif: dict | None) -> datetime | None:
    """EXIF DateTimeOriginal (the camera's clock, no time zone: read as UTC, so the date shown is the one written)."""
    value = (exif or {}).get("taken_at")
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def _row(item: MediaItem, term: str) -> SearchTerm:
    return SearchTerm(
        item.owner_id,
        f"{term}#{item.id}",
        media_id=item.id,
        family=item.family,
        camera=item.camera,
        shot_at=item.sort_date,
    )


def index(item: MediaItem) -> None:
    """Write every row of the item as it is now (its words, its camera): idempotent puts, 25 a BatchWriteItem,
    unprocessed items retried by PynamoDB (with backoff, then an error rather than a silent loss)."""
    _write(put=[_row(item, term) for term in item_terms(item)] + _camera_rows(item), delete=[])
    if item.camera:
        SearchTerm(item.owner_id, CAMERAS).update(actions=[SearchTerm.cameras.add({item.camera})])


def reindex(item: MediaItem, *, previous: list[str]) -> None:
    """After an edit of name or caption (`previous`: its words before): delete only the words the item lost, put
    only the words it gained."""
    new = item_terms(item)
    gone = [SearchTerm(item.owner_id, f"{term}#{item.id}") for term in previous if term not in new]
    _write(put=[_row(item, term) for term in new if term not in previous], delete=gone)


def unindex(item: MediaItem) -> None:
    """Remove every row of an item deleted for good; harmless twice, or for an item never indexed. Its camera leaves
    the owner's list once no other item of theirs has it (one small Query)."""
    rows = [SearchTerm(item.owner_id, f"{term}#{item.id}") for term in item_terms(item)] + _camera_rows(item)
    _write(put=[], delete=rows)
    if item.camera and not _camera_in_use(item.owner_id, item.camera):
        try:
            SearchTerm(item.owner_id, CAMERAS).update(
                actions=[SearchTerm.cameras.delete({item.camera})], condition=SearchTerm.owner_id.exists()
            )
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise


def cameras(owner_id: str) -> list[str]:
    """The cameras the owner's items were taken with, for the filter: one GetItem of a single row."""
    try:
        row = SearchTerm.get(owner_id, CAMERAS)
    except SearchTerm.DoesNotExist:
        return []
    return sorted(row.cameras or (), key=str.casefold)


def _camera_rows(item: MediaItem) -> list[SearchTerm]:
    if not item.camera:
        return []
    return [SearchTerm(item.owner_id, f"{CAMERA}{item.camera}#{item.id}", media_id=item.id, camera=item.camera)]


def _camera_in_use(owner_id: str, camera: str) -> bool:
    rows = SearchTerm.query(owner_id, SearchTerm.term.startswith(f"{CAMERA}{camera}#"), limit=1)
    return next(iter(rows), None) is not None


def _write(*, put: list[SearchTerm], delete: list[SearchTerm]) -> None:
    if not put and not delete:
        return
    with SearchTerm.batch_write() as batch:
        for row in put:
            batch.save(row)
        for row in delete:
            batch.delete(row)
