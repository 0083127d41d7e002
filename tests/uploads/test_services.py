from datetime import timedelta

import pytest
from django.conf import settings

from mediahub.aws import client as aws_client
from tests.conftest import create_and_upload, post_json
from tests.images import camera_jpeg
from tests.uploads.test_processing import process
from uploads import services, tasks
from uploads.models import MediaItem, Status, utcnow

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
