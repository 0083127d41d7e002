"""Arrival: the one idempotent step that turns a pending item into an uploaded, counted one, or refuses it.

The browser's *complete*, the S3 event (Lambda mode) and a processing task all call `arrive`: whichever comes first
checks the object (HEAD, size, the type sniffed from its first bytes), pins its version and charges the quota in
one transaction; the others find it done. A refusal deletes the object only when this caller's own conditional
write made it, so a loser never deletes the winner's original.
"""

from __future__ import annotations

from uploads import lifecycle, quota, storage
from uploads.filetypes import SNIFF_BYTES, mismatch, sniff
from uploads.models import MediaItem, Status

NEVER_ARRIVED = "The file never arrived: the upload failed or its link expired. Please upload it again."


def arrive(item: MediaItem) -> MediaItem:
    """The item after its arrival, made now by this call or earlier by another; pending items only move on."""
    if item.status != Status.PENDING:
        return item
    reason = check(item)
    if reason is None:
        # Tagged first: an object tagged "arrived" is never removed by the abandoned-upload lifecycle rule.
        if not storage.mark_arrived(item.object_key, item.version_id):
            return _current(item)  # another caller refused it and deleted the object since our check
        try:
            lifecycle.arrive(item)
            return item
        except lifecycle.Lost:
            return _current(item)
        except lifecycle.QuotaFull:
            reason = quota.exceeded_message(item.owner_id, item.size)
    try:
        lifecycle.refuse(item, reason)
    except lifecycle.Lost:
        return _current(item)
    storage.discard_original(item.object_key, item.version_id)
    return item


def check(item: MediaItem) -> str | None:
    """Why the stored object is not what was declared, or None; fills in its type, ETag and version."""
    head = storage.head_original(item.object_key)
    if head is None:
        return NEVER_ARRIVED
    if head["ContentLength"] != item.size:
        return f"The file is {head['ContentLength']} bytes but {item.size} were declared."
    version_id = head.get("VersionId")
    version_id = None if version_id in (None, "null") else version_id
    first = storage.read_original_head(item.object_key, SNIFF_BYTES, version_id) if item.size else b""
    detected = sniff(first)
    if reason := mismatch(item.declared_type, detected):
        return reason
    item.detected_type, item.etag, item.version_id = detected, head["ETag"].strip('"'), version_id
    return None


def _current(item: MediaItem) -> MediaItem:
    """Another caller won: the item as it is now (deleted meanwhile reads as deleting, which callers refuse)."""
    try:
        return MediaItem.get(item.id, consistent_read=True)
    except MediaItem.DoesNotExist:
        item.status = Status.DELETING
        return item
