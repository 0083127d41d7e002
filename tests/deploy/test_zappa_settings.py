"""zappa_settings.json through Zappa's own code: what `zappa deploy` would read, register and run."""

import io
import json
import uuid
import zipfile

import boto3
import pytest
from zappa.utilities import add_event_source, import_and_get_function

from deploy.policy import ROOT, function_name
from mediahub.settings import SECRET_PARAMETERS
from tests.deploy.conftest import STAGES, as_stage

# Runtimes Lambda lets you create functions with (python3.9-3.11 are deprecated or blocked for new functions, and
# python3.11 runs on Amazon Linux 2, whose glibc is older than the Pillow wheels need).
SUPPORTED_RUNTIMES = {"python3.12", "python3.13", "python3.14"}
BUCKET_SETTINGS = ("UPLOADS_BUCKET", "RENDITIONS_BUCKET")


def s3_event(bucket: str, key: str, configuration_id: str = "mediahub-production", size: int = 1) -> dict:
    """An ObjectCreated notification as S3 delivers it to Lambda (keys are URL-encoded, spaces as +)."""
    from urllib.parse import quote_plus

    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-27T00:00:00.000Z",
        "eventName": "ObjectCreated:Post",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": quote_plus(key, safe="/"), "size": size, "eTag": "0" * 32},
        },
    }
    return {"Records": [record]}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_each_stage_loads_through_zappas_own_settings_code(zappa_cli, stage):
    cli = zappa_cli(stage)
    assert cli.lambda_name == function_name(stage, STAGES[stage]) == f"mediahub-{stage}"
    assert cli.django_settings == "mediahub.settings"
    assert cli.runtime in SUPPORTED_RUNTIMES
    assert cli.aws_region == "us-east-1"
    assert cli.stage_config["s3_bucket"] == f"mediahub-{stage}-zappa-code"
    # Sized for Pillow on the largest image allowed (see docs/deploy.md and tests/deploy/test_package.py).
    assert cli.memory_size >= 2048
    assert 30 <= cli.timeout_seconds <= 900
    # The role: Zappa manages it, with our policy as its only inline policy instead of Zappa's default.
    assert cli.manage_roles is True
    assert cli.zappa.attach_policy == (ROOT / "deploy" / "iam" / f"{stage}.json").read_text()
    assert cli.debug is False  # Zappa's own debug mode would return tracebacks to the browser


def test_production_is_kept_warm_and_dev_is_not(zappa_cli):
    assert zappa_cli("production").stage_config["keep_warm"] is True
    assert zappa_cli("dev").stage_config["keep_warm"] is False


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_environment_variables_hold_no_secret(stage):
    env = STAGES[stage]["environment_variables"]
    assert env["DEBUG"] == "false"
    assert env["PROCESSING_MODE"] == "lambda"
    assert env["SECRETS_PARAMETER_PATH"] == f"/mediahub/{stage}"
    assert not set(env) & {*SECRET_PARAMETERS, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    assert [n for n in env if any(word in n for word in ("SECRET", "PASSWORD", "TOKEN"))] == ["SECRETS_PARAMETER_PATH"]
    assert "AWS_ENDPOINT_URL" not in env  # real AWS
    assert "AWS_REGION" not in env  # Lambda reserves it (Zappa sets it from aws_region)


def test_stages_share_no_bucket_table_or_secret():
    def resources(stage):
        env = STAGES[stage]["environment_variables"]
        return {env[s] for s in (*BUCKET_SETTINGS, "DYNAMODB_TABLE_PREFIX", "SECRETS_PARAMETER_PATH")} | {
            STAGES[stage]["s3_bucket"]
        }

    dev, production = resources("dev"), resources("production")
    assert len(dev) == len(production) == 5
    assert not dev & production
    assert not any(a.startswith(b) or b.startswith(a) for a in dev for b in production)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_package_leaves_out_tests_tools_and_the_runtimes_sdk(stage):
    exclude = set(STAGES[stage]["exclude"])
    assert {
        "tests",
        "bench",
        "docs",
        ".data",
        ".venv",
        ".git",
        "deploy",
        "mediahub_cli",
        "frontend",
        "node_modules",
        "requirements-dev.txt",
    } <= exclude
    # A hand-written exclude replaces Zappa's default one, which leaves out the SDK the Lambda runtime provides.
    assert {"boto3", "botocore", "s3transfer"} <= exclude
    # Nothing the application imports on Lambda.
    assert not exclude & {
        "mediahub",
        "uploads",
        "profiles",
        "exports",
        "templates",
        "static",
        "staticfiles",
        "django",
        "PIL",
    }


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_function_imports_and_accepts_its_event(stage, stage_aws, db):
    stage_aws(stage)
    events = STAGES[stage]["events"]
    assert {e["function"] for e in events} == {
        "uploads.events.handle_s3_event",
        "uploads.events.sweep_stuck",
        "uploads.events.delete_expired",
        "uploads.events.sweep_abandoned",
        "uploads.events.reconcile_usage",
        "profiles.events.resume_account_deletions",
        "profiles.events.sweep_avatars",
        "exports.events.sweep",
    }
    for event in events:
        function = import_and_get_function(event["function"])
        if "event_source" in event:
            bucket = event["event_source"]["arn"].removeprefix("arn:aws:s3:::")
            # A key that is neither an original nor an avatar: the handler must take it and leave it alone.
            with as_stage(stage):
                result = function(s3_event(bucket, f"elsewhere/{uuid.uuid4().hex}.txt"), None)
            assert [outcome for _, outcome in result["outcomes"]] == ["ignored"]
        else:
            assert event["expression"] in ("rate(5 minutes)", "rate(1 hour)", "rate(1 day)")
            with as_stage(stage):
                assert function({"detail-type": "Scheduled Event"}, None) == 0


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_one_s3_event_on_the_stages_uploads_bucket_for_every_object_created(stage):
    env = STAGES[stage]["environment_variables"]
    sources = [e["event_source"] for e in STAGES[stage]["events"] if "event_source" in e]
    # Zappa 0.63 keeps one notification per function and bucket (its Id is the function name) and ignores
    # key_filters, so there is one event, unfiltered; the handler branches on the key's prefix.
    assert sources == [{"arn": f"arn:aws:s3:::{env['UPLOADS_BUCKET']}", "events": ["s3:ObjectCreated:*"]}]
    # ...on a bucket our bootstrap makes and configures for this stage.
    with as_stage(stage):
        from django.conf import settings

        assert sources[0]["arn"].removeprefix("arn:aws:s3:::") in {getattr(settings, s) for s in BUCKET_SETTINGS}


def _lambda_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return None\n")
    return out.getvalue()


def test_registering_the_events_on_aws_gives_the_notification_we_expect(production_aws, aws_env, zappa_cli):
    """What `zappa deploy production` does for the S3 event, through zappa.utilities.add_event_source."""
    cli = zappa_cli("production")
    session = boto3.Session()
    iam, lam, s3 = session.client("iam"), session.client("lambda"), session.client("s3")
    role = iam.create_role(
        RoleName=f"{cli.lambda_name}-ZappaLambdaExecutionRole-{uuid.uuid4().hex[:6]}",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ]
            }
        ),
    )["Role"]
    function_arn = lam.create_function(
        FunctionName=cli.lambda_name,
        Runtime=cli.runtime,
        Role=role["Arn"],
        Handler="handler.lambda_handler",
        Code={"ZipFile": _lambda_zip()},
    )["FunctionArn"]
    bucket = STAGES["production"]["environment_variables"]["UPLOADS_BUCKET"]
    try:
        for event in cli.stage_config["events"]:
            if "event_source" in event:
                assert add_event_source(event["event_source"], function_arn, event["function"], session) == "successful"
        config = s3.get_bucket_notification_configuration(Bucket=bucket)
        assert config["LambdaFunctionConfigurations"] == [
            {"Id": cli.lambda_name, "LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"]}
        ]
        assert not config.get("QueueConfigurations") and not config.get("TopicConfigurations")
        # Registering again (zappa update) replaces it instead of adding a second one.
        event = next(e for e in cli.stage_config["events"] if "event_source" in e)
        assert add_event_source(event["event_source"], function_arn, event["function"], session) == "updated"
        assert len(s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]) == 1
        # S3 may invoke the function, for this bucket only.
        statement = json.loads(lam.get_policy(FunctionName=cli.lambda_name)["Policy"])["Statement"]
        assert [(s["Principal"], s["Condition"]["ArnLike"]["AWS:SourceArn"]) for s in statement] == [
            ({"Service": "s3.amazonaws.com"}, f"arn:aws:s3:::{bucket}")
        ]
        # The handler Zappa packages dispatches this bucket's events to our function.
        assert f"AWS_EVENT_MAPPING={{'arn:aws:s3:::{bucket}': ['uploads.events.handle_s3_event']}}" in (
            cli.get_zappa_settings_string()
        )
    finally:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        lam.delete_function(FunctionName=cli.lambda_name)
        iam.delete_role(RoleName=role["RoleName"])


def test_the_operators_shell_gets_the_stages_settings_and_real_aws(local_aws):
    import subprocess
    import sys

    script = f'export AWS_ENDPOINT_URL=http://x; eval "$({sys.executable} -m deploy.env dev)"; env'
    env = dict(
        line.split("=", 1)
        for line in subprocess.run(
            ["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
        if "=" in line
    )
    assert "AWS_ENDPOINT_URL" not in env
    assert env["DEFAULT_FROM_EMAIL"] == STAGES["dev"]["environment_variables"]["DEFAULT_FROM_EMAIL"]
    assert {k: env[k] for k in STAGES["dev"]["environment_variables"]} == STAGES["dev"]["environment_variables"]
