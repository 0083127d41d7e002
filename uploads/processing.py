"""The processing core: what to do with an object that landed in the uploads bucket.

Plain Python: it knows nothing of Celery or Lambda, whose adapters (tasks.py, events.py) call `process_object`.
S3 delivers events at least once and in any order, so every step is idempotent and every write conditional.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from pynamodb.exceptions import DoesNotExist, PynamoDBException, UpdateError

from mediahub.dynamo import condition_failed
from mediahub.errors import StorageUnavailable
from mediahub.stopwatch import Stopwatch
from uploads import imaging, quota, storage
from uploads.filetypes import SNIFF_BYTES, family, human_size, sniff
from uploads.models import MediaItem, Status, utcnow

log = logging.getLogger("uploads.processing")

MEDIA_KEY = re.compile(r"^uploads/(?P<owner>[^/]+)/(?P<id>[0-9a-f]{32})/original\.[a-z0-9]+$")
# Files up to this size stay in memory while processed; larger ones spill to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024
CACHE_CONTROL = "private, max-age=31536000, immutable"
# S3 and DynamoDB answers that mean "try again later".
TRANSIENT_CODES = {
    "InternalError",
    "ServiceUnavailable",
    "SlowDown",
    "RequestTimeout",
    "Throttling",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "500",
    "502",
    "503",
    "504",
}


class TransientError(StorageUnavailable):
    """Storage failed in a way that may pass: the trigger should retry."""


class Run(Stopwatch):
    """One processing run, for the structured log line."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.item_id: str | None = None
        self.outcome = "ignored"
        self.reason: str | None = None
        self.image_ms: dict[str, int] = {}

    def log(self) -> None:
        record = {"event": "processed", "key": self.key, "item": self.item_id, "outcome": self.outcome}
        log.info(json.dumps({**record, "reason": self.reason, "ms": {**self.ms, **self.image_ms}}))


def media_id_from_key(key: str) -> str | None:
    """The item id of an original's key; None for anything else (renditions, avatars, strangers)."""
    match = MEDIA_KEY.match(key)
    return match["id"] if match else None


def process_object(bucket: str, key: str, *, etag: str | None = None, force: bool = False) -> str:
    """Process an uploaded original; returns the outcome. Raises TransientError when a retry may succeed."""
    run = Run(key=key)
    try:
        run.outcome = _process(run, bucket, key, etag=etag, force=force)
    except TransientError as exc:
        run.outcome, run.reason = "retry", str(exc)
        raise
    finally:
        run.log()
    return run.outcome


def _process(run: Run, bucket: str, key: str, *, etag: str | None, force: bool) -> str:
    media_id = media_id_from_key(key) if bucket == settings.UPLOADS_BUCKET else None
    if media_id is None:
        return "ignored"
    run.item_id = media_id
    item = transient_safe(lambda: _get(media_id))
    if item is None:
        return "unknown"
    if _already_done(item, etag, force):
        return "duplicate"
    if not _count_attempt(item):
        run.reason = f"gave up after {settings.PROCESSING_MAX_ATTEMPTS} attempts"
        mark_failed(item.id, run.reason)
        return Status.FAILED
    try:
        return transient_safe(lambda: _process_item(run, item))
    except imaging.BadMedia as exc:
        run.reason = reason = str(exc)
    transient_safe(lambda: _reject(item, reason))
    return Status.REJECTED


def _get(media_id: str) -> MediaItem | None:
    try:
        return MediaItem.get(media_id, consistent_read=True)
    except DoesNotExist:
        return None


def _already_done(item: MediaItem, etag: str | None, force: bool) -> bool:
    if item.status == Status.REJECTED:
        return True
    if item.status != Status.READY or force:
        return False
    return etag is None or etag == item.etag


def _count_attempt(item: MediaItem) -> bool:
    """Count this attempt on the item first, so a file that kills the worker cannot loop forever."""
    transient_safe(lambda: item.update(actions=[MediaItem.attempts.add(1)]))
    return item.attempts <= settings.PROCESSING_MAX_ATTEMPTS


def _process_item(run: Run, item: MediaItem) -> str:
    fetched = fetch_and_render(
        run, item.object_key, declared_type=item.declared_type, max_size=settings.MAX_UPLOAD_SIZE, size=item.size
    )
    with run.stage("store"):
        prefix = f"renditions/{item.owner_id}/{item.id}/"
        renditions = store_renditions(prefix, fetched.image.renditions) if fetched.image else {}
        _mark_ready(item, fetched, renditions)
    return Status.READY


@dataclass
class Fetched:
    head: dict
    sha256: str
    detected: str
    image: imaging.ImageResult | None


def fetch_and_render(
    run: Run, key: str, *, declared_type: str, max_size: int, size: int | None = None, renditions: dict | None = None
) -> Fetched:
    """Check an original in the uploads bucket and, for an image, make its renditions (in memory).

    Raises BadMedia for anything that is not what it claims, larger than allowed, or gone.
    """
    head = storage.head_original(key)
    if head is None:
        raise imaging.BadMedia("The file is no longer in storage.")
    length = head["ContentLength"]
    if length > max_size:
        raise imaging.BadMedia(f"The file is {human_size(length)}; the limit is {human_size(max_size)}.")
    if size is not None and length != size:
        raise imaging.BadMedia(f"The file is {length} bytes but {size} were declared.")
    with _spooled() as fp:
        with run.stage("fetch"):
            sha256 = storage.download_original(key, fp)
        detected = _detect(fp, declared_type)
        image = _render(run, fp, renditions) if family(detected) == "image" else None
    return Fetched(head, sha256, detected, image)


@contextmanager
def _spooled() -> Iterator[IO[bytes]]:
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as fp:
        yield fp


def _detect(fp: IO[bytes], declared_type: str) -> str:
    fp.seek(0)
    detected = sniff(fp.read(SNIFF_BYTES))
    fp.seek(0)
    if detected is None:
        raise imaging.BadMedia("This file is not a type mediahub accepts (it may be empty, HTML, SVG or an archive).")
    if family(detected) != family(declared_type):
        raise imaging.BadMedia(f"The file says it is {declared_type}, but its content is {detected}.")
    return detected


def _render(run: Run, fp: IO[bytes], renditions: dict | None) -> imaging.ImageResult:
    result = imaging.render(fp, renditions=renditions)
    run.image_ms = result.timings
    return result


def store_renditions(prefix: str, renditions: list[imaging.Rendition]) -> dict:
    """Write renditions under `prefix` in the renditions bucket; {name: {"width", "height", "files": {ext: ..}}}."""
    stored: dict[str, dict] = {}
    for rendition in renditions:
        key = f"{prefix}{rendition.name}.{rendition.ext}"
        storage.put_rendition(key, rendition.data, content_type=rendition.content_type, cache_control=CACHE_CONTROL)
        entry = stored.setdefault(rendition.name, {"width": rendition.width, "height": rendition.height, "files": {}})
        entry["files"][rendition.ext] = {"key": key, "bytes": len(rendition.data)}
    return stored


def _mark_ready(item: MediaItem, fetched: Fetched, renditions: dict) -> None:
    """One conditional update with everything learned; a deleted item stays deleted."""
    now, head, image = utcnow(), fetched.head, fetched.image
    actions = [
        MediaItem.status.set(Status.READY),
        MediaItem.detected_type.set(fetched.detected),
        MediaItem.size.set(head["ContentLength"]),
        MediaItem.etag.set(head["ETag"].strip('"')),
        MediaItem.sha256.set(fetched.sha256),
        MediaItem.renditions.set(renditions or None),
        MediaItem.processed_at.set(now),
        MediaItem.updated_at.set(now),
        MediaItem.uploaded_at.set(item.uploaded_at or head["LastModified"]),
        MediaItem.attempts.set(0),
        MediaItem.reason.remove(),
        MediaItem.expires_at.remove(),
    ]
    if image:
        actions += [
            MediaItem.width.set(image.width),
            MediaItem.height.set(image.height),
            MediaItem.animated.set(image.animated),
            MediaItem.exif.set(image.exif or None),
        ]
    _conditional(item, actions)


def _reject(item: MediaItem, reason: str) -> None:
    if settings.REJECTED_ORIGINALS == "quarantine":
        storage.quarantine_original(item.object_key)
    else:
        storage.delete_original(item.object_key)
    actions = [
        MediaItem.status.set(Status.REJECTED),
        MediaItem.reason.set(reason),
        MediaItem.updated_at.set(utcnow()),
        MediaItem.expires_at.remove(),
    ]
    _conditional(item, actions)
    quota.uncount(item)


def mark_failed(media_id: str, reason: str) -> None:
    """After the last retry: the item says it failed and why, unless it got somewhere in the meantime."""
    actions = [MediaItem.status.set(Status.FAILED), MediaItem.reason.set(reason), MediaItem.updated_at.set(utcnow())]
    condition = MediaItem.id.exists() & MediaItem.status.is_in(Status.PENDING, Status.UPLOADED, Status.FAILED)
    try:
        MediaItem(media_id).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def _conditional(item: MediaItem, actions: list) -> None:
    try:
        item.update(actions=actions, condition=MediaItem.id.exists())
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        log.info("item %s was deleted while it was processed", item.id)


def transient_safe(call):
    """Run `call`, turning storage failures that may pass into TransientError."""
    try:
        return call()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in TRANSIENT_CODES:
            raise TransientError(f"S3/DynamoDB answered {code}") from exc
        raise
    except BotoCoreError as exc:
        raise TransientError(f"storage unreachable: {type(exc).__name__}") from exc
    except PynamoDBException as exc:
        if exc.cause_response_code in TRANSIENT_CODES or exc.cause_response_code is None:
            raise TransientError(f"DynamoDB failed: {exc.cause_response_code or type(exc.cause).__name__}") from exc
        raise
