"""The site and the S3 handler through Zappa's own Lambda handler, as `zappa deploy production` would run them.

A fresh process plays the Lambda container: the settings module Zappa generates for the stage
(`zappa save-python-settings-file production`) on its path, production's environment variables applied by
Zappa's handler, secrets read from Parameter Store at start-up, and AWS calls going to the session's moto server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings

from deploy.policy import ROOT
from mediahub.aws import client as aws_client
from tests.conftest import jpeg_bytes
from tests.deploy.conftest import STAGES, as_stage
from tests.deploy.test_zappa_settings import s3_event
from uploads import services
from uploads.models import MediaItem, Status

HOST = STAGES["production"]["domain"]
RUNNER = """
import json, sys, types
from zappa.handler import lambda_handler

context = types.SimpleNamespace(
    function_name="mediahub-production", function_version="$LATEST", aws_request_id="test", memory_limit_in_mb=2048,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:mediahub-production",
    get_remaining_time_in_millis=lambda: 60000,
)
results = [lambda_handler(event, context) for event in json.load(open(sys.argv[1]))]
print("RESULTS " + json.dumps(results, default=str))
"""


def api_gateway_event(path: str, method: str = "GET") -> dict:
    """A REST API (v1) proxy event, as API Gateway sends it for a request to the custom domain."""
    headers = {
        "Host": HOST,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Port": "443",
        "Accept": "text/html",
        "User-Agent": "pytest",
    }
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/production{path}",
            "stage": "production",
            "requestId": uuid.uuid4().hex,
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": HOST,
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "pytest"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def scheduled_event(function: str) -> dict:
    return {
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/mediahub-production-{function}"],
        "detail": {},
    }


@pytest.fixture(scope="module")
def collected_static() -> dict:
    """What `make package` does before zipping: the hashed, compressed static files WhiteNoise serves."""
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": "collectstatic-only", "DATABASE_URL": "sqlite://:memory:"}
    env.pop("SECRETS_PARAMETER_PATH", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return json.loads((ROOT / "staticfiles" / "staticfiles.json").read_text())["paths"]


def put_secrets(local_aws, **values: str) -> None:
    ssm = local_aws.client("ssm")
    for name, value in values.items():
        ssm.put_parameter(Name=f"/mediahub/production/{name}", Value=value, Type="SecureString", Overwrite=True)


@pytest.fixture
def secrets(local_aws, tmp_path) -> dict[str, str]:
    """The stage's secrets in Parameter Store, as docs/deploy.md has the operator put them. The database is a
    SQLite file outside the container's own folder: the one database every container of the stage shares."""
    values = {"SECRET_KEY": uuid.uuid4().hex * 2, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    put_secrets(local_aws, **values)
    return values


def run_in_lambda(zappa_cli, local_aws, tmp_path: Path, events: list[dict]) -> tuple[list, str]:
    task = tmp_path / "task"
    task.mkdir()
    zappa_cli("production").save_python_settings_file(str(task / "zappa_settings.py"))
    (tmp_path / "events.json").write_text(json.dumps(events))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET", "DATABASE_URL", "AWS_"))}
    env.update(
        PYTHONPATH=f"{task}{os.pathsep}{ROOT}",
        AWS_ENDPOINT_URL=local_aws.endpoint,  # the one thing that differs from Lambda: moto instead of AWS
        AWS_ACCESS_KEY_ID="lambda-role",
        AWS_SECRET_ACCESS_KEY="lambda-role",
        AWS_DEFAULT_REGION="us-east-1",
    )
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(tmp_path / "events.json")],
        cwd=task,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULTS "))
    return json.loads(line.removeprefix("RESULTS ")), result.stderr


@pytest.mark.django_db
def test_the_site_and_the_s3_handler_answer_through_zappas_lambda_handler(
    production_aws, secrets, collected_static, zappa_cli, local_aws, tmp_path
):
    # An upload as the browser makes it, against production's buckets and tables (PROCESSING_MODE=lambda:
    # complete enqueues nothing; the bucket's S3 event does the work).
    with as_stage("production", PROCESSING_MODE="lambda"):
        data = jpeg_bytes(1200, 800, "teal")
        ticket = services.media_create(
            owner_id="7", name="Lake", caption="", file_name="lake.jpg", content_type="image/jpeg", size=len(data)
        )
        upload = requests.post(ticket.url, data=ticket.fields, files={"file": ("lake.jpg", data)}, timeout=30)
        assert upload.status_code in (200, 204)
        assert services.media_complete(owner_id="7", media_id=ticket.item.id).status == Status.UPLOADED
        bucket = settings.UPLOADS_BUCKET
    css = next(path for path in collected_static if path.endswith(".css"))

    events = [
        {"manage": "migrate --noinput"},  # zappa manage production migrate
        api_gateway_event("/accounts/login/"),
        api_gateway_event(f"/static/{collected_static[css]}"),
        s3_event(bucket, ticket.item.object_key, configuration_id="mediahub-production", size=len(data)),
        scheduled_event("uploads.events.sweep_stuck"),
        scheduled_event("uploads.events.delete_expired"),
        scheduled_event("uploads.events.sweep_abandoned"),
        scheduled_event("uploads.events.reconcile_usage"),
        scheduled_event("zappa-keep-warm-handler.keep_warm_callback"),
    ]
    (migrated, page, static, processed, swept, expired, abandoned, drifted, warm), log = run_in_lambda(
        zappa_cli, local_aws, tmp_path, events
    )

    assert migrated == {}
    assert page["statusCode"] == 200, page.get("body", "")[:2000]
    assert 'name="username"' in page["body"] and 'name="password"' in page["body"]
    assert "<title>" in page["body"] and "mediahub" in page["body"]
    assert page["headers"]["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "csrftoken=" in page["headers"]["Set-Cookie"] and "Secure" in page["headers"]["Set-Cookie"]
    assert static["statusCode"] == 200
    assert "immutable" in static["headers"]["Cache-Control"]

    assert processed == {"outcomes": [[ticket.item.object_key, Status.READY]]}
    assert swept == 0
    assert expired == 0
    assert abandoned == 0
    assert drifted == 0
    assert warm is None
    assert '"outcome": "ready"' in log  # the processing log line, as `zappa tail` shows it

    with as_stage("production"):
        item = MediaItem.get(ticket.item.id, consistent_read=True)
        assert item.status == Status.READY and (item.width, item.height) == (1200, 800)
        listing = aws_client("s3").list_objects_v2(Bucket=settings.RENDITIONS_BUCKET, Prefix=f"renditions/7/{item.id}/")
        assert len(listing["Contents"]) == 2 * len(settings.MEDIA_RENDITIONS)
        services.delete_item(item)


def test_a_stage_without_its_secret_key_refuses_to_start(production_aws, zappa_cli, local_aws, tmp_path):
    """No SECRET_KEY in Parameter Store (and none in the environment): the function fails at start-up, loudly."""
    ssm = local_aws.client("ssm")
    ssm.delete_parameters(Names=["/mediahub/production/SECRET_KEY"])
    with pytest.raises(AssertionError, match="SECRET_KEY is not set"):
        run_in_lambda(zappa_cli, local_aws, tmp_path, [api_gateway_event("/accounts/login/")])


def test_a_stage_without_its_database_url_refuses_to_start(production_aws, zappa_cli, local_aws, tmp_path):
    """No DATABASE_URL: not a SQLite file per container (sign-in 500s, migrate migrates nothing), but a loud stop."""
    put_secrets(local_aws, SECRET_KEY=uuid.uuid4().hex * 2)
    local_aws.client("ssm").delete_parameters(Names=["/mediahub/production/DATABASE_URL"])
    with pytest.raises(AssertionError, match="DATABASE_URL is not set"):
        run_in_lambda(zappa_cli, local_aws, tmp_path, [{"manage": "migrate --noinput"}])
