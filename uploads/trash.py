"""The trash, favourites and actions on a selection of items (docs/trash.md has the key design).

The owner's delete moves an item to the trash (`lifecycle.trash`); a restore brings it back to the state it left.
Deletion for good (`Empty trash`, one item from the trash page, the purge `TRASH_DAYS` on, account deletion) is
`services.delete_item`, the one path that removes objects, links and records.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from mediahub.errors import STORAGE_DOWN, STORAGE_ERRORS, Conflict, NotFound, Refusal
from uploads import lifecycle, selectors, services
from uploads.models import MediaItem, Status

DELETED = "deleted"  # what the owner's delete did to a pending upload: it has nothing to keep, so it went for good
BUSY = "This item is busy; please try again."
GONE_FOR_GOOD = "No such media item: it was deleted for good."


def _fresh(media_id: str) -> MediaItem | None:
    try:
        return MediaItem.get(media_id, consistent_read=True)
    except MediaItem.DoesNotExist:
        return None


def trash_item(item: MediaItem) -> str:
    """The owner's delete of an item they own: into the trash (its new status), or, pending, gone for good."""
    for _ in range(3):  # processing may move the item between the read and the write: read again, once or twice
        if item.status == Status.TRASHED:
            raise Conflict("This item is already in the trash.")
        if item.status in (Status.PENDING, Status.DELETING):  # deleting: a deletion that failed half way, finished
            services.delete_item(item)
            return DELETED
        try:
            lifecycle.trash(item)
            return item.status
        except lifecycle.Lost:
            item = _fresh(item.id)
            if item is None:
                raise NotFound("No such media item.") from None
    raise Conflict(BUSY)


def restore_item(item: MediaItem) -> str:
    """Out of the trash, back where it was; one that was waiting for processing is handed to processing again."""
    for _ in range(3):  # a processing run may finish it in the trash between the read and the write
        if item.status == Status.DELETING:
            raise NotFound(GONE_FOR_GOOD)
        if item.status != Status.TRASHED:
            raise Conflict("This item is not in the trash.")
        try:
            lifecycle.restore(item)
            break
        except lifecycle.Lost:
            item = _fresh(item.id)
            if item is None:
                raise NotFound(GONE_FOR_GOOD) from None
    else:
        raise Conflict(BUSY)
    if item.status == Status.UPLOADED:
        services.enqueue_processing(item)
    return item.status


def in_trash(item: MediaItem) -> bool:
    return item.status == Status.TRASHED


def purge_item(item: MediaItem) -> None:
    """Delete one trashed item for good; a restore that got there first wins, and this says so."""
    if not services.delete_item(item, still=in_trash):
        raise Conflict("This item is no longer in the trash.")


def days_left(item: MediaItem, now: datetime) -> int:
    """Whole days, rounded up, until the purge: just trashed is TRASH_DAYS; 0 once due (the next sweep)."""
    return max(0, math.ceil((item.delete_at - now).total_seconds() / 86400)) if item.delete_at else 0


def move_to_trash(*, owner_id: str, media_id: str) -> str:
    return trash_item(services.get_owned(owner_id=owner_id, media_id=media_id))


def restore(*, owner_id: str, media_id: str) -> str:
    return restore_item(services.get_owned(owner_id=owner_id, media_id=media_id))


def delete_for_good(*, owner_id: str, media_id: str) -> None:
    """The trash page's "Delete for good" of one item."""
    purge_item(services.get_owned(owner_id=owner_id, media_id=media_id))


def empty_trash(owner_id: str) -> int:
    """Delete every trashed item of the owner's for good, one Query page at a time; how many went."""
    return sum(services.delete_item(item, still=in_trash) for item in MediaItem.by_trash.query(owner_id))


def set_favourite(*, owner_id: str, media_id: str, on: bool) -> MediaItem:
    item = services.get_owned(owner_id=owner_id, media_id=media_id)
    _favourite(item, on)
    return item


def _favourite(item: MediaItem, on: bool) -> str:
    try:
        lifecycle.favourite(item, owner_id=item.owner_id, on=on)
    except lifecycle.Lost:
        raise NotFound("No such media item.") from None
    return item.status


# --- Bulk: one action on a selection ------------------------------------------------------------------------------

ACTIONS: dict[str, Callable[[MediaItem], str]] = {
    "trash": trash_item,
    "restore": restore_item,
    "favourite": lambda item: _favourite(item, True),
    "unfavourite": lambda item: _favourite(item, False),
}
DONE = {
    "trash": "moved to the trash",
    "restore": "restored",
    "favourite": "added to favourites",
    "unfavourite": "removed from favourites",
}


class BadSelection(Refusal):
    """No ids, too many, or an unknown action: nothing was changed."""

    field = "ids"


class BadAction(Refusal):
    field = "action"


class NotYours(Refusal):
    """A selection naming an item that is not the requester's (or does not exist): the whole request is refused.

    A 404 like an unknown item, but a refusal a page shows as a message (a selection is not a page of its own)."""

    http_status = 404
    field = "ids"


@dataclass(frozen=True)
class Outcome:
    id: str
    name: str
    ok: bool
    status: str | None = None  # the item's status after the action
    error: str | None = None  # why this one was not done (a state conflict), for a person


def max_items() -> int:
    return settings.BULK_MAX_ITEMS


def check_selection(owner_id: str, ids: list[str]) -> dict[str, MediaItem]:
    """The requester's items for a selection, or a refusal before anything changed: none, too many, or any id that
    is not one of theirs (listed, so they can tell which)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise BadSelection("Select at least one item.")
    if len(ids) > max_items():
        raise BadSelection(
            f"Select at most {max_items()} items at once (you selected {len(ids)}). Nothing was changed."
        )
    valid = [media_id for media_id in ids if services.MEDIA_ID.fullmatch(media_id)]
    found = selectors.media_by_ids(owner_id=owner_id, ids=valid) if valid else {}
    unknown = [media_id for media_id in ids if media_id not in found]
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise NotYours(f"No such media item among yours: {shown}. Nothing was changed.")
    return {media_id: found[media_id] for media_id in ids}


def bulk(*, owner_id: str, action: str, ids: list[str]) -> list[Outcome]:
    """`action` on each selected item, reported item by item: a state conflict (restoring an item that is not in
    the trash) or an outage on one item is in its outcome, never silently skipped."""
    perform = ACTIONS.get(action)
    if perform is None:
        raise BadAction(f"Unknown action: choose one of {', '.join(ACTIONS)}.")
    outcomes = []
    for media_id, item in check_selection(owner_id, ids).items():
        try:
            outcomes.append(Outcome(media_id, item.name, True, status=perform(item)))
        except Refusal as exc:
            outcomes.append(Outcome(media_id, item.name, False, error=exc.message))
        except STORAGE_ERRORS:
            outcomes.append(Outcome(media_id, item.name, False, error=STORAGE_DOWN))
    return outcomes


def summary(action: str, outcomes: list[Outcome]) -> tuple[str, list[str]]:
    """For a page: what was done, in a sentence, and one line per item that was not."""
    done = sum(outcome.ok for outcome in outcomes)
    text = f"{done} item{'s' if done != 1 else ''} {DONE[action]}."
    return text, [f"“{outcome.name}”: {outcome.error}" for outcome in outcomes if not outcome.ok]
