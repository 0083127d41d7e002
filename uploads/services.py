"""Everything that changes media: presigning, completing, editing, deleting, enqueueing.

Views, the API, tasks and Lambda handlers parse input, call one of these, and shape the output.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition

from mediahub.dynamo import condition_failed
from mediahub.errors import Conflict, NotFound
from uploads import dispatch, quota, storage
from uploads.filetypes import SNIFF_BYTES, allowed_types, family, sniff
from uploads.models import MediaItem, ShareLink, Status, utcnow

log = logging.getLogger(__name__)

UPLOAD_URL_SECONDS = 60
PENDING_LIFETIME = timedelta(days=1)
DELETION_DUE = "due"
MEDIA_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class UploadTicket:
    item: MediaItem
    url: str
    fields: dict[str, str]
    expires_in: int = UPLOAD_URL_SECONDS


def object_key(owner_id: str, media_id: str, content_type: str) -> str:
    return f"uploads/{owner_id}/{media_id}/original.{allowed_types()[content_type]}"


def get_owned(*, owner_id: str, media_id: str) -> MediaItem:
    """The item, if it exists and belongs to `owner_id`; someone else's id is as unknown as a made-up one."""
    if not MEDIA_ID.fullmatch(media_id):
        raise NotFound("No such media item.")
    try:
        item = MediaItem.get(media_id)
    except DoesNotExist:
        raise NotFound("No such media item.") from None
    if item.owner_id != owner_id:
        raise NotFound("No such media item.")
    return item


def media_create(
    *,
    owner_id: str,
    name: str,
    caption: str,
    file_name: str,
    content_type: str,
    size: int,
    delete_after_days: int | None = None,
) -> UploadTicket:
    """Record a pending item and presign a POST of exactly `size` bytes of `content_type` to its key."""
    quota.check(owner_id, size)
    media_id = uuid.uuid4().hex
    item = MediaItem(
        media_id,
        owner_id=owner_id,
        name=name,
        caption=caption,
        file_name=file_name,
        object_key=object_key(owner_id, media_id, content_type),
        declared_type=content_type,
        size=size,
        expires_at=PENDING_LIFETIME,
    )
    if delete_after_days:
        item.delete_at = utcnow() + timedelta(days=delete_after_days)
        item.deletion_due = DELETION_DUE
    item.save(condition=MediaItem.id.does_not_exist())
    post = storage.presigned_post(
        item.object_key, content_type=content_type, size_range=(size, size), expires=UPLOAD_URL_SECONDS
    )
    return UploadTicket(item=item, url=post["url"], fields=post["fields"])


def media_upload_direct(
    *, owner_id: str, name: str, caption: str, upload: UploadedFile, delete_after_days: int | None = None
) -> MediaItem:
    """The no-JavaScript path: stream the file to the item's key through django-storages, then complete it."""
    ticket = media_create(
        owner_id=owner_id,
        name=name,
        caption=caption,
        file_name=upload.name,
        content_type=upload.content_type,
        size=upload.size,
        delete_after_days=delete_after_days,
    )
    storage.save_original(ticket.item.object_key, upload)
    return media_complete(owner_id=owner_id, media_id=ticket.item.id)


def media_complete(*, owner_id: str, media_id: str) -> MediaItem:
    """Check what really arrived; reject it with a reason, or mark it uploaded and hand it to processing."""
    item = get_owned(owner_id=owner_id, media_id=media_id)
    if item.status != Status.PENDING:
        raise Conflict(f"This upload was already completed (it is {item.status}).")
    reason = _check_arrival(item)
    if not reason:
        try:
            quota.count(item)
        except quota.QuotaExceeded as exc:
            reason = exc.message
    if reason:
        storage.delete_original(item.object_key)
        _transition(item, Status.REJECTED, reason=reason)
        return item
    try:
        _transition(item, Status.UPLOADED, extra=[MediaItem.counted.set(True)])
    except Conflict:
        quota.release(item)  # another request completed it first, and counted it
        raise
    enqueue_processing(item, after_upload=True)
    return item


def _check_arrival(item: MediaItem) -> str | None:
    head = storage.head_original(item.object_key)
    if head is None:
        return "The file never arrived: the upload failed or its link expired. Please upload it again."
    if head["ContentLength"] != item.size:
        return f"The file is {head['ContentLength']} bytes but {item.size} were declared."
    detected = sniff(storage.read_original_head(item.object_key, SNIFF_BYTES))
    if detected is None or family(detected) != family(item.declared_type):
        what = f"a {family(detected)} ({detected})" if detected else "not a file type mediahub accepts"
        return f"The file says it is {item.declared_type}, but its content is {what}."
    item.detected_type = detected
    item.etag = head["ETag"].strip('"')
    return None


def _transition(item: MediaItem, status: str, *, reason: str | None = None, extra: list | None = None) -> None:
    """Move a pending item on, only if it is still pending: a late or repeated call never moves it backwards."""
    now = utcnow()
    actions = [MediaItem.status.set(status), MediaItem.updated_at.set(now), MediaItem.expires_at.remove()]
    if status == Status.UPLOADED:
        actions += [
            MediaItem.uploaded_at.set(now),
            MediaItem.detected_type.set(item.detected_type),
            MediaItem.etag.set(item.etag),
        ]
    if reason:
        actions.append(MediaItem.reason.set(reason))
    try:
        item.update(actions=actions + (extra or []), condition=MediaItem.status == Status.PENDING)
    except UpdateError as exc:
        if condition_failed(exc):
            raise Conflict("This upload was completed by another request.") from None
        raise


def enqueue_processing(item: MediaItem, *, force: bool = False, after_upload: bool = False) -> None:
    """Hand an item to processing. In Lambda mode a fresh upload needs nothing: its S3 event is on the way."""
    if after_upload and settings.PROCESSING_MODE == "lambda":
        return
    dispatch.enqueue(item.object_key, force=force)


def requeue_stuck() -> int:
    """Re-queue items left `uploaded` for too long: nothing may depend on a single event delivery."""
    cutoff = utcnow() - timedelta(minutes=settings.PROCESSING_STUCK_MINUTES)
    stuck = MediaItem.by_status.query(Status.UPLOADED, MediaItem.created_at < cutoff)
    count = 0
    for item in stuck:
        if (item.uploaded_at or item.created_at) < cutoff:
            enqueue_processing(item)
            count += 1
    log.info("re-queued %d stuck item(s)", count)
    return count


def media_update(*, owner_id: str, media_id: str, name: str, caption: str) -> MediaItem:
    item = get_owned(owner_id=owner_id, media_id=media_id)
    item.update(
        actions=[MediaItem.name.set(name), MediaItem.caption.set(caption), MediaItem.updated_at.set(utcnow())],
        condition=_still_owned(owner_id),
    )
    return item


def _still_owned(owner_id: str) -> Condition:
    return MediaItem.owner_id == owner_id


def media_delete(*, owner_id: str, media_id: str) -> None:
    delete_item(get_owned(owner_id=owner_id, media_id=media_id))


def delete_item(item: MediaItem) -> None:
    """Objects first, record last: a failure half way leaves the record, so deleting again finishes the job."""
    storage.delete_item_objects(owner_id=item.owner_id, media_id=item.id)
    quota.uncount(item)
    with ShareLink.batch_write() as batch:
        for link in ShareLink.by_media.query(item.id):
            batch.delete(link)
    item.delete()


def media_download_url(*, owner_id: str, media_id: str) -> str:
    item = get_owned(owner_id=owner_id, media_id=media_id)
    if item.status not in (Status.UPLOADED, Status.READY):
        raise Conflict("This file is not available for download.")
    return download_link(item)


def download_link(item: MediaItem) -> str:
    """Count a download (atomically) and return a 60-second link that saves the original under its own name."""
    item.update(actions=[MediaItem.downloads.add(1)])
    return storage.download_url(
        item.object_key, file_name=item.file_name, content_type=item.detected_type or item.declared_type
    )


def delete_expired() -> int:
    """Delete every item whose owner's chosen lifetime is over: objects in both buckets, then the record.

    Run periodically; an item whose deletion fails stays in the index and is tried again next time.
    """
    count = 0
    for item in MediaItem.by_deletion.query(DELETION_DUE, MediaItem.delete_at <= utcnow()):
        delete_item(item)
        count += 1
    log.info("deleted %d expired item(s)", count)
    return count
