from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from mediahub.aws import client as aws_client
from mediahub.errors import Conflict
from tests.conftest import create_and_upload, post_json
from tests.images import camera_jpeg
from tests.uploads.test_processing import process
from uploads import quota, selectors, services, tasks
from uploads.models import MediaItem, Status, StorageUsage, utcnow
from uploads.quota import SETTLE

pytestmark = pytest.mark.django_db


def objects(bucket: str) -> list[str]:
    return [o["Key"] for o in aws_client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_item_expiry_removes_the_record_the_original_and_every_rendition(client, alice):
    client.force_login(alice)
    doomed = create_and_upload(client, camera_jpeg().getvalue(), deleteAfterDays=1)
    kept = create_and_upload(client, camera_jpeg().getvalue(), name="kept")
    for body in (doomed, kept):
        post_json(client, f"/api/media/{body['id']}/complete")
        process(MediaItem.get(body["id"]))
    item = MediaItem.get(doomed["id"])
    assert item.status == Status.READY
    assert timedelta(hours=23) < item.delete_at - utcnow() <= timedelta(days=1)
    assert client.get(f"/api/media/{doomed['id']}").json()["deleteAt"] == item.delete_at.isoformat()

    assert services.delete_expired() == 0  # not yet
    item.update(actions=[MediaItem.delete_at.set(utcnow() - timedelta(seconds=1))])
    assert tasks.delete_expired() == 1

    with pytest.raises(MediaItem.DoesNotExist):
        MediaItem.get(doomed["id"])
    for bucket in (settings.UPLOADS_BUCKET, settings.RENDITIONS_BUCKET):
        assert not [k for k in objects(bucket) if doomed["id"] in k]
        assert [k for k in objects(bucket) if kept["id"] in k]  # the other item is untouched


@pytest.mark.parametrize("days", [0, -1, 3651, "soon"])
def test_delete_after_days_is_validated(client, alice, days):
    client.force_login(alice)
    payload = {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 5, "name": "n", "deleteAfterDays": days}
    response = post_json(client, "/api/media/", payload)
    assert response.status_code == 400
    assert "deleteAfterDays" in response.json()["errors"]


def request_upload(client, size: int):
    payload = {"fileName": "a.jpg", "contentType": "image/jpeg", "size": size, "name": "n"}
    return post_json(client, "/api/media/", payload)


def store(client, size: int) -> str:
    """Upload and complete a file of `size` bytes that passes the arrival checks (it starts like a JPEG)."""
    body = create_and_upload(client, b"\xff\xd8\xff" + b"\0" * (size - 3))
    response = post_json(client, f"/api/media/{body['id']}/complete")
    assert response.status_code == 202, response.content
    return body["id"]


def test_quota_allows_an_upload_exactly_at_the_limit_and_refuses_one_byte_over(client, alice, settings):
    settings.USER_STORAGE_QUOTA = 1000
    client.force_login(alice)
    store(client, 600)
    over = request_upload(client, 401)
    assert over.status_code == 400
    assert "over your storage quota: 600 bytes of 1000 bytes used" in over.json()["errors"]["size"][0]
    store(client, 400)  # exactly at the limit
    assert request_upload(client, 1).status_code == 400
    assert quota.bytes_stored(str(alice.pk)) == 1000


def test_two_uploads_racing_for_the_last_bytes_cannot_both_complete(client, alice, settings):
    settings.USER_STORAGE_QUOTA = 1000
    client.force_login(alice)
    first = create_and_upload(client, b"\xff\xd8\xff" + b"\0" * 597)
    second = create_and_upload(client, b"\xff\xd8\xff" + b"\0" * 597)  # both presigned while 0 bytes were used
    assert post_json(client, f"/api/media/{first['id']}/complete").status_code == 202
    response = post_json(client, f"/api/media/{second['id']}/complete")
    assert response.status_code == 422
    assert "storage quota" in response.json()["errors"]["file"][0]
    assert quota.bytes_stored(str(alice.pk)) == 600


def test_deleting_and_refusing_give_the_bytes_back_once(client, alice, settings):
    client.force_login(alice)
    kept, deleted = store(client, 100), store(client, 200)
    client.delete(f"/api/media/{deleted}?forever=1")
    assert quota.bytes_stored(str(alice.pk)) == 100
    process(MediaItem.get(kept))  # not a real JPEG: refused by processing, and uncounted
    assert MediaItem.get(kept).status == Status.REJECTED
    client.delete(f"/api/media/{kept}?forever=1")  # deleting it too gives nothing back twice
    assert quota.bytes_stored(str(alice.pk)) == 0


def test_refused_uploads_do_not_count_against_the_quota(client, alice, settings):
    settings.USER_STORAGE_QUOTA = 1000
    client.force_login(alice)
    media_id = request_upload(client, 900).json()["id"]
    post_json(client, f"/api/media/{media_id}/complete")  # never uploaded: rejected
    assert request_upload(client, 1000).status_code == 201


def test_the_page_upload_path_enforces_the_quota_too(client, alice, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.USER_STORAGE_QUOTA = 10
    client.force_login(alice)
    upload = SimpleUploadedFile("a.jpg", camera_jpeg().getvalue(), content_type="image/jpeg")
    response = client.post("/upload/", {"name": "n", "file": upload}, follow=True)
    assert "over your storage quota" in response.content.decode()


def test_usage_page_counts_items_bytes_and_downloads(client, alice):
    client.force_login(alice)
    data = camera_jpeg().getvalue()
    bodies = [create_and_upload(client, data) for _ in range(2)]
    for body in bodies:
        post_json(client, f"/api/media/{body['id']}/complete")
    client.get(f"/media/{bodies[0]['id']}/download/")
    page = client.get("/usage/").content.decode()
    assert 'data-testid="usage-items">2<' in page
    assert 'data-testid="usage-downloads">1<' in page
    usage = selectors.usage_for_owner(str(alice.pk))
    assert usage.bytes_stored == 2 * len(data)


def test_a_download_counted_after_the_item_was_deleted_makes_no_ghost_record(client, alice):
    client.force_login(alice)
    body = create_and_upload(client, camera_jpeg().getvalue())
    post_json(client, f"/api/media/{body['id']}/complete")
    item = MediaItem.get(body["id"])
    services.delete_item(MediaItem.get(body["id"]))
    with pytest.raises(Conflict):
        services.download_link(item)  # the page read the item just before the delete
    assert MediaItem.count(body["id"], consistent_read=True) == 0


def drifted_account(client, alice) -> str:
    client.force_login(alice)
    for _ in range(2):
        body = create_and_upload(client, camera_jpeg().getvalue())
        post_json(client, f"/api/media/{body['id']}/complete")
    owner = str(alice.pk)
    StorageUsage(owner).update(actions=[StorageUsage.bytes.add(12345), StorageUsage.changed_at.set(utcnow() - SETTLE)])
    return owner


def test_reconcile_usage_reports_drift_and_fixes_it_only_when_asked(client, alice):
    owner = drifted_account(client, alice)
    right = sum(item.size for item in MediaItem.by_owner.query(owner))
    out = StringIO()
    call_command("reconcile-usage", stdout=out)
    assert "1 account(s) drifted" in out.getvalue() and "not fixed" in out.getvalue()
    assert quota.bytes_stored(owner) == right + 12345
    call_command("reconcile-usage", "--fix", stdout=out)
    assert quota.bytes_stored(owner) == right
    call_command("reconcile-usage", stdout=(out := StringIO()))
    assert "No drift" in out.getvalue()


def test_reconcile_leaves_a_count_that_just_changed_for_the_next_run(client, alice):
    owner = drifted_account(client, alice)
    StorageUsage(owner).update(actions=[StorageUsage.changed_at.set(utcnow())])
    assert services.reconcile_usage(fix=True) == []
    assert tasks.reconcile_usage() == 0
