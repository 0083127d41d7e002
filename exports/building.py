"""The build: one plain function, `build(job_id)`, that the Celery task (exports/tasks.py) and the asynchronous
Lambda invocation (exports/events.py) both call.

It streams: each original (its pinned version) is read from S3 a megabyte at a time and written into a ZIP whose
bytes go back to S3 as a multipart upload (exports/zipstream.py), so memory stays a few parts whatever the size.
Entries are stored, not deflated: photos and videos are compressed already, and deflating them would cost the CPU
time the limit is measured in for a percent or two.
"""

from __future__ import annotations

import logging
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta

from botocore.exceptions import ClientError
from django.conf import settings
from pynamodb.exceptions import DoesNotExist

from exports import lifecycle
from exports.models import State, ZipJob
from exports.zipstream import S3PartWriter, safe_name, unique_names
from mediahub.aws import client
from mediahub.errors import STORAGE_ERRORS
from uploads.models import MediaItem, Status, utcnow

log = logging.getLogger(__name__)

CHUNK = 1024**2  # bytes read from an original at a time
PROGRESS_SECONDS = 2.0  # progress (and the heartbeat) is written at most this often
GONE_CODES = ("NoSuchKey", "NoSuchVersion", "404", "NotFound")


class TooLong(Exception):
    """The build passed ZIP_BUILD_SECONDS: stopped before the Lambda function's own timeout kills it unawares."""


@dataclass
class Run:
    job: ZipJob
    deadline: float
    bytes_done: int = 0
    items_done: int = 0
    skipped: list[dict] = field(default_factory=list)
    last_write: float = field(default_factory=time.monotonic)

    def in_time(self) -> float:
        now = time.monotonic()
        if now > self.deadline:
            raise TooLong
        return now

    def tick(self) -> None:
        """After each chunk: stop past the deadline, and write progress every PROGRESS_SECONDS (Lost if the job
        is no longer this run's)."""
        now = self.in_time()
        if now - self.last_write >= PROGRESS_SECONDS:
            lifecycle.progress(self.job, bytes_done=self.bytes_done, items_done=self.items_done)
            self.last_write = now


def build(job_id: str) -> str:
    """Build the job's ZIP, once: "ready", "failed", or "duplicate" (another run holds it or it is over), "lost"
    (another run took it over meanwhile), "gone" (no such job). Safe to deliver twice or to run twice at once."""
    try:
        job = ZipJob.get(job_id, consistent_read=True)
    except DoesNotExist:
        return "gone"
    runner = uuid.uuid4().hex
    stale_before = utcnow() - timedelta(seconds=settings.ZIP_LEASE_SECONDS)
    try:
        if job.state == State.QUEUED:
            lifecycle.start(job, runner)
        elif job.state == State.BUILDING and job.heartbeat_at and job.heartbeat_at < stale_before:
            lifecycle.take_over(job, runner, stale_before=stale_before)
        else:
            return "duplicate"
    except lifecycle.Lost:
        return "duplicate"
    # Items left out when the job was made (not ready then) stay listed with those the build leaves out.
    return _run(Run(job, deadline=time.monotonic() + settings.ZIP_BUILD_SECONDS, skipped=list(job.skipped or [])))


def _run(run: Run) -> str:
    job = run.job
    key = f"exports/{job.owner_id}/{job.id}/{job.runner}.zip"
    sink = None
    try:
        sink = S3PartWriter(key, part_size=settings.ZIP_PART_SIZE)
        _write_zip(run, sink)
        if run.items_done == 0:
            sink.abort()
            lifecycle.fail(
                job, "None of the selected items could be read: they were deleted or changed.", skipped=run.skipped
            )
            return "failed"
        run.in_time()  # the last part and the join take a second or two: not begun past the deadline
        sink.close()
    except lifecycle.Lost:
        sink and sink.abort()
        return "lost"
    except TooLong:
        sink and sink.abort()
        limit = settings.ZIP_BUILD_SECONDS
        return _fail(
            job,
            f"Building the ZIP took longer than {limit} seconds, the most it may take. Select fewer "
            "or smaller items and try again.",
        )
    except STORAGE_ERRORS:
        log.exception("ZIP job %s: storage failed", job.id)
        sink and sink.abort()
        return _fail(job, "Storage failed while the ZIP was being built. Please try again.")
    except Exception:
        # A fault of ours: the job still ends with a reason (not left building for the sweep), and the task fails
        # loudly; a retried delivery finds the job failed and does nothing.
        log.exception("ZIP job %s: the build failed", job.id)
        sink and sink.abort()
        _fail(job, "The ZIP could not be built. Please try again; if it fails again, select fewer items.")
        raise
    expires_at = utcnow() + timedelta(hours=settings.ZIP_KEEP_HOURS)
    try:
        lifecycle.finish(
            job,
            object_key=key,
            zip_size=sink.size,
            items_done=run.items_done,
            bytes_done=run.bytes_done,
            skipped=run.skipped,
            expires_at=expires_at,
        )
    except lifecycle.Lost:
        client("s3").delete_object(Bucket=settings.RENDITIONS_BUCKET, Key=key)  # never the winner's: runner in key
        return "lost"
    return "ready"


def _fail(job: ZipJob, reason: str) -> str:
    try:
        lifecycle.fail(job, reason)
    except lifecycle.Lost:
        return "lost"
    return "failed"


def _write_zip(run: Run, sink: S3PartWriter) -> None:
    """Every item still the owner's and ready, in the order chosen; the others are listed in `run.skipped`."""
    job = run.job
    found = {item.id: item for item in MediaItem.batch_get(job.media_ids, consistent_read=True)}
    items: list[MediaItem] = []
    for media_id in job.media_ids:
        item = found.get(media_id)
        if item is None or item.owner_id != job.owner_id:
            run.skipped.append({"id": media_id, "name": "", "reason": "It was deleted."})
        elif item.status != Status.READY:
            run.skipped.append({"id": media_id, "name": item.name, "reason": f"It is {item.status} now, not ready."})
        else:
            items.append(item)
    names = unique_names([safe_name(item.file_name or item.name, f"item-{item.id[:8]}") for item in items])
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for item, name in zip(items, names, strict=True):
            body = _open(item)
            if body is None:
                run.skipped.append({"id": item.id, "name": item.name, "reason": "Its file was deleted."})
                continue
            info = zipfile.ZipInfo(name, date_time=_zip_time(item))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            info.file_size = int(item.size)  # lets zipfile choose ZIP64 up front for an entry over 4 GiB
            with archive.open(info, mode="w") as entry:
                for chunk in body.iter_chunks(CHUNK):
                    entry.write(chunk)
                    run.bytes_done += len(chunk)
                    run.tick()
            run.items_done += 1


def _open(item: MediaItem):
    """The pinned version's body, streaming; None if that version is gone (deleted meanwhile)."""
    version = {"VersionId": item.version_id} if item.version_id else {}
    try:
        return client("s3").get_object(Bucket=settings.UPLOADS_BUCKET, Key=item.object_key, **version)["Body"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in GONE_CODES:
            return None
        raise


def _zip_time(item: MediaItem) -> tuple[int, int, int, int, int, int]:
    when = item.uploaded_at or item.created_at
    return max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second
