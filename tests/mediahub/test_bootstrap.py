"""The bootstrap command, read back from the moto server: what it configured, not what it meant to."""

import uuid

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings
from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model

from mediahub import bootstrap, dynamo
from mediahub.aws import client


def bucket_config(name: str) -> dict:
    """Everything bootstrap sets on a bucket, as S3 reports it."""
    s3 = client("s3")

    def get(call, key, **missing):
        try:
            return getattr(s3, call)(Bucket=name)[key]
        except s3.exceptions.ClientError as exc:
            return missing.get(exc.response["Error"]["Code"], exc.response["Error"]["Code"])

    return {
        "public_access": get("get_public_access_block", "PublicAccessBlockConfiguration"),
        "ownership": get("get_bucket_ownership_controls", "OwnershipControls"),
        "encryption": get("get_bucket_encryption", "ServerSideEncryptionConfiguration"),
        "versioning": s3.get_bucket_versioning(Bucket=name).get("Status"),
        "cors": get("get_bucket_cors", "CORSRules", NoSuchCORSConfiguration=None),
        "lifecycle": get("get_bucket_lifecycle_configuration", "Rules"),
    }


def table_config(name: str) -> dict:
    dynamodb = client("dynamodb")
    table = dynamodb.describe_table(TableName=name)["Table"]
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    return {
        "billing": table.get("BillingModeSummary", {}).get("BillingMode"),
        "sse": (table.get("SSEDescription", {}).get("Status"), table.get("SSEDescription", {}).get("SSEType")),
        "pitr": backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
        "ttl": dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
        "keys": table["KeySchema"],
        "gsi": sorted((i["IndexName"], str(i["KeySchema"])) for i in table.get("GlobalSecondaryIndexes", [])),
        "lsi": sorted((i["IndexName"], str(i["KeySchema"])) for i in table.get("LocalSecondaryIndexes", [])),
    }


def test_both_buckets_are_private_and_encrypted(local_aws):
    for name in (settings.UPLOADS_BUCKET, settings.RENDITIONS_BUCKET):
        config = bucket_config(name)
        assert config["public_access"] == {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        }
        assert config["ownership"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        [rule] = config["encryption"]["Rules"]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_only_the_uploads_bucket_is_versioned(local_aws):
    assert bucket_config(settings.UPLOADS_BUCKET)["versioning"] == "Enabled"
    assert bucket_config(settings.RENDITIONS_BUCKET)["versioning"] is None


def test_cors_lets_only_the_site_post_to_the_uploads_bucket(local_aws):
    [rule] = bucket_config(settings.UPLOADS_BUCKET)["cors"]
    assert rule["AllowedOrigins"] == [settings.SITE_URL]
    assert rule["AllowedMethods"] == ["POST", "PUT"]  # the presigned POST, and the parts of a file in parts
    assert rule["ExposeHeaders"] == ["ETag"]
    assert bucket_config(settings.RENDITIONS_BUCKET)["cors"] is None  # <img> tags need no CORS


def test_cors_follows_the_site_origin_and_refuses_wildcards(local_aws):
    try:
        with override_settings(
            SITE_URL="https://media.example.org", CSRF_TRUSTED_ORIGINS=["https://media.example.org"]
        ):
            bootstrap.ensure_bucket(settings.UPLOADS_BUCKET)
            assert bucket_config(settings.UPLOADS_BUCKET)["cors"][0]["AllowedOrigins"] == ["https://media.example.org"]
            for bad in ("*", "https://*.example.org", "https://media.example.org/app", "media.example.org"):
                with override_settings(SITE_URL=bad), pytest.raises(ImproperlyConfigured):
                    bootstrap.ensure_bucket(settings.UPLOADS_BUCKET)
    finally:
        bootstrap.ensure_bucket(settings.UPLOADS_BUCKET)


def test_lifecycle_cleans_up_parts_old_versions_and_quarantine(local_aws):
    uploads = {rule["ID"]: rule for rule in bucket_config(settings.UPLOADS_BUCKET)["lifecycle"]}
    assert uploads["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": bootstrap.ABORT_MULTIPART_DAYS
    }
    assert uploads["expire-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    quarantine = uploads["expire-quarantined-originals"]
    assert quarantine["Filter"] == {"Prefix": "quarantine/"}
    assert quarantine["Expiration"] == {"Days": bootstrap.QUARANTINE_DAYS}
    assert all(rule["Status"] == "Enabled" for rule in uploads.values())
    renditions = {rule["ID"]: rule for rule in bucket_config(settings.RENDITIONS_BUCKET)["lifecycle"]}
    assert list(renditions) == ["abort-incomplete-multipart-uploads", "expire-zip-downloads"]
    zips = renditions["expire-zip-downloads"]  # ZIP downloads (exports/): a day, longer than their links
    assert (zips["Filter"], zips["Expiration"]) == ({"Prefix": "exports/"}, {"Days": bootstrap.EXPORT_DAYS})
    assert bootstrap.EXPORT_DAYS * 24 > settings.ZIP_KEEP_HOURS


def test_every_registered_model_has_a_hardened_table_under_the_session_prefix(local_aws):
    assert dynamo.registry, "no PynamoDB model is registered"
    for model in dynamo.registry:
        assert model.Meta.table_name.startswith(settings.DYNAMODB_TABLE_PREFIX)
        config = table_config(model.Meta.table_name)
        assert config["billing"] == "PAY_PER_REQUEST"
        assert config["sse"] == ("ENABLED", "KMS")
        assert config["pitr"] == "ENABLED"
        expected_gsi = {index.Meta.index_name for index in model._indexes.values()}
        assert {name for name, _ in config["gsi"] + config["lsi"]} == expected_gsi
        ttl = bootstrap.ttl_attribute(model)
        if ttl:
            assert config["ttl"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl}


def test_media_items_expire_on_expires_at(local_aws):
    from uploads.models import MediaItem

    assert table_config(MediaItem.Meta.table_name)["ttl"]["AttributeName"] == "expires_at"


def test_any_model_gets_its_keys_indexes_and_ttl_from_its_own_schema(local_aws):
    class ByColour(GlobalSecondaryIndex):
        class Meta:
            index_name = "by-colour"
            projection = KeysOnlyProjection()

        colour = UnicodeAttribute(hash_key=True)
        made_at = UTCDateTimeAttribute(range_key=True)

    class ByMadeAt(LocalSecondaryIndex):
        class Meta:
            index_name = "by-made-at"
            projection = AllProjection()

        owner = UnicodeAttribute(hash_key=True)
        made_at = UTCDateTimeAttribute(range_key=True)

    class Widget(Model):
        Meta = dynamo.table_meta(f"widgets-{uuid.uuid4().hex[:6]}")
        owner = UnicodeAttribute(hash_key=True)
        name = UnicodeAttribute(range_key=True)
        colour = UnicodeAttribute()
        made_at = UTCDateTimeAttribute()
        gone_at = TTLAttribute(null=True)
        by_colour = ByColour()
        by_made_at = ByMadeAt()

    assert bootstrap.ensure_table(Widget) is True
    try:
        config = table_config(Widget.Meta.table_name)
        assert config["keys"] == [
            {"AttributeName": "owner", "KeyType": "HASH"},
            {"AttributeName": "name", "KeyType": "RANGE"},
        ]
        assert [name for name, _ in config["gsi"]] == ["by-colour"]
        assert [name for name, _ in config["lsi"]] == ["by-made-at"]
        assert config["ttl"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "gone_at"}
        assert (config["billing"], config["sse"], config["pitr"]) == ("PAY_PER_REQUEST", ("ENABLED", "KMS"), "ENABLED")
        assert bootstrap.ensure_table(Widget) is False
        assert table_config(Widget.Meta.table_name) == config
    finally:
        client("dynamodb").delete_table(TableName=Widget.Meta.table_name)


def test_bootstrap_is_idempotent(local_aws, capsys):
    names = [settings.UPLOADS_BUCKET, settings.RENDITIONS_BUCKET]
    tables = [model.Meta.table_name for model in dynamo.registry]
    before = [bucket_config(n) for n in names], [table_config(t) for t in tables]
    call_command("bootstrap")
    call_command("bootstrap")
    out = capsys.readouterr().out
    assert "created" not in out
    assert f"bucket {settings.UPLOADS_BUCKET}: exists" in out
    assert ([bucket_config(n) for n in names], [table_config(t) for t in tables]) == before


def test_an_existing_table_is_brought_up_to_standard(local_aws):
    """A table made before this hardening (provisioned, no PITR, no TTL) is fixed in place, not recreated."""
    from uploads.models import MediaItem

    dynamodb = client("dynamodb")
    with override_settings(DYNAMODB_TABLE_PREFIX=f"old-{uuid.uuid4().hex[:6]}-"):
        definition = bootstrap.table_definition(MediaItem)
        del definition["SSESpecification"], definition["BillingMode"]
        throughput = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
        for index in definition["GlobalSecondaryIndexes"]:
            index["ProvisionedThroughput"] = throughput
        dynamodb.create_table(**definition, ProvisionedThroughput=throughput)
        try:
            assert bootstrap.ensure_table(MediaItem) is False
            config = table_config(MediaItem.Meta.table_name)
            assert config["billing"] == "PAY_PER_REQUEST"
            assert config["pitr"] == "ENABLED"
            assert config["ttl"]["AttributeName"] == "expires_at"
            # (bootstrap also asks UpdateTable for KMS encryption; moto accepts the request but does not apply it)
        finally:
            dynamodb.delete_table(TableName=MediaItem.Meta.table_name)


def test_an_index_the_model_gained_is_added_to_the_existing_table_with_its_items(local_aws):
    """Local state and production tables outlive a model change: bootstrap adds the missing index in place
    (UpdateTable), and the items already in the table are found through it."""
    from uploads.models import MediaItem

    dynamodb = client("dynamodb")
    with override_settings(DYNAMODB_TABLE_PREFIX=f"old-{uuid.uuid4().hex[:6]}-"):
        definition = bootstrap.table_definition(MediaItem)
        definition["GlobalSecondaryIndexes"] = [
            index for index in definition["GlobalSecondaryIndexes"] if index["IndexName"] != "by-checksum"
        ]
        definition["AttributeDefinitions"] = [
            d for d in definition["AttributeDefinitions"] if d["AttributeName"] != "sha256"
        ]
        dynamodb.create_table(**definition)
        try:
            MediaItem(
                "a" * 32,
                owner_id="7",
                name="n",
                file_name="f.jpg",
                object_key="k",
                declared_type="image/jpeg",
                size=1,
                status="ready",
                sha256="b" * 64,
            ).save()
            assert bootstrap.ensure_table(MediaItem) is False
            indexes = dynamodb.describe_table(TableName=MediaItem.Meta.table_name)["Table"]["GlobalSecondaryIndexes"]
            [added] = [index for index in indexes if index["IndexName"] == "by-checksum"]
            assert added["IndexStatus"] == "ACTIVE"
            assert [k["AttributeName"] for k in added["KeySchema"]] == ["owner_id", "sha256"]
            found = dynamodb.query(
                TableName=MediaItem.Meta.table_name,
                IndexName="by-checksum",
                KeyConditionExpression="owner_id = :o AND sha256 = :s",
                ExpressionAttributeValues={":o": {"S": "7"}, ":s": {"S": "b" * 64}},
            )["Items"]
            assert [item["id"]["S"] for item in found] == ["a" * 32]
            assert (
                bootstrap.missing_indexes(
                    MediaItem, dynamodb.describe_table(TableName=MediaItem.Meta.table_name)["Table"]
                )
                == []
            )
        finally:
            dynamodb.delete_table(TableName=MediaItem.Meta.table_name)
