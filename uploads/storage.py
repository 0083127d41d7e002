"""S3 storage for every stored file: private objects, signed URLs, the endpoint and bucket from settings."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO
from urllib.parse import quote

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from storages.backends.s3 import S3Storage

from mediahub.aws import client, presigned_get
from mediahub.bootstrap import QUARANTINE_PREFIX, UPLOAD_STATE_TAG

RENDITION_URL_WINDOW = 300


class MediaStorage(S3Storage):
    """Django's default storage: the private uploads bucket. Nothing is public; reads go through signed URLs."""

    def get_default_settings(self) -> dict:
        defaults = super().get_default_settings()
        defaults.update(
            bucket_name=settings.UPLOADS_BUCKET,
            region_name=settings.AWS_REGION,
            endpoint_url=settings.AWS_ENDPOINT_URL or None,
            addressing_style="path" if settings.AWS_ENDPOINT_URL else None,
            # No ACL header: the bucket enforces owner-only objects (ACLs disabled) and blocks public access.
            default_acl=None,
            querystring_auth=True,
            querystring_expire=60,
            file_overwrite=False,
            signature_version="s3v4",
        )
        return defaults


# --- The operations mediahub performs on its buckets: one function each, "not found" as None. ---------------


# Every upload is tagged "pending" until it arrives; a lifecycle rule (mediahub/bootstrap.py) deletes pending
# objects that never do, even after their record's TTL removed the record.
PENDING_TAGGING = f"<Tagging><TagSet><Tag><Key>{UPLOAD_STATE_TAG}</Key><Value>pending</Value></Tag></TagSet></Tagging>"


def presigned_post(
    key: str, *, content_type: str, size_range: tuple[int, int], expires: int, tag_pending: bool = False
) -> dict:
    """A browser form POST for exactly this key and Content-Type, with a size within `size_range` (bytes);
    `tag_pending` tags the object as a media upload that has not arrived yet."""
    fields = {"Content-Type": content_type, **({"tagging": PENDING_TAGGING} if tag_pending else {})}
    return client("s3").generate_presigned_post(
        Bucket=settings.UPLOADS_BUCKET,
        Key=key,
        Fields=fields,
        Conditions=[*({name: value} for name, value in fields.items()), ["content-length-range", *size_range]],
        ExpiresIn=expires,
    )


# --- Multipart uploads (files above MULTIPART_THRESHOLD): the client PUTs each part to a presigned URL. ---------
# Every part's SHA-256 is declared before its URL is signed and S3 checks the bytes against it; the multipart
# upload is started with that algorithm, so S3 refuses a part without one. (SHA-256, not CRC32C: a browser computes
# it with WebCrypto, which has no CRC32C.)
CHECKSUM_ALGORITHM = "SHA256"


def create_multipart(key: str, *, content_type: str) -> str:
    """Start a multipart upload to `key`, tagged pending like a POST upload; returns S3's upload id."""
    answer = client("s3").create_multipart_upload(
        Bucket=settings.UPLOADS_BUCKET,
        Key=key,
        ContentType=content_type,
        ChecksumAlgorithm=CHECKSUM_ALGORITHM,
        Tagging=f"{UPLOAD_STATE_TAG}=pending",
    )
    return answer["UploadId"]


def presigned_part(key: str, upload_id: str, *, number: int, length: int, sha256: str, expires: int) -> str:
    """A PUT URL for one part. Its Content-Length and x-amz-checksum-sha256 are signed: S3 refuses any other
    length, and bytes whose SHA-256 is not the declared one."""
    params = {
        "Bucket": settings.UPLOADS_BUCKET,
        "Key": key,
        "UploadId": upload_id,
        "PartNumber": number,
        "ContentLength": length,
        "ChecksumSHA256": sha256,
    }
    return client("s3").generate_presigned_url("upload_part", Params=params, ExpiresIn=expires)


def list_parts(key: str, upload_id: str) -> list[dict] | None:
    """Every part S3 holds for the upload, in order (ListParts, every page); None if the upload is over
    (completed or aborted)."""
    parts = []
    try:
        pages = client("s3").get_paginator("list_parts")
        for page in pages.paginate(Bucket=settings.UPLOADS_BUCKET, Key=key, UploadId=upload_id):
            parts += page.get("Parts", [])
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchUpload", "404"):
            return None
        raise
    return parts


def complete_multipart(key: str, upload_id: str, parts: list[dict]) -> None:
    """Join the parts (as ListParts gave them, with S3's own ETags and checksums). An upload already over (a twin
    complete joined it first, or a cancel aborted it) is left to arrival, which checks whatever is at the key."""
    listed = [
        {"PartNumber": p["PartNumber"], "ETag": p["ETag"], **{k: p[k] for k in ("ChecksumSHA256",) if k in p}}
        for p in parts
    ]
    try:
        client("s3").complete_multipart_upload(
            Bucket=settings.UPLOADS_BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed}
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("NoSuchUpload", "404"):
            raise


def abort_multipart(key: str, upload_id: str) -> None:
    """Drop the upload and every part it holds; idempotent (an upload already over is fine)."""
    try:
        client("s3").abort_multipart_upload(Bucket=settings.UPLOADS_BUCKET, Key=key, UploadId=upload_id)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("NoSuchUpload", "404"):
            raise


def mark_arrived(key: str, version_id: str | None) -> bool:
    """Take the pinned version out of the lifecycle rule for abandoned uploads; False if it is gone meanwhile."""
    tagging = {"TagSet": [{"Key": UPLOAD_STATE_TAG, "Value": "arrived"}]}
    try:
        client("s3").put_object_tagging(
            Bucket=settings.UPLOADS_BUCKET, Key=key, Tagging=tagging, **_version(version_id)
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "NoSuchVersion", "404"):
            return False
        raise
    return True


def _version(version_id: str | None) -> dict:
    return {"VersionId": version_id} if version_id else {}


def save_original(key: str, upload: UploadedFile) -> None:
    """Stream a file that came through Django to its key in chunks (django-storages uploads it in parts).

    The stored Content-Type is the upload's, which the form has already checked.
    """
    saved = MediaStorage().save(key, upload)
    if saved != key:  # file_overwrite is off, so a clash would be renamed; keys are unique, so this is a bug
        raise RuntimeError(f"Stored {saved!r} instead of {key!r}")


def head_original(key: str, version_id: str | None = None) -> dict | None:
    """The object's metadata (the current version, or the one named); None if it is not there."""
    try:
        return client("s3").head_object(Bucket=settings.UPLOADS_BUCKET, Key=key, **_version(version_id))
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound", "NoSuchVersion", "400"):
            return None
        raise


def read_original_head(key: str, length: int, version_id: str | None = None) -> bytes:
    return read_original_range(key, 0, length, version_id)


def read_original_range(key: str, start: int, stop: int, version_id: str | None = None) -> bytes:
    """Bytes `start` up to (not including) `stop` of the original: one ranged GET (S3 answers 206)."""
    s3 = client("s3")
    answer = s3.get_object(
        Bucket=settings.UPLOADS_BUCKET, Key=key, Range=f"bytes={start}-{stop - 1}", **_version(version_id)
    )
    return answer["Body"].read()


def delete_original(key: str) -> None:
    client("s3").delete_object(Bucket=settings.UPLOADS_BUCKET, Key=key)


def delete_original_version(key: str, version_id: str) -> None:
    """Delete one version for good (a version someone swapped in after the pinned one)."""
    client("s3").delete_object(Bucket=settings.UPLOADS_BUCKET, Key=key, VersionId=version_id)


def original_prefix(owner_id: str, media_id: str) -> str:
    return f"uploads/{owner_id}/{media_id}/"


def rendition_prefix(owner_id: str, media_id: str) -> str:
    return f"renditions/{owner_id}/{media_id}/"


def delete_item_objects(*, owner_id: str, media_id: str) -> None:
    """Every object of an item, every version: the original (and any quarantined copy) and all renditions."""
    original = original_prefix(owner_id, media_id)
    delete_prefix_versions(settings.UPLOADS_BUCKET, original)
    delete_prefix_versions(settings.UPLOADS_BUCKET, f"{QUARANTINE_PREFIX}{original}")
    delete_prefix(settings.RENDITIONS_BUCKET, rendition_prefix(owner_id, media_id))


def delete_prefix_versions(bucket: str, prefix: str) -> None:
    """Delete every version and delete marker under `prefix` (a versioned bucket keeps deleted objects otherwise)."""
    delete_versions(bucket, prefix)


def delete_prefix(bucket: str, prefix: str) -> None:
    s3 = client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def download_url(
    key: str, *, file_name: str, content_type: str, version_id: str | None = None, bucket: str | None = None
) -> str:
    """A 60-second link that saves the original (the pinned version) as an attachment under its original name;
    with `bucket`, an object of that bucket (a share link's copy without location, in the renditions bucket)."""
    params = {"response-content-disposition": attachment_header(file_name), "response-content-type": content_type}
    if version_id:
        params["versionId"] = version_id
    return presigned_get(bucket or settings.UPLOADS_BUCKET, key, expires=60, params=params)


def stream_url(key: str, *, content_type: str, version_id: str | None, expires: int) -> str:
    """A link a <video> element plays the original (the pinned version) from, in ranges, for `expires` seconds."""
    params = {"response-content-type": content_type, **({"versionId": version_id} if version_id else {})}
    return presigned_get(settings.UPLOADS_BUCKET, key, expires=expires, params=params)


def attachment_header(file_name: str) -> str:
    """Content-Disposition for any file name: an ASCII fallback plus the exact name, RFC 6266 / 5987 encoded."""
    ascii_name = file_name.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "") or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def rendition_url(key: str) -> str:
    """A short-lived link to a rendition, for <img> tags.

    Signed at the start of a 5-minute window, so a page shows the same URLs all window long and the browser's
    cache keeps working; each link stays valid 5 to 10 minutes after the page is made.
    """
    now = int(time.time())
    window_start = datetime.fromtimestamp(now - now % RENDITION_URL_WINDOW, UTC)
    return presigned_get(settings.RENDITIONS_BUCKET, key, expires=2 * RENDITION_URL_WINDOW, now=window_start)


def download_original(key: str, fp: IO[bytes], version_id: str | None = None, chunk_size: int = 1024 * 1024) -> str:
    """Stream the original into `fp` in chunks (memory stays bounded) and return its sha256."""
    body = client("s3").get_object(Bucket=settings.UPLOADS_BUCKET, Key=key, **_version(version_id))["Body"]
    digest = hashlib.sha256()
    for chunk in body.iter_chunks(chunk_size):
        digest.update(chunk)
        fp.write(chunk)
    fp.seek(0)
    return digest.hexdigest()


def hash_original(key: str, version_id: str | None = None, chunk_size: int = 1024 * 1024) -> str:
    """The original's sha256, streamed through and kept nowhere (for files that are not downloaded whole)."""
    body = client("s3").get_object(Bucket=settings.UPLOADS_BUCKET, Key=key, **_version(version_id))["Body"]
    digest = hashlib.sha256()
    for chunk in body.iter_chunks(chunk_size):
        digest.update(chunk)
    return digest.hexdigest()


def delete_rendition(key: str) -> None:
    client("s3").delete_object(Bucket=settings.RENDITIONS_BUCKET, Key=key)


def put_rendition(key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
    client("s3").put_object(
        Bucket=settings.RENDITIONS_BUCKET, Key=key, Body=data, ContentType=content_type, CacheControl=cache_control
    )


def discard_original(key: str, version_id: str | None) -> None:
    """A refused original goes: every version of it deleted, or with REJECTED_ORIGINALS=quarantine the checked
    version first copied under quarantine/, where a lifecycle rule deletes it after 30 days. Idempotent."""
    s3 = client("s3")
    if settings.REJECTED_ORIGINALS == "quarantine" and head_original(key, version_id) is not None:
        source = {"Bucket": settings.UPLOADS_BUCKET, "Key": key, **_version(version_id)}
        s3.copy_object(Bucket=settings.UPLOADS_BUCKET, Key=f"{QUARANTINE_PREFIX}{key}", CopySource=source)
    delete_prefix_versions(settings.UPLOADS_BUCKET, key)


# --- Listing and purging by prefix (account deletion, the avatar sweep) -------------------------------------


def list_prefix(bucket: str, prefix: str) -> Iterator[dict]:
    """Every current object under `prefix`: ListObjectsV2's entries (Key, LastModified, Size, ...)."""
    for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def delete_versions(bucket: str, prefix: str, *, deadline: float | None = None) -> bool:
    """Delete every version and delete marker under `prefix`, for good. With a `deadline` (time.monotonic()),
    stop after the page that passes it; returns whether everything under `prefix` is gone.

    A plain delete in a versioned bucket only adds a delete marker and keeps the bytes as a noncurrent version
    (recoverable until the lifecycle rule expires it): deleting an account must not leave those behind. Safe to
    repeat: a version already gone is simply no longer listed. A key S3 could not delete (DeleteObjects reports
    it in Errors, with HTTP 200) raises, so the caller never believes it gone.
    """
    s3 = client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        versions = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        objects = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]
        if objects:  # a page holds at most 1,000 entries: exactly what one DeleteObjects call takes
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            if answer.get("Errors"):
                error = answer["Errors"][0]
                raise ClientError({"Error": {"Code": error["Code"], "Message": error["Message"]}}, "DeleteObjects")
        if deadline is not None and time.monotonic() > deadline and page.get("IsTruncated"):
            return False
    return True
