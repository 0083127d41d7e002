from django.conf import settings
from django.core.management import call_command

from mediahub import dynamo
from mediahub.aws import client


def test_bootstrap_created_both_buckets_with_cors_for_the_site(local_aws):
    s3 = client("s3")
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {settings.UPLOADS_BUCKET, settings.RENDITIONS_BUCKET} <= names
    rules = s3.get_bucket_cors(Bucket=settings.UPLOADS_BUCKET)["CORSRules"]
    assert rules[0]["AllowedOrigins"] == [settings.SITE_URL]
    assert {"POST", "PUT"} <= set(rules[0]["AllowedMethods"])


def test_bootstrap_created_a_table_per_model_under_the_session_prefix(local_aws):
    tables = client("dynamodb").list_tables()["TableNames"]
    assert dynamo.registry, "no PynamoDB model is registered"
    for model in dynamo.registry:
        assert model.Meta.table_name.startswith(settings.DYNAMODB_TABLE_PREFIX)
        assert model.Meta.table_name in tables


def test_bootstrap_is_idempotent(local_aws, capsys):
    call_command("bootstrap")
    out = capsys.readouterr().out
    assert "created" not in out
    assert f"bucket {settings.UPLOADS_BUCKET}: exists" in out
