"""The per-user storage quota: bytes of originals, counted when an upload completes and uncounted when it goes.

The count is one DynamoDB item per owner changed by atomic ADDs, so checking the quota costs one read, and the
conditional ADD at completion keeps two uploads racing for the last bytes from both getting in.
"""

from __future__ import annotations

from django.conf import settings
from pynamodb.exceptions import DoesNotExist, UpdateError

from mediahub.dynamo import condition_failed
from mediahub.errors import Refusal
from uploads.filetypes import human_size
from uploads.models import MediaItem, StorageUsage


class QuotaExceeded(Refusal):
    field = "size"


def bytes_stored(owner_id: str) -> int:
    try:
        return int(StorageUsage.get(owner_id, consistent_read=True).bytes)
    except DoesNotExist:
        return 0


def check(owner_id: str, size: int) -> None:
    """Refuse, with the figures, an upload that would take its owner over the quota."""
    used = bytes_stored(owner_id)
    if used + size > settings.USER_STORAGE_QUOTA:
        raise QuotaExceeded(_message(size, used))


def count(item: MediaItem) -> None:
    """Add a completed upload's bytes, atomically refusing it if the quota would be passed."""
    room = settings.USER_STORAGE_QUOTA - item.size
    condition = StorageUsage.owner_id.does_not_exist() | (StorageUsage.bytes <= room)
    try:
        StorageUsage(item.owner_id).update(actions=[StorageUsage.bytes.add(item.size)], condition=condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise QuotaExceeded(_message(item.size, bytes_stored(item.owner_id))) from None


def uncount(item: MediaItem) -> None:
    """Give back a counted item's bytes once, however many paths (refusal, deletion) try to."""
    try:
        item.update(actions=[MediaItem.counted.remove()], condition=MediaItem.counted == True)  # noqa: E712
    except UpdateError as exc:
        if condition_failed(exc):
            return
        raise
    release(item)


def release(item: MediaItem) -> None:
    """Take back bytes `count` added for an item that was then not marked counted."""
    StorageUsage(item.owner_id).update(actions=[StorageUsage.bytes.add(-item.size)])


def forget(owner_id: str) -> None:
    StorageUsage(owner_id).delete()


def _message(size: int, used: int) -> str:
    return (
        f"This file ({human_size(size)}) would take you over your storage quota: "
        f"{human_size(used)} of {human_size(settings.USER_STORAGE_QUOTA)} used."
    )
