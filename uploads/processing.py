"""The processing core: what to do with an object that landed in the uploads bucket.

Plain Python: it knows nothing of Celery or Lambda, whose adapters (tasks.py, events.py) call `process_object`.
S3 delivers events at least once and in any order, so every step is idempotent and every write conditional.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from pynamodb.exceptions import DoesNotExist, PynamoDBException

from mediahub.errors import StorageUnavailable
from mediahub.stopwatch import Stopwatch
from search import index
from uploads import arrival, imaging, lifecycle, placeholders, storage
from uploads.filetypes import SNIFF_BYTES, family, human_size, mismatch, sniff
from uploads.models import MediaItem, Status
from uploads.ranged import OutOfTime, RangedOriginal

if TYPE_CHECKING:
    from uploads.pdf import DocumentResult
    from uploads.video import VideoResult

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
    # A transaction cancelled for a reason other than its conditions (those become Lost or QuotaFull in
    # uploads/lifecycle.py): another transaction on the same item, or throttling.
    "TransactionCanceledException",
    "TransactionConflictException",
    "TransactionInProgressException",
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
        self.bytes_read: int | None = None  # of a video or PDF, read in ranges (an image is read whole)

    def log(self) -> None:
        record = {"event": "processed", "key": self.key, "item": self.item_id, "outcome": self.outcome}
        record |= {"reason": self.reason, "ms": {**self.ms, **self.image_ms}}
        log.info(json.dumps(record | ({"bytes_read": self.bytes_read} if self.bytes_read is not None else {})))


def media_id_from_key(key: str) -> str | None:
    """The item id of an original's key; None for anything else (renditions, avatars, strangers)."""
    match = MEDIA_KEY.match(key)
    return match["id"] if match else None


def process_object(bucket: str, key: str, *, version_id: str | None = None, force: bool = False) -> str:
    """Process an uploaded original; returns the outcome. Raises TransientError when a retry may succeed.

    `version_id` is the S3 event's (None from a task): a version other than the one pinned at arrival is removed.
    """
    run = Run(key=key)
    try:
        run.outcome = _process(run, bucket, key, version_id=version_id, force=force)
    except TransientError as exc:
        run.outcome, run.reason = "retry", str(exc)
        raise
    finally:
        run.log()
    return run.outcome


def _process(run: Run, bucket: str, key: str, *, version_id: str | None, force: bool) -> str:
    media_id = media_id_from_key(key) if bucket == settings.UPLOADS_BUCKET else None
    if media_id is None:
        return "ignored"
    run.item_id = media_id
    item = transient_safe(lambda: _get(media_id))
    if item is None:
        return "unknown"
    was_pending = item.status == Status.PENDING
    item = transient_safe(lambda: arrival.arrive(item))  # the event may beat the browser's complete
    if was_pending and item.status == Status.REJECTED:
        run.reason = item.reason
        return Status.REJECTED
    if version_id and item.version_id and version_id != item.version_id and item.status != Status.PENDING:
        transient_safe(lambda: storage.delete_original_version(key, version_id))
        run.reason = f"removed version {version_id}: the item is pinned to {item.version_id}"
        return "stray-version"
    if item.status == Status.REJECTED:
        transient_safe(lambda: storage.discard_original(item.object_key, item.version_id))  # finishes a refusal
        return "duplicate"
    if item.status != Status.UPLOADED and not (item.status == Status.READY and force):
        return "duplicate"
    return _attempt(run, item)


def _get(media_id: str) -> MediaItem | None:
    try:
        return MediaItem.get(media_id, consistent_read=True)
    except DoesNotExist:
        return None


def _attempt(run: Run, item: MediaItem) -> str:
    """One counted attempt on the pinned version; the final write is conditional on the state it started from."""
    started_from = item.status
    try:
        attempts = transient_safe(lambda: lifecycle.attempt(item))
    except lifecycle.Lost:
        return "superseded"
    if attempts > settings.PROCESSING_MAX_ATTEMPTS:
        run.reason = f"gave up after {settings.PROCESSING_MAX_ATTEMPTS} attempts"
        mark_failed(item.id, run.reason)
        return Status.FAILED
    try:
        return transient_safe(lambda: _process_item(run, item, started_from))
    except imaging.BadMedia as exc:
        run.reason = reason = str(exc)
    try:
        transient_safe(lambda: lifecycle.reject(item, started_from, reason))
    except lifecycle.Lost:
        return "superseded"
    transient_safe(lambda: _remove_files(item))
    return Status.REJECTED


def _remove_files(item: MediaItem) -> None:
    storage.discard_original(item.object_key, item.version_id)
    storage.delete_prefix(settings.RENDITIONS_BUCKET, storage.rendition_prefix(item.owner_id, item.id))


def _process_item(run: Run, item: MediaItem, started_from: str) -> str:
    fetched = fetch_and_render(
        run,
        item.object_key,
        declared_type=item.declared_type,
        max_size=settings.MAX_UPLOAD_SIZE,
        size=item.size,
        version_id=item.version_id,
    )
    with run.stage("store"):
        prefix = storage.rendition_prefix(item.owner_id, item.id)
        renditions = store_renditions(prefix, fetched.renditions) if fetched.renditions else {}
        _learn(item, fetched)
        # Indexed before the item is ready, so a failure here is retried with the run (a ready item is never run
        # again); if the run then loses, _lost_the_race takes the rows back out.
        index.index(item)
        try:
            lifecycle.finish(item, started_from, _ready_actions(item, fetched, renditions))
        except lifecycle.Lost:
            _lost_the_race(item, renditions)
            return "superseded"
    return Status.READY


def _lost_the_race(item: MediaItem, renditions: dict) -> None:
    """Another caller moved the item first. A twin run that made it ready wrote the same keys: keep them. Anything
    else (deleted, deleting, rejected, re-pinned) means what this run wrote belongs to nobody: remove it."""
    current = _get(item.id)
    done = current and Status.READY in (current.status, current.trashed_from)  # a twin finished it (in the trash?)
    if done and current.version_id == item.version_id:
        return
    if current is None or current.status == Status.DELETING:
        index.unindex(item)
    for rendition in renditions.values():
        for file in rendition["files"].values():
            storage.delete_rendition(file["key"])
    log.info("item %s moved while it was processed; removed the renditions this run wrote", item.id)


@dataclass
class Fetched:
    head: dict
    sha256: str | None  # None for a video or PDF larger than FULL_HASH_MAX_BYTES, which is never read whole
    detected: str
    image: imaging.ImageResult | None = None
    video: VideoResult | None = None
    document: DocumentResult | None = None

    @property
    def renditions(self) -> list[imaging.Rendition]:
        """An image's renditions, a video's poster's or a PDF's first page's; none for a video without a poster."""
        if self.image:
            return self.image.renditions
        return self.video.poster if self.video else self.document.preview if self.document else []


def fetch_and_render(
    run: Run,
    key: str,
    *,
    declared_type: str,
    max_size: int,
    size: int | None = None,
    renditions: dict | None = None,
    version_id: str | None = None,
) -> Fetched:
    """Check an original in the uploads bucket and make its renditions (in memory): of an image, read whole; of a
    video's poster frame or a PDF's first page, read in ranges.

    Raises BadMedia for anything that is not what it claims, larger than allowed, or gone.
    """
    head = storage.head_original(key, version_id)
    if head is None:
        raise imaging.BadMedia("The file is no longer in storage.")
    length = head["ContentLength"]
    if length > max_size:
        raise imaging.BadMedia(f"The file is {human_size(length)}; the limit is {human_size(max_size)}.")
    if size is not None and length != size:
        raise imaging.BadMedia(f"The file is {length} bytes but {size} were declared.")
    if family(declared_type) != "image":
        return _read_in_ranges(run, head, key, declared_type, version_id, renditions)
    with _spooled() as fp:
        with run.stage("fetch"):
            sha256 = storage.download_original(key, fp, version_id)
        detected = _detect(fp, declared_type)
        image = _render(run, fp, renditions) if family(detected) == "image" else None
    return Fetched(head, sha256, detected, image)


def _read_in_ranges(
    run: Run, head: dict, key: str, declared_type: str, version_id: str | None, renditions: dict | None
) -> Fetched:
    """A video or a PDF: its decoder reads only what it needs, through ranged GETs. The whole-file SHA-256 (the
    API's lookup by checksum) then costs a second, streamed read: made up to FULL_HASH_MAX_BYTES, and skipped
    above, where it would cost the transfer and time that reading in ranges saves (such items have no sha256)."""
    length = head["ContentLength"]
    deadline = time.monotonic() + settings.MEDIA_PREVIEW_SECONDS
    reader = RangedOriginal(key, length, version_id=version_id, deadline=deadline)
    with run.stage("preview"):
        try:
            fetched = _preview(head, reader, declared_type, renditions)
        except OutOfTime as exc:  # video and pdf say which part took too long; this is anything else
            seconds = settings.MEDIA_PREVIEW_SECONDS
            raise imaging.BadMedia(f"This file took too long to read (more than {seconds} seconds).") from exc
        finally:
            run.bytes_read = reader.bytes_fetched
    run.image_ms = (fetched.video or fetched.document).timings
    if length <= settings.FULL_HASH_MAX_BYTES:
        with run.stage("hash"):
            fetched.sha256 = storage.hash_original(key, version_id)
    return fetched


def _preview(head: dict, reader: RangedOriginal, declared_type: str, renditions: dict | None) -> Fetched:
    # Imported here: FFmpeg's and PDFium's libraries take half a second to load, which pages need not pay.
    from uploads import pdf, video

    fetched = Fetched(head, None, _detect(reader, declared_type))
    if family(fetched.detected) == "video":
        fetched.video = video.probe(reader, fetched.detected, renditions=renditions)
    else:
        fetched.document = pdf.preview(reader, renditions=renditions)
    return fetched


@contextmanager
def _spooled() -> Iterator[IO[bytes]]:
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as fp:
        yield fp


def _detect(fp: IO[bytes], declared_type: str) -> str:
    fp.seek(0)
    detected = sniff(fp.read(SNIFF_BYTES))
    fp.seek(0)
    if reason := mismatch(declared_type, detected):
        raise imaging.BadMedia(reason)
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


def _learn(item: MediaItem, fetched: Fetched) -> None:
    """What the search index and the ready write take from the file: its real type, when and with what it was
    taken (a photo's EXIF; else the upload's date stands)."""
    exif = fetched.image.exif if fetched.image else None
    item.detected_type = fetched.detected
    item.shot_at = index.taken_at(exif) or item.shot_at or item.created_at
    item.camera = index.camera_of(exif)


def _ready_actions(item: MediaItem, fetched: Fetched, renditions: dict) -> list:
    """Everything the run learned, for the conditional `finish` write."""
    head, image, clip, document = fetched.head, fetched.image, fetched.video, fetched.document
    actions = [
        MediaItem.detected_type.set(fetched.detected),
        MediaItem.etag.set(head["ETag"].strip('"')),
        MediaItem.sha256.set(fetched.sha256),
        MediaItem.renditions.set(renditions or None),
        MediaItem.uploaded_at.set(item.uploaded_at or head["LastModified"]),
    ]
    if image:
        actions += [
            MediaItem.width.set(image.width),
            MediaItem.height.set(image.height),
            MediaItem.animated.set(image.animated),
            MediaItem.exif.set(image.exif or None),
        ]
    if clip:
        actions += [
            MediaItem.width.set(clip.width),
            MediaItem.height.set(clip.height),
            MediaItem.duration.set(clip.duration),
            MediaItem.video_codec.set(clip.video_codec),
            MediaItem.audio_codec.set(clip.audio_codec),
            MediaItem.frame_rate.set(clip.frame_rate),
            MediaItem.rotation.set(clip.rotation),
        ]
    if document:
        actions.append(MediaItem.pages.set(document.pages))
    actions += [MediaItem.shot_at.set(item.shot_at), MediaItem.camera.set(item.camera)]
    # Whatever made the renditions (a photo, a video's poster, a PDF's first page) gives the placeholder.
    shown = placeholders.placeholder(fetched.renditions) if fetched.renditions else None
    actions += [
        MediaItem.thumbhash.set(shown.thumbhash if shown else None),
        MediaItem.color.set(shown.color if shown else None),
    ]
    return actions


def mark_failed(media_id: str, reason: str) -> None:
    """After the last attempt: the item says it failed and why, unless it got somewhere in the meantime."""
    lifecycle.fail(media_id, reason)


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
