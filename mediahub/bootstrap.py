"""Create and harden the buckets and tables the settings name, idempotently, on whatever endpoint they point at.

Run by an operator (`manage.py bootstrap`, or `zappa manage <stage> bootstrap` with an admin role): the Lambda
role never creates or reconfigures anything (deploy/iam/*.json grants it no such action). Every call here either
creates something that is missing or puts a whole configuration, so running it again changes nothing.

Buckets: private (Block Public Access, ACLs disabled), encrypted by default (SSE-S3), CORS for the site's own
origin only, lifecycle rules that clean up after failures; the uploads bucket is versioned.
Tables: on-demand, encrypted with the AWS managed KMS key, point-in-time recovery, TTL on the model's TTL attribute;
an index a model gained since its table was made is added to the existing table (UpdateTable), never by recreating it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mediahub import dynamo
from mediahub.aws import client

# Lifecycle, in days.
# An interrupted multipart upload (a file in parts, or the no-JavaScript path) leaves invisible, billed parts; an
# upload in parts is given this long (uploads/multipart.py ABANDON_AFTER, swept hourly, is the same day).
ABORT_MULTIPART_DAYS = 1
NONCURRENT_DAYS = 30  # deleted or overwritten originals stay recoverable this long (uploads bucket is versioned)
QUARANTINE_DAYS = 30  # refused originals moved under quarantine/ (REJECTED_ORIGINALS=quarantine)
QUARANTINE_PREFIX = "quarantine/"
# Uploads are tagged pending at presign and arrived at arrival (uploads/storage.py): the ones never completed go
# after this many days, even if their record is long gone. The hourly sweep (uploads.services.sweep_abandoned)
# removes them sooner; lifecycle is the net under it.
UPLOAD_STATE_TAG = "upload-state"
ABANDONED_UPLOAD_DAYS = 2
# ZIP downloads (exports/) are written to the renditions bucket under this prefix and deleted after this many
# days; their links are offered for ZIP_KEEP_HOURS (less than a day), so never for a ZIP already gone.
EXPORTS_PREFIX = "exports/"
EXPORT_DAYS = 1
# A global secondary index added to an existing table is backfilled from its items before it can be queried:
# minutes for millions of items. Bootstrap waits for it this long; run again, it waits again.
INDEX_BACKFILL_SECONDS = 3600


def cors_origins() -> list[str]:
    """The site's own origins (SITE_URL and CSRF_TRUSTED_ORIGINS): the only ones that may POST to the buckets."""
    origins = sorted({settings.SITE_URL, *settings.CSRF_TRUSTED_ORIGINS})
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or "*" in origin or parts.path not in ("", "/"):
            raise ImproperlyConfigured(f"{origin!r} is not an origin (scheme://host[:port]): fix SITE_URL.")
    return origins


# --- Buckets ------------------------------------------------------------------------------------------------


def cors_rules(name: str) -> list[dict]:
    """The uploads bucket takes the browser's presigned POST, and the PUT of each part of a file in parts, from the
    site; nothing else needs CORS. The browser must read each part's ETag from the PUT's answer (to resume, an
    uploader such as Uppy keeps them), so ETag is exposed.

    (Renditions are shown by <img> tags and downloads are navigations: neither is a cross-origin read.)
    """
    if name != settings.UPLOADS_BUCKET:
        return []
    return [
        {
            "AllowedOrigins": cors_origins(),
            "AllowedMethods": ["POST", "PUT"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3000,
        }
    ]


def lifecycle_rules(name: str) -> list[dict]:
    rules = [
        {
            "ID": "abort-incomplete-multipart-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
        }
    ]
    if name == settings.RENDITIONS_BUCKET:
        rules.append(
            {
                "ID": "expire-zip-downloads",
                "Status": "Enabled",
                "Filter": {"Prefix": EXPORTS_PREFIX},
                "Expiration": {"Days": EXPORT_DAYS},
            }
        )
    if name == settings.UPLOADS_BUCKET:
        rules += [
            {
                "ID": "expire-noncurrent-versions",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_DAYS},
                "Expiration": {"ExpiredObjectDeleteMarker": True},
            },
            {
                "ID": "expire-abandoned-uploads",
                "Status": "Enabled",
                "Filter": {"And": {"Prefix": "uploads/", "Tags": [{"Key": UPLOAD_STATE_TAG, "Value": "pending"}]}},
                "Expiration": {"Days": ABANDONED_UPLOAD_DAYS},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
            },
            {
                "ID": "expire-quarantined-originals",
                "Status": "Enabled",
                "Filter": {"Prefix": QUARANTINE_PREFIX},
                "Expiration": {"Days": QUARANTINE_DAYS},
            },
        ]
    return rules


def _bucket_exists(s3, name: str) -> bool:
    try:
        s3.head_bucket(Bucket=name)
        return True
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("404", "NoSuchBucket", "NotFound"):
            return False
        if code in ("403", "AccessDenied", "Forbidden"):
            raise ImproperlyConfigured(
                f"Bucket {name} exists but these credentials cannot use it (another account's, or no permission)."
            ) from exc
        raise


def ensure_bucket(name: str) -> bool:
    """Create `name` if missing and (re)apply its whole configuration. True when the bucket was created."""
    s3 = client("s3")
    created = False
    if not _bucket_exists(s3, name):
        kwargs: dict = {"ObjectOwnership": "BucketOwnerEnforced"}
        if settings.AWS_REGION != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_REGION}
        s3.create_bucket(Bucket=name, **kwargs)
        created = True
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]
        },
    )
    if name == settings.UPLOADS_BUCKET:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    rules = cors_rules(name)
    if rules:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    else:
        s3.delete_bucket_cors(Bucket=name)
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": lifecycle_rules(name)})
    return created


# --- Tables -------------------------------------------------------------------------------------------------


def _key_schema(keys: list[dict]) -> list[dict]:
    """DynamoDB wants the HASH key first; PynamoDB's schema lists them in any order."""
    return sorted(
        ({"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in keys), key=lambda k: k["KeyType"]
    )


def table_definition(model: type) -> dict:
    """CreateTable arguments for a registered PynamoDB model: its keys and indexes, on-demand, KMS-encrypted."""
    schema = model._get_schema()
    request: dict = {
        "TableName": model.Meta.table_name,
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": _key_schema(schema["key_schema"]),
        "BillingMode": "PAY_PER_REQUEST",
        "SSESpecification": {"Enabled": True, "SSEType": "KMS"},  # the AWS managed key aws/dynamodb
    }
    for field, kind in (("GlobalSecondaryIndexes", "global"), ("LocalSecondaryIndexes", "local")):
        indexes = [
            {"IndexName": i["index_name"], "KeySchema": _key_schema(i["key_schema"]), "Projection": i["projection"]}
            for i in schema[f"{kind}_secondary_indexes"]
        ]
        if indexes:
            request[field] = indexes
    return request


def ttl_attribute(model: type) -> str | None:
    attribute = model._ttl_attribute()
    return attribute.attr_name if attribute else None


def ensure_table(model: type) -> bool:
    """Create the model's table if missing, then make sure of its indexes, PITR, TTL and on-demand. True when
    created."""
    dynamodb = client("dynamodb")
    name = model.Meta.table_name
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
        created = False
    except dynamodb.exceptions.ResourceNotFoundException:
        dynamodb.create_table(**table_definition(model))
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        table, created = dynamodb.describe_table(TableName=name)["Table"], True
    if table.get("BillingModeSummary", {}).get("BillingMode") != "PAY_PER_REQUEST":
        dynamodb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    if table.get("SSEDescription", {}).get("Status") not in ("ENABLED", "ENABLING", "UPDATING"):
        dynamodb.update_table(TableName=name, SSESpecification={"Enabled": True, "SSEType": "KMS"})
    for index in missing_indexes(model, table):
        add_index(dynamodb, name, index, table_definition(model)["AttributeDefinitions"])
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    if backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") != "ENABLED":
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    ttl = ttl_attribute(model)
    if ttl:
        current = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING") or current.get("AttributeName") != ttl:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
            )
    return created


def missing_indexes(model: type, table: dict) -> list[dict]:
    """The model's global secondary indexes that the existing table (DescribeTable's answer) lacks."""
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    return [i for i in table_definition(model).get("GlobalSecondaryIndexes", []) if i["IndexName"] not in present]


def add_index(dynamodb, name: str, index: dict, definitions: list[dict]) -> None:
    """Create one global secondary index on an existing table and wait until it is backfilled and ACTIVE.

    DynamoDB takes one index creation per UpdateTable and none while the table is still updating (the billing
    and encryption changes above), so each waits for the table first; the new index's key attributes must be
    defined in the same call. The table stays readable and writable while the index is backfilled.
    """
    keys = {key["AttributeName"] for key in index["KeySchema"]}
    wait_until_active(dynamodb, name)
    dynamodb.update_table(
        TableName=name,
        AttributeDefinitions=[d for d in definitions if d["AttributeName"] in keys],
        GlobalSecondaryIndexUpdates=[{"Create": index}],
    )
    wait_until_active(dynamodb, name)


def wait_until_active(dynamodb, name: str, *, delay: float = 1.0, timeout: float = INDEX_BACKFILL_SECONDS) -> None:
    """Until the table and every one of its indexes are ACTIVE (a new index on a large table backfills for a
    while); ImproperlyConfigured if that takes longer than `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        table = dynamodb.describe_table(TableName=name)["Table"]
        statuses = [table["TableStatus"], *(i["IndexStatus"] for i in table.get("GlobalSecondaryIndexes", []))]
        if all(status == "ACTIVE" for status in statuses):
            return
        if time.monotonic() > deadline:
            raise ImproperlyConfigured(f"Table {name} is still {statuses} after {timeout:.0f} s: run bootstrap again.")
        time.sleep(delay)


def bootstrap(report: Callable[[str], None] = lambda line: None) -> None:
    """Make sure every bucket and table exists and is configured; `report` receives one line per resource."""
    for bucket in (settings.UPLOADS_BUCKET, settings.RENDITIONS_BUCKET):
        report(f"bucket {bucket}: {'created' if ensure_bucket(bucket) else 'exists'} (configured)")
    for model in dynamo.registry:
        report(f"table {model.Meta.table_name}: {'created' if ensure_table(model) else 'exists'} (configured)")
