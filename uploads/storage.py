"""S3 storage for every stored file: private objects, signed URLs, the endpoint and bucket from settings."""

from __future__ import annotations

from django.conf import settings
from storages.backends.s3 import S3Storage


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
