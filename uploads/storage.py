"""S3 storage for every stored file: private objects, signed URLs, the endpoint and bucket from settings."""

from __future__ import annotations

from urllib.parse import quote

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from storages.backends.s3 import S3Storage

from mediahub.aws import client


class MediaStorage(S3Storage):
    """Django's default storage: the private uploads bucket. Nothing is public; reads go through signed URLs."""

    def get_default_settings(self) -> dict:
        defaults = super().get_default_settings()
        defaults.update(
            bucket_name=settings.UPLOADS_BUCKET,
            region_name=settings.AWS_REGION,
            endpoint_url=settings.AWS_ENDPOINT_URL or None,
            addressing_style="path" if settings.AWS_ENDPOINT_URL else None,
            default_acl="private",
            querystring_auth=True,
            querystring_expire=60,
            file_overwrite=False,
            signature_version="s3v4",
        )
        return defaults


# --- The operations mediahub performs on its buckets: one function each, "not found" as None. ---------------


def presigned_post(key: str, *, content_type: str, size: int, expires: int) -> dict:
    """A browser form POST for exactly this key, this Content-Type and exactly `size` bytes."""
    return client("s3").generate_presigned_post(
        Bucket=settings.UPLOADS_BUCKET,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
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
    return _head(settings.UPLOADS_BUCKET, key)


def _head(bucket: str, key: str) -> dict | None:
    try:
        return client("s3").head_object(Bucket=bucket, Key=key)
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
    return client("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings.UPLOADS_BUCKET,
            "Key": key,
            "ResponseContentDisposition": attachment_header(file_name),
            "ResponseContentType": content_type,
        },
        ExpiresIn=60,
    )


def attachment_header(file_name: str) -> str:
    """Content-Disposition for any file name: an ASCII fallback plus the exact name, RFC 6266 / 5987 encoded."""
    ascii_name = file_name.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "") or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def rendition_url(key: str, *, expires: int = 300) -> str:
    """A short-lived link to a rendition, for <img> tags."""
    return client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": settings.RENDITIONS_BUCKET, "Key": key}, ExpiresIn=expires
    )
