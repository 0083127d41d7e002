"""ZIP downloads: starting a job from a selection, reading jobs, their links, the sweep.

Views, the API, tasks and Lambda handlers parse input, call one of these, and shape the output.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from pynamodb.exceptions import DoesNotExist

from exports import lifecycle
from exports.models import State, ZipJob
from mediahub.aws import presigned_get
from mediahub.errors import Conflict, NotFound, Refusal, StorageUnavailable
from uploads import dispatch, storage
from uploads.filetypes import human_size
from uploads.models import MediaItem, Status, utcnow
from uploads.services import MEDIA_ID

log = logging.getLogger(__name__)

BUILD_TASK = "exports.build"  # the Celery task (exports/tasks.py)
BUILD_LAMBDA_TASK = "exports.events.build"  # what the asynchronous invocation runs (exports/events.py)
LINK_SECONDS = 60  # a download link's life: the page signs a fresh one at each click
RECENT = 20  # jobs the downloads page lists


def bulk_max() -> int:
    return getattr(settings, "BULK_MAX_ITEMS", 500)


class UnknownItems(NotFound):
    """Ids in a selection that are not the requester's items (never were, gone, or someone else's: alike)."""

    field = "ids"

    def __init__(self, ids: list[str]) -> None:
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        super().__init__(f"{len(ids)} of the selected items are not in your library: {shown}. Nothing was started.")
        self.ids = ids


@dataclass(frozen=True)
class Started:
    job: ZipJob
    left_out: list[dict]  # the owner's items that are not ready: {"id", "name", "reason"}


def start_export(*, owner_id: str, ids: list[str]) -> Started:
    """Check a selection whole and queue its ZIP; any refusal changes nothing.

    Refused: no ids, more than BULK_MAX_ITEMS, any id not the owner's (UnknownItems, 404), none of them ready
    (409), more than ZIP_MAX_BYTES in all (400), ZIP_MAX_ACTIVE of the owner's ZIPs still building (409). Items
    of the owner's that are not ready (processing, in the trash) are left out and reported per item.
    """
    if not ids:
        raise Refusal("Select at least one item to download.")
    if len(ids) > bulk_max():
        raise Refusal(f"You selected {len(ids)} items; a ZIP takes at most {bulk_max()} at a time.")
    ids = list(dict.fromkeys(ids))  # the same item twice is one entry
    found = _owned(owner_id, [i for i in ids if MEDIA_ID.fullmatch(i)])  # anything else is unknown
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise UnknownItems(unknown)
    ready = [found[i] for i in ids if found[i].status == Status.READY]
    left_out = [
        {"id": i, "name": found[i].name, "reason": f"It is {found[i].status}, not ready."}
        for i in ids
        if found[i].status != Status.READY
    ]
    if not ready:
        raise Conflict("None of the selected items is ready to download yet (or they are in the trash).")
    total = sum(int(item.size) for item in ready)
    if total > settings.ZIP_MAX_BYTES:
        raise Refusal(
            f"The selected items are {human_size(total)} in all; a ZIP holds at most "
            f"{human_size(settings.ZIP_MAX_BYTES)}. Select fewer items."
        )
    active = [job for job in recent_jobs(owner_id) if job.state in (State.QUEUED, State.BUILDING)]
    if len(active) >= settings.ZIP_MAX_ACTIVE:
        raise Conflict(f"{len(active)} of your ZIPs are still being built; start another when one is ready.")
    now = utcnow()
    job = ZipJob(
        uuid.uuid4().hex,
        owner_id=owner_id,
        media_ids=[item.id for item in ready],
        items_total=len(ready),
        bytes_total=total,
        file_name=f"mediahub-{now:%Y-%m-%d-%H%M}-{len(ready)}-items.zip",
        skipped=left_out,
        forget_at=now + lifecycle.FORGET_AFTER,
    )
    lifecycle.create(job)
    try:
        dispatch.run_job(BUILD_TASK, BUILD_LAMBDA_TASK, job.id)
    except Exception as exc:
        log.exception("could not queue ZIP job %s", job.id)
        lifecycle.give_up(
            job, "The ZIP could not be queued. Please try again.", stale_before=utcnow() + timedelta(days=1)
        )
        raise StorageUnavailable(str(exc)) from exc
    return Started(job, left_out)


def _owned(owner_id: str, ids: list[str]) -> dict[str, MediaItem]:
    """The owner's items among `ids`: BatchGetItem, 100 keys a call (PynamoDB pages and retries)."""
    if not ids:
        return {}
    return {item.id: item for item in MediaItem.batch_get(ids, consistent_read=True) if item.owner_id == owner_id}


def recent_jobs(owner_id: str) -> list[ZipJob]:
    """The owner's newest jobs, newest first: one Query."""
    return list(ZipJob.by_owner.query(owner_id, scan_index_forward=False, limit=RECENT))


def get_job(*, owner_id: str, job_id: str) -> ZipJob:
    """The owner's job as it is now (a ready one past its expiry is marked expired); someone else's is unknown."""
    if not MEDIA_ID.fullmatch(job_id):
        raise NotFound("No such ZIP download.")
    try:
        job = ZipJob.get(job_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such ZIP download.") from None
    if job.owner_id != owner_id:
        raise NotFound("No such ZIP download.")
    now = utcnow()
    if job.state == State.READY and job.expires_at <= now:
        lifecycle.expire(job, now)
        job.state = State.EXPIRED
    return job


def download_url(job: ZipJob) -> str:
    """A LINK_SECONDS link that saves the ZIP under the job's file name."""
    params = {
        "response-content-disposition": storage.attachment_header(job.file_name),
        "response-content-type": "application/zip",
    }
    return presigned_get(settings.RENDITIONS_BUCKET, job.object_key, expires=LINK_SECONDS, params=params)


def percent(job: ZipJob) -> int:
    if job.state in (State.READY, State.EXPIRED):
        return 100
    return int(100 * int(job.bytes_done) / int(job.bytes_total)) if job.bytes_total else 0


# --- Background --------------------------------------------------------------------------------------------


def sweep() -> int:
    """Fail jobs no run holds any more (a lost task, a run that died) and expire ready ones past their time;
    Queries on the by-state index only. Returns how many it moved."""
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.ZIP_LEASE_SECONDS)
    moved = 0
    for state in (State.QUEUED, State.BUILDING):
        for key in ZipJob.by_state.query(state, ZipJob.created_at < stale_before):
            job = _read(key.id)
            if job and lifecycle.give_up(
                job, "The build stopped before it finished. Please try again.", stale_before=stale_before
            ):
                moved += 1
    for key in ZipJob.by_state.query(State.READY, ZipJob.created_at < now - timedelta(hours=settings.ZIP_KEEP_HOURS)):
        job = _read(key.id)
        if job and lifecycle.expire(job, now):
            moved += 1
    log.info("ZIP sweep moved %d job(s)", moved)
    return moved


def _read(job_id: str) -> ZipJob | None:
    try:
        return ZipJob.get(job_id, consistent_read=True)
    except DoesNotExist:
        return None


def forget_owner(owner_id: str) -> None:
    """Account deletion: every job record of the owner (their ZIPs go with the account's storage prefixes)."""
    for job in ZipJob.by_owner.query(owner_id):
        lifecycle.forget(job)
