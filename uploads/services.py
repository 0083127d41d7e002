"""Everything that changes media: presigning, completing, editing, deleting, enqueueing.

Views, the API, tasks and Lambda handlers parse input, call one of these, and shape the output.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from pynamodb.exceptions import DoesNotExist

import albums.services
from mediahub.errors import Conflict, NotFound
from search import index
from uploads import arrival, dispatch, lifecycle, multipart, quota, storage
from uploads.filetypes import allowed_types
from uploads.models import DELETION_DUE, MediaItem, ShareLink, Status, utcnow

log = logging.getLogger(__name__)

UPLOAD_URL_SECONDS = 60
PENDING_LIFETIME = timedelta(days=1)
MEDIA_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class UploadTicket:
    """How the client sends the bytes: a presigned POST (`url`, `fields`), or, for a file in parts, the item's
    multipart upload (`item.upload_id`, `item.part_size`) whose part URLs it asks for."""

    item: MediaItem
    url: str = ""
    fields: dict[str, str] | None = None
    expires_in: int = UPLOAD_URL_SECONDS

    @property
    def multipart(self) -> bool:
        return self.item.upload_id is not None


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
    """Record a pending item and presign a POST of exactly `size` bytes of `content_type` to its key; a file
    above MULTIPART_THRESHOLD gets a multipart upload instead, its parts signed on request (`media_sign_parts`)."""
    item = _new_item(
        owner_id=owner_id,
        name=name,
        caption=caption,
        file_name=file_name,
        content_type=content_type,
        size=size,
        delete_after_days=delete_after_days,
        in_parts=multipart.wanted(size),
    )
    if item.upload_id:
        return UploadTicket(item=item, expires_in=int(multipart.ABANDON_AFTER.total_seconds()))
    post = storage.presigned_post(
        item.object_key,
        content_type=content_type,
        size_range=(size, size),
        expires=UPLOAD_URL_SECONDS,
        tag_pending=True,
    )
    return UploadTicket(item=item, url=post["url"], fields=post["fields"])


def _new_item(
    *,
    owner_id: str,
    name: str,
    caption: str,
    file_name: str,
    content_type: str,
    size: int,
    delete_after_days: int | None,
    in_parts: bool,
) -> MediaItem:
    """A pending item at a key of the server's choosing, recorded once its upload (in parts or not) can start."""
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
    item.shot_at = item.created_at  # until processing reads when it was taken
    if delete_after_days:
        item.delete_at = utcnow() + timedelta(days=delete_after_days)
        item.deletion_due = DELETION_DUE
    if in_parts:
        multipart.start(item)
    lifecycle.create(item)
    return item


def media_upload_direct(
    *, owner_id: str, name: str, caption: str, upload: UploadedFile, delete_after_days: int | None = None
) -> MediaItem:
    """The no-JavaScript path (small files, DirectUploadForm): stream the file to the item's key through
    django-storages, then complete it."""
    item = _new_item(
        owner_id=owner_id,
        name=name,
        caption=caption,
        file_name=upload.name,
        content_type=upload.content_type,
        size=upload.size,
        delete_after_days=delete_after_days,
        in_parts=False,
    )
    storage.save_original(item.object_key, upload)
    return media_complete(owner_id=owner_id, media_id=item.id)


def media_complete(*, owner_id: str, media_id: str) -> MediaItem:
    """Check what really arrived and hand it to processing; idempotent, like every path to arrival.

    Whoever arrives first (this call, a retry of it, or the S3 event in Lambda mode) checks and counts the file;
    a later call answers with the item as it is (uploaded, ready, or rejected with its reason).
    """
    item = get_owned(owner_id=owner_id, media_id=media_id)
    was_pending = item.status == Status.PENDING
    if was_pending and item.upload_id:
        multipart.finish(item)  # the parts joined into the object arrival checks, or the item refused
    item = arrival.arrive(item)
    if item.status == Status.DELETING:
        raise NotFound("No such media item.")
    if was_pending and item.status == Status.UPLOADED:
        enqueue_processing(item, after_upload=True)
    return item


def media_sign_parts(
    *, owner_id: str, media_id: str, part_numbers: list[int], checksums: list[str]
) -> list[multipart.SignedPart]:
    """Presigned PUT URLs for parts of the caller's own pending upload in parts."""
    return multipart.sign(get_owned(owner_id=owner_id, media_id=media_id), part_numbers, checksums)


def media_parts(*, owner_id: str, media_id: str) -> tuple[MediaItem, list[dict]]:
    """The item and the parts S3 already holds for it, so a client resumes where it stopped."""
    item = get_owned(owner_id=owner_id, media_id=media_id)
    return item, multipart.parts(item)


def media_cancel_upload(*, owner_id: str, media_id: str) -> None:
    """Give up a pending upload in parts: S3 drops the parts, and the item goes."""
    multipart.cancel(get_owned(owner_id=owner_id, media_id=media_id))


def enqueue_processing(item: MediaItem, *, force: bool = False, after_upload: bool = False) -> None:
    """Hand an item to processing. In Lambda mode a fresh upload needs nothing: its S3 event is on the way."""
    if after_upload and settings.PROCESSING_MODE == "lambda":
        return
    dispatch.enqueue(item.object_key, force=force)


def reprocess(item: MediaItem) -> None:
    """An operator's re-queue (the admin's button, `manage.py reprocess`): attempts start again from zero, so a
    failed item is processed again, and a ready one is rendered anew."""
    forced = item.status == Status.READY
    try:
        lifecycle.requeue(item)
    except lifecycle.Lost:
        raise Conflict("This item changed meanwhile; reload and try again.") from None
    dispatch.enqueue(item.object_key, force=forced)


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
    previous = index.item_terms(item)
    try:
        lifecycle.edit(item, owner_id=owner_id, name=name, caption=caption)
    except lifecycle.Lost:
        raise NotFound("No such media item.") from None
    if item.processed_at:  # indexed by processing; one not processed yet is indexed with its new words when it is
        index.reindex(item, previous=previous)
    return item


def media_delete(*, owner_id: str, media_id: str) -> None:
    """Delete for good, whatever its state (the owner's delete is a move to the trash: uploads/trash.py)."""
    delete_item(get_owned(owner_id=owner_id, media_id=media_id))


def delete_item(item: MediaItem, *, still: Callable[[MediaItem], bool] | None = None) -> bool:
    """Mark it deleting (bytes given back), then every object version, its links, and the record last.

    A failure half way leaves the record `deleting`, so deleting again (or the expiry run) finishes the job; a
    processing run that finishes meanwhile loses its write and removes what it wrote. `still` is a purge's reason
    (due, in the trash), checked on every read: if a restore got there first, the item is left alone (False).
    """
    for _ in range(3):  # a processing run (or a restore) may move the item between our read and our write
        if still and item.status != Status.DELETING and not still(item):
            return False
        try:
            lifecycle.start_delete(item)
            break
        except lifecycle.Lost:
            try:
                item = MediaItem.get(item.id, consistent_read=True)
            except MediaItem.DoesNotExist:
                return False
    else:
        raise Conflict("This item is busy; please try again.")
    if item.upload_id:
        multipart.abandon(item)  # a file in parts deleted before it was complete: S3 drops the parts now
    storage.delete_item_objects(owner_id=item.owner_id, media_id=item.id)
    with ShareLink.batch_write() as batch:
        for link in ShareLink.by_media.query(item.id):
            batch.delete(link)
    albums.services.forget_media(item)  # issue 13: its album memberships
    index.unindex(item)  # search rows, before the record: a failure here leaves it deleting, to finish again
    lifecycle.finish_delete(item)
    return True


def media_download_url(*, owner_id: str, media_id: str) -> str:
    item = get_owned(owner_id=owner_id, media_id=media_id)
    if item.status not in (Status.UPLOADED, Status.READY):
        raise Conflict("This file is not available for download.")
    return download_link(item)


def download_link(item: MediaItem) -> str:
    """Count a download (atomically, on an item that still exists) and return a 60-second link that saves the
    pinned version of the original under its own name."""
    count_download(item)
    return storage.download_url(
        item.object_key,
        file_name=item.file_name,
        content_type=item.detected_type or item.declared_type,
        version_id=item.version_id,
    )


def count_download(item: MediaItem) -> None:
    """One more download of the item, atomically, if it still exists and is downloadable."""
    try:
        lifecycle.count_download(item)
    except lifecycle.Lost:
        raise Conflict("This file is not available for download.") from None


ABANDON_AFTER = timedelta(hours=6)


def sweep_abandoned() -> int:
    """Remove uploads that were presigned but never completed: their objects (every version), then the record.

    Pending items are found on the status index; the presigned POST lived 60 seconds, so an item still pending
    hours later was abandoned. An upload in parts is left a day (multipart.ABANDON_AFTER), then its multipart
    upload is aborted first. A late complete then finds no file and is refused. Lifecycle rules (objects tagged
    pending, incomplete multipart uploads) are the net for records that TTL removed before a sweep ran.
    """
    count = 0
    now = utcnow()
    for item in MediaItem.by_status.query(Status.PENDING, MediaItem.created_at < now - ABANDON_AFTER):
        if item.upload_id:
            if item.created_at > now - multipart.ABANDON_AFTER:
                continue
            multipart.abandon(item)
        storage.delete_prefix_versions(settings.UPLOADS_BUCKET, storage.original_prefix(item.owner_id, item.id))
        count += lifecycle.abandon(item)
    log.info("removed %d abandoned upload(s)", count)
    return count


def delete_expired() -> int:
    """Delete every item whose owner's chosen lifetime is over, or whose `TRASH_DAYS` in the trash are: objects in
    both buckets, then the record.

    Run periodically; an item whose deletion fails stays in the index and is tried again next time.
    """
    now, count = utcnow(), 0
    for item in MediaItem.by_deletion.query(DELETION_DUE, MediaItem.delete_at <= now):
        # Still due on every read: a trashed item restored meanwhile (its delete_at removed) is left alone.
        count += delete_item(item, still=lambda fresh: fresh.delete_at is not None and fresh.delete_at <= now)
    log.info("deleted %d expired item(s)", count)
    return count


def reconcile_usage(*, fix: bool) -> list[quota.Drift]:
    """Every account's recorded usage against its counted items (one Query each; accounts from Django's users)."""
    from django.contrib.auth.models import User

    owners = (str(pk) for pk in User.objects.order_by("pk").values_list("pk", flat=True).iterator())
    return quota.reconcile(owners, fix=fix)
