"""Create the buckets and tables the settings name, idempotently, on whatever endpoint the settings point at."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from mediahub import dynamo
from mediahub.aws import client


def cors_origins() -> list[str]:
    """Origins allowed to send bytes straight from the browser to the buckets."""
    return sorted({settings.SITE_URL, *settings.CSRF_TRUSTED_ORIGINS})


def ensure_bucket(name: str) -> bool:
    """Create `name` if missing and (re)apply its CORS rules. True when the bucket was created."""
    s3 = client("s3")
    created = False
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if name not in existing:
        kwargs = {}
        if settings.AWS_REGION != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_REGION}
        s3.create_bucket(Bucket=name, **kwargs)
        created = True
    s3.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": cors_origins(),
                    "AllowedMethods": ["GET", "HEAD", "POST", "PUT"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
    return created


def ensure_table(model: type) -> bool:
    """Create the model's table (with its indexes and TTL) if missing. True when it was created."""
    if model.exists():
        return False
    model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    return True


def bootstrap(report: Callable[[str], None] = lambda line: None) -> None:
    """Make sure every bucket and table exists; `report` receives one line per resource."""
    for bucket in (settings.UPLOADS_BUCKET, settings.RENDITIONS_BUCKET):
        report(f"bucket {bucket}: {'created' if ensure_bucket(bucket) else 'exists'}")
    for model in dynamo.registry:
        report(f"table {model.Meta.table_name}: {'created' if ensure_table(model) else 'exists'}")
