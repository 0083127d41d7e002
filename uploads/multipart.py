"""Files above MULTIPART_THRESHOLD, uploaded straight to S3 in parts (S3 multipart), resumable.

The operations are one-to-one with what an uploader such as Uppy's @uppy/aws-s3 asks its backend for: create
(`start`, from services.media_create), sign parts (`sign`), list parts (`parts`), complete (`finish`, then the
same arrival as any upload) and abort (`cancel`). The server picks the key and starts the multipart upload
itself: a client names an item it owns and part numbers, never a key or an upload id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from mediahub.errors import Conflict, Refusal
from uploads import lifecycle, storage
from uploads.filetypes import human_size
from uploads.models import MediaItem, Status

MAX_PARTS = 10_000  # S3's limit per multipart upload
PARTS_PER_CALL = 100  # part URLs signed per request: 1.6 GiB of 16 MiB parts; a client asks again for more
PART_URL_SECONDS = 15 * 60  # a part URL lives long enough for one part on a slow line, not for a leaked link
# An upload in parts may take hours on a slow line and be resumed the next morning: the sweep leaves it a day (S3's
# lifecycle rule aborts incomplete multipart uploads after one day as well), and its record lives two.
ABANDON_AFTER = timedelta(days=1)
PENDING_LIFETIME = timedelta(days=2)
MIB = 1024**2


class PartsRefused(Refusal):
    field = "partNumbers"


@dataclass(frozen=True)
class SignedPart:
    number: int
    url: str
    headers: dict[str, str]  # to send with the PUT, as signed


def wanted(size: int) -> bool:
    return size > settings.MULTIPART_THRESHOLD


def part_size_for(size: int) -> int:
    """MULTIPART_PART_SIZE, or the whole MiB that keeps the file within S3's 10,000 parts."""
    needed = -(-size // MAX_PARTS)
    return max(settings.MULTIPART_PART_SIZE, -(-needed // MIB) * MIB)


def part_count(item: MediaItem) -> int:
    return -(-int(item.size) // int(item.part_size))


def part_length(item: MediaItem, number: int) -> int:
    """Bytes of part `number`: the part size, but what is left for the last one."""
    count, size = part_count(item), int(item.part_size)
    return size if number < count else int(item.size) - (count - 1) * size


def start(item: MediaItem) -> None:
    """Choose the part size and start the multipart upload at the item's key (before the item is recorded)."""
    item.part_size = part_size_for(int(item.size))
    item.upload_id = storage.create_multipart(item.object_key, content_type=item.declared_type)
    item.expires_at = PENDING_LIFETIME


def _open(item: MediaItem) -> None:
    if not item.upload_id:
        raise Conflict("This item is not uploaded in parts: its file goes with the presigned POST from create.")
    if item.status != Status.PENDING:
        raise Conflict("This upload is already complete.")


def sign(item: MediaItem, numbers: list[int], checksums: list[str]) -> list[SignedPart]:
    """Presigned PUT URLs for parts of the item's own upload, each with its length and SHA-256 signed in."""
    _open(item)
    count = part_count(item)
    outside = sorted({n for n in numbers if not 1 <= n <= count})
    if outside:
        raise PartsRefused(
            f"This file ({human_size(int(item.size))}) has parts 1 to {count}; there is no part "
            f"{', '.join(map(str, outside))}."
        )
    return [
        SignedPart(
            number,
            storage.presigned_part(
                item.object_key,
                item.upload_id,
                number=number,
                length=part_length(item, number),
                sha256=checksum,
                expires=PART_URL_SECONDS,
            ),
            {"x-amz-checksum-sha256": checksum},
        )
        for number, checksum in zip(numbers, checksums, strict=True)
    ]


def parts(item: MediaItem) -> list[dict]:
    """The parts S3 already holds (number, size, ETag), so a client resumes with the others."""
    _open(item)
    listed = storage.list_parts(item.object_key, item.upload_id)
    if listed is None:
        raise Conflict("This upload is already complete.")
    return listed


def finish(item: MediaItem) -> None:
    """Join the parts, if they make exactly the declared file; refuse the item (and abort the upload) if not.

    Called by complete before arrival, which then checks the joined object like any upload. An upload that is
    already over (a complete whose answer was lost, or a cancel) is left to arrival, which sees what is there.
    """
    listed = storage.list_parts(item.object_key, item.upload_id)
    if listed is None:
        return
    count = part_count(item)
    missing = sorted(set(range(1, count + 1)) - {p["PartNumber"] for p in listed})
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise Conflict(f"{len(missing)} of {count} parts have not been uploaded (part {shown}): upload them first.")
    reason = wrong_sizes(item, listed)
    if reason is None:
        storage.complete_multipart(item.object_key, item.upload_id, listed)
        return
    try:
        lifecycle.refuse(item, reason)
    except lifecycle.Lost:
        return  # another caller moved it first: arrival answers with the item as it is
    storage.abort_multipart(item.object_key, item.upload_id)


def wrong_sizes(item: MediaItem, listed: list[dict]) -> str | None:
    """Why the parts S3 holds do not make the declared file, or None."""
    count = part_count(item)
    for part in listed:
        number, size = part["PartNumber"], part["Size"]
        if number > count or size != part_length(item, number):
            expected = part_length(item, number) if number <= count else 0
            total = sum(p["Size"] for p in listed)
            return (
                f"Part {number} is {size} bytes but should be {expected}: the parts add up to {total} bytes and "
                f"{item.size} were declared. Please upload the file again."
            )
    return None


def cancel(item: MediaItem) -> None:
    """Abort the upload (S3 drops its parts), then the record, then anything a racing complete joined."""
    _open(item)
    storage.abort_multipart(item.object_key, item.upload_id)
    try:
        lifecycle.cancel(item)
    except lifecycle.Lost:
        raise Conflict("This upload was completed meanwhile: delete the item to remove it.") from None
    storage.delete_prefix_versions(settings.UPLOADS_BUCKET, storage.original_prefix(item.owner_id, item.id))


def abandon(item: MediaItem) -> None:
    """An upload in parts the sweep found abandoned, or whose item is deleted: S3 drops the parts (the record
    goes after); nothing to do for an upload already complete."""
    storage.abort_multipart(item.object_key, item.upload_id)
