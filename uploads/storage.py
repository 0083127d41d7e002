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


def presigned_post(key: str, *, content_type: str, size_range: tuple[int, int], expires: int) -> dict:
    """A browser form POST for exactly this key and Content-Type, with a size within `size_range` (bytes)."""
    return client("s3").generate_presigned_post(
        Bucket=settings.UPLOADS_BUCKET,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", *size_range]],
        ExpiresIn=expires,
    )


def save_original(key: str, upload: UploadedFile) -> None:
    """Stream a file that came through Django to its key in chunks (django-storages uploads it in parts).

    The stored Content-Type is the upload's, which the form has already checked.
    """
    saved = MediaStorage().save(key, upload)
    if saved != key:  # file_overwrite is off, so a clash would be renamed; keys are unique, so this is a bug
        raise RuntimeError(f"Stored {saved!r} instead of {key!r}")


def head_original(key: str) -> dict | None:
    try:
        return client("s3").head_object(Bucket=settings.UPLOADS_BUCKET, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def read_original_head(key: str, length: int) -> bytes:
    body = client("s3").get_object(Bucket=settings.UPLOADS_BUCKET, Key=key, Range=f"bytes=0-{length - 1}")["Body"]
    return body.read()


def delete_original(key: str) -> None:
    client("s3").delete_object(Bucket=settings.UPLOADS_BUCKET, Key=key)


def delete_item_objects(*, owner_id: str, media_id: str) -> None:
    """Every object of an item in both buckets: the original and all renditions."""
    delete_prefix(settings.UPLOADS_BUCKET, f"uploads/{owner_id}/{media_id}/")
    delete_prefix(settings.RENDITIONS_BUCKET, f"renditions/{owner_id}/{media_id}/")


def delete_prefix(bucket: str, prefix: str) -> None:
    s3 = client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def download_url(key: str, *, file_name: str, content_type: str) -> str:
    """A 60-second link that saves the original as an attachment under its original name."""
    params = {"response-content-disposition": attachment_header(file_name), "response-content-type": content_type}
    return presigned_get(settings.UPLOADS_BUCKET, key, expires=60, params=params)


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


def download_original(key: str, fp: IO[bytes], chunk_size: int = 1024 * 1024) -> str:
    """Stream the original into `fp` in chunks (memory stays bounded) and return its sha256."""
    body = client("s3").get_object(Bucket=settings.UPLOADS_BUCKET, Key=key)["Body"]
    digest = hashlib.sha256()
    for chunk in body.iter_chunks(chunk_size):
        digest.update(chunk)
        fp.write(chunk)
    fp.seek(0)
    return digest.hexdigest()


def delete_rendition(key: str) -> None:
    client("s3").delete_object(Bucket=settings.RENDITIONS_BUCKET, Key=key)


def put_rendition(key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
    client("s3").put_object(
        Bucket=settings.RENDITIONS_BUCKET, Key=key, Body=data, ContentType=content_type, CacheControl=cache_control
    )


def quarantine_original(key: str) -> None:
    """Move a refused original under quarantine/, where a lifecycle rule removes it later."""
    s3 = client("s3")
    s3.copy_object(
        Bucket=settings.UPLOADS_BUCKET,
        Key=f"quarantine/{key}",
        CopySource={"Bucket": settings.UPLOADS_BUCKET, "Key": key},
    )
    s3.delete_object(Bucket=settings.UPLOADS_BUCKET, Key=key)


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
    repeat: a version already gone is simply no longer listed.
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
