"""The role's policy against the code's real calls: every S3, DynamoDB, SSM and Lambda call the test session made.

Runs last (tests/deploy/conftest.py), so in a full run it judges the calls of every test before it: the pages,
the API, the Celery worker, the browser's uploads and downloads, the Lambda handler. Run alone it judges what its
own representative flow makes, and it refuses to pass on an empty or partial recording.

Each recorded call of the application is mapped to its IAM actions and resources (tests/deploy/recording.py),
its session resource names are replaced by each stage's, and the stage's policy must allow every one. Calls that
production never makes as the Lambda role are left out, each for a reason named in recording.py: bootstrap
(an operator with admin credentials), the per-test cleanup, and tests calling AWS themselves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections import Counter
from datetime import timedelta

import pytest
import requests
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from deploy.policy import function_name
from tests.conftest import create_and_upload, jpeg_bytes, post_json, upload_to_s3
from tests.deploy.conftest import STAGES
from tests.deploy.iam_check import (
    TEST_SECRETS_PATH,
    object_acls,
    scans,
    unused_actions,
    violations,
    whole_session_problems,
)
from tests.deploy.recording import ACCOUNT, Call
from tests.deploy.test_zappa_settings import s3_event
from tests.images import camera_jpeg

# The representative flow signs people in: the test database must exist even when this module runs alone.
pytestmark = pytest.mark.django_db

# The operations without which the check would prove little: if one is missing the recorder is broken.
REQUIRED = {
    ("s3", "PostObject"),
    ("s3", "GetObject"),
    ("s3", "HeadObject"),
    ("s3", "PutObject"),
    ("s3", "CopyObject"),
    ("s3", "DeleteObject"),
    ("s3", "DeleteObjects"),
    ("s3", "ListObjects"),
    ("s3", "CreateMultipartUpload"),
    ("s3", "UploadPart"),
    ("s3", "ListParts"),
    ("s3", "CompleteMultipartUpload"),
    ("s3", "AbortMultipartUpload"),
    ("dynamodb", "GetItem"),
    ("dynamodb", "PutItem"),
    ("dynamodb", "UpdateItem"),
    ("dynamodb", "DeleteItem"),
    ("dynamodb", "Query"),
    ("dynamodb", "BatchGetItem"),
    ("ssm", "GetParameters"),
    ("lambda", "Invoke"),
}
# --- The representative flow ----------------------------------------------------------------------------------


def change_avatar(client, data: bytes) -> str:
    ticket = post_json(client, "/api/profile/avatar", {"fileName": "me.jpg", "contentType": "image/jpeg"})
    assert ticket.status_code == 200, ticket.content
    body = ticket.json()
    assert upload_to_s3({"url": body["url"], "fields": body["fields"]}, data).status_code in (200, 204)
    assert post_json(client, "/api/profile/avatar/complete", {"key": body["key"]}).status_code == 200
    return body["key"]


def upload_in_parts(client) -> None:
    mib = 1024**2
    data = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + bytes(6 * mib)
    chunks = {1: data[: 5 * mib], 2: data[5 * mib :]}
    request = {"fileName": "film.mp4", "contentType": "video/mp4", "size": len(data), "name": "A film"}
    with override_settings(MULTIPART_THRESHOLD=5 * mib, MULTIPART_PART_SIZE=5 * mib):
        ticket = post_json(client, "/api/media/", request).json()
        digests = [base64.b64encode(hashlib.sha256(chunk).digest()).decode() for chunk in chunks.values()]
        signed = post_json(client, f"/api/media/{ticket['id']}/parts", {"partNumbers": [1, 2], "checksums": digests})
        for part in signed.json()["parts"]:
            put = requests.put(part["url"], data=chunks[part["partNumber"]], headers=part["headers"], timeout=30)
            assert put.status_code == 200
        assert len(client.get(f"/api/media/{ticket['id']}/parts").json()["parts"]) == 2
        assert post_json(client, f"/api/media/{ticket['id']}/complete").status_code == 202
        cancelled = post_json(client, "/api/media/", request).json()["id"]
        assert client.delete(f"/api/media/{cancelled}/upload").status_code == 204


def representative_flow(client, user, staff_client, local_aws, monkeypatch) -> None:
    """What production does as the Lambda role, once each: the site, the S3 handler, re-queueing, secrets."""
    from profiles import services as profile_services
    from uploads import events, services, sharing
    from uploads.models import MediaItem, Status

    client.force_login(user)
    owner = str(user.pk)
    # Upload from the browser, complete, and the S3 event processes it.
    item_id = create_and_upload(client, camera_jpeg().getvalue())["id"]
    assert post_json(client, f"/api/media/{item_id}/complete").status_code == 202
    item = MediaItem.get(item_id)
    assert events.handle_s3_event(s3_event(settings.UPLOADS_BUCKET, item.object_key))["outcomes"][0][1] == "ready"
    # A file in parts: create, sign, PUT the parts, list them (to resume), complete; and one cancelled.
    upload_in_parts(client)
    # Gallery, detail, a rendition and a download as the browser fetches them, an edit.
    assert client.get("/").status_code == 200
    assert client.get(f"/media/{item_id}/").status_code == 200
    detail = client.get(f"/api/media/{item_id}").json()
    links = [part for part in json.dumps(detail).split('"') if part.startswith("http") and "/renditions/" in part]
    assert links, detail
    assert requests.get(links[0], timeout=30).status_code == 200
    download = client.get(f"/media/{item_id}/download/")
    assert requests.get(download["Location"], timeout=30).status_code == 200
    assert post_json(client, f"/api/media/{item_id}", {"name": "Renamed"}, method="patch").status_code == 200
    # A share link (deleting the item deletes its links in a batch).
    sharing.share_create(
        owner_id=owner,
        media_id=item_id,
        expires_at=MediaItem.get(item_id).created_at + timedelta(days=1),
        max_downloads=None,
    )
    # Refused at complete (not what it says it is), and refused in processing (damaged): quarantined.
    bad = create_and_upload(client, b"<html>not a picture</html>")["id"]
    assert post_json(client, f"/api/media/{bad}/complete").status_code == 422
    damaged = create_and_upload(client, jpeg_bytes(200, 200)[:400])["id"]
    assert post_json(client, f"/api/media/{damaged}/complete").status_code == 202
    assert events.handle_s3_event(s3_event(settings.UPLOADS_BUCKET, MediaItem.get(damaged).object_key))
    assert MediaItem.get(damaged).status == Status.REJECTED
    # The form upload without JavaScript (django-storages streams it to S3).
    photo = SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg")
    assert client.post("/upload/", {"name": "Form", "caption": "", "file": photo}).status_code == 302
    # Re-queueing: the sweep's Query, and the asynchronous invocation of the function itself, as on Lambda.
    services.requeue_stuck()
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function_name("production", STAGES["production"]))
    with pytest.raises(ClientError, match="ResourceNotFoundException"):  # moto has no such function; it is called
        services.enqueue_processing(MediaItem.get(item_id), force=True)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    # Avatars: set one, replace it (the old one's objects go).
    change_avatar(client, jpeg_bytes(300, 300, "red"))
    change_avatar(client, jpeg_bytes(300, 300, "blue"))
    # Staff pages: media by status, profiles in one BatchGet.
    assert staff_client.get(reverse("admin-media-list") + "?status=ready").status_code == 200
    assert staff_client.get(reverse("admin-profile-list")).status_code == 200
    # An album: the item added to it (a transaction: the membership, and a condition on the item).
    album = post_json(client, "/api/albums/", {"name": "IAM"}).json()
    assert post_json(client, f"/api/albums/{album['id']}/items", {"ids": [item_id]}).status_code == 200
    # Delete an item, then the whole account's data.
    assert client.delete(f"/api/media/{item_id}").status_code == 204
    profile_services.delete_account_data(owner)
    # Secrets at start-up.
    ssm = local_aws.client("ssm")
    ssm.put_parameter(Name=f"{TEST_SECRETS_PATH}/SECRET_KEY", Value="x" * 50, Type="SecureString", Overwrite=True)
    from mediahub.settings import load_secrets

    saved = dict(os.environ)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", local_aws.endpoint)
        os.environ.pop("SECRET_KEY", None)
        assert load_secrets(TEST_SECRETS_PATH) == ["SECRET_KEY"]
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def recorded(local_aws, django_db_setup, django_db_blocker):
    """Every application call of the session, after this module's own representative flow."""
    from django.contrib.auth.models import User
    from django.test import Client

    assert local_aws.recorder is not None, "the recorder is not installed: see the deploy hook in tests/conftest.py"
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as monkeypatch:
        suffix = os.urandom(4).hex()
        user = User.objects.create_user(f"iam-{suffix}", password="correct horse battery staple")
        staff = User.objects.create_user(f"iam-staff-{suffix}", is_staff=True, is_superuser=True)
        staff_client = Client()
        staff_client.force_login(staff)
        try:
            with override_settings(PROCESSING_MODE="lambda", REJECTED_ORIGINALS="quarantine"):
                representative_flow(Client(), user, staff_client, local_aws, monkeypatch)
        finally:
            User.objects.filter(pk__in=[user.pk, staff.pk]).delete()
    return local_aws.recorder.app_calls()


def test_the_recording_is_not_empty_and_has_every_key_operation(recorded):
    seen = {(call.service, call.operation) for call in recorded}
    assert not REQUIRED - seen, f"missing from the recording: {sorted(REQUIRED - seen)}"
    unreadable = [call.operation for call in recorded if call.service == "unknown"]
    assert not unreadable


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_role_allows_every_call_the_code_makes(recorded, stage):
    problems = violations(recorded, stage)
    summary = Counter(f"{c.service} {c.operation}" for c in recorded)
    assert not problems, "not allowed by deploy/iam/{}.json:\n  {}\n(calls seen: {})".format(
        stage, "\n  ".join(problems), dict(summary)
    )


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_role_allows_nothing_the_code_does_not_use(recorded, stage, request):
    if hasattr(request.config, "workerinput"):
        pytest.skip(
            "under pytest-xdist one worker sees only its share of the calls: the controller checks this over "
            "every worker's calls once the run is done (tests/conftest.py)"
        )
    assert unused_actions(recorded, stage) == []


def test_the_check_refuses_what_the_role_may_not_do(recorded):
    """The check itself: calls production must never make as the role are caught."""
    forbidden = [
        Call("s3", "CreateBucket", [("s3:CreateBucket", f"arn:aws:s3:::{settings.UPLOADS_BUCKET}")], "app", 200),
        Call("s3", "GetObject", [("s3:GetObject", f"arn:aws:s3:::{settings.UPLOADS_BUCKET}/quarantine/x")], "app", 200),
        Call("s3", "PutObject", [("s3:PutObject", "arn:aws:s3:::someone-else/uploads/x")], "app", 200),
        Call("dynamodb", "Scan", [("dynamodb:Scan", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/x")], "app", 200),
    ]
    assert len(violations(forbidden, "production")) == len(forbidden)


def test_the_check_of_a_whole_run_finds_a_refused_call_a_scan_and_an_object_acl():
    """What each process runs over all of its calls once its last test is done (tests/conftest.py)."""
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{settings.DYNAMODB_TABLE_PREFIX}media"
    calls = [
        Call("s3", "CreateBucket", [("s3:CreateBucket", f"arn:aws:s3:::{settings.UPLOADS_BUCKET}")], "app", 200),
        Call("dynamodb", "Scan", [("dynamodb:Scan", table)], "app", 200),
        Call("s3", "PutObject", [], "app", 200, acl="public-read"),
    ]
    problems = whole_session_problems(calls)
    assert sum("s3:CreateBucket" in line for line in problems) == len(STAGES)
    assert f"Scan of {table}" in problems and "PutObject asked for the ACL public-read" in problems
    assert whole_session_problems([]) == []


def test_no_upload_asks_for_an_object_acl(recorded):
    assert object_acls(recorded) == []


# --- No Scan, anywhere (issue 13): every page is a Query, a GetItem or a BatchGetItem -------------------------------


def test_no_application_call_of_the_whole_session_is_a_scan(recorded):
    """Runs last (see conftest.py), over every call the application made in the session: pages, API, worker, Lambda."""
    assert scans(recorded) == []


def test_the_scan_check_sees_a_scan():
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/x"
    assert scans([Call("dynamodb", "Scan", [("dynamodb:Scan", table)], "app", 200)]) == [f"Scan of {table}"]
    assert scans([Call("dynamodb", "Query", [("dynamodb:Query", table)], "app", 200)]) == []
