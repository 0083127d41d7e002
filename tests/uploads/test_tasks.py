import time

import pytest
from botocore.exceptions import ClientError
from django.conf import settings

from tests.conftest import create_and_upload, post_json
from tests.images import camera_jpeg, scan_bomb
from tests.uploads.test_processing import fresh, uploaded_item
from uploads import storage, tasks
from uploads.models import MediaItem, Status

pytestmark = pytest.mark.django_db(transaction=True)


def processed(client, media_id: str, deadline: float) -> dict:
    """The item once the worker is done with it, or as it is at the deadline."""
    while True:
        item = client.get(f"/api/media/{media_id}").json()
        if item["status"] != "uploaded" or time.monotonic() > deadline:
            return item
        time.sleep(0.2)


def test_complete_then_ready_through_a_real_worker(client, alice, celery_worker):
    client.force_login(alice)
    body = create_and_upload(client, camera_jpeg().getvalue())
    assert post_json(client, f"/api/media/{body['id']}/complete").status_code == 202
    item = processed(client, body["id"], time.monotonic() + 30)
    assert item["status"] == "ready"
    assert set(item["renditions"]) == {"thumb", "medium", "large"}
    assert item["renditions"]["thumb"]["jpg"].startswith(settings.AWS_ENDPOINT_URL)


# Measured (bench/decoding.py, docs/benchmarks.md "## Decoding limits"): behind two bombs a small JPEG is ready
# 3.7 s (median; at most 4.4 s, load average 5) after the first complete, 0.9 s alone; before the scan limit it
# would have waited about 70 s. 15 s leaves room for a busier machine.
RESPONSIVE_SECONDS = 15


def test_worker_stays_responsive_behind_two_scan_bombs(client, alice, celery_worker):
    client.force_login(alice)
    bomb = scan_bomb((7000, 7000), 5000).getvalue()  # 340 kB; 34-42 s of CPU each if decoded
    ids = [create_and_upload(client, data)["id"] for data in (bomb, bomb, camera_jpeg().getvalue())]
    started = time.monotonic()
    for media_id in ids:
        assert post_json(client, f"/api/media/{media_id}/complete").status_code == 202
    *bombs, photo = [processed(client, media_id, started + 2 * RESPONSIVE_SECONDS) for media_id in ids]
    assert photo["status"] == "ready"
    assert time.monotonic() - started < RESPONSIVE_SECONDS
    assert [(item["status"], "more than 100 scans" in item["reason"]) for item in bombs] == [("rejected", True)] * 2


def flaky_downloads(monkeypatch, failures: int) -> None:
    real = storage.download_original
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "try later"}}, "GetObject")
        return real(*args, **kwargs)

    monkeypatch.setattr(storage, "download_original", flaky)


# Task.apply runs the task here, retries included, so storage faults can be injected into it; the path through
# a real worker and broker is the test above.
def test_task_retries_transient_faults_until_ready(monkeypatch):
    flaky_downloads(monkeypatch, failures=2)
    item = uploaded_item(camera_jpeg().getvalue())
    assert tasks.process_media.apply(args=[settings.UPLOADS_BUCKET, item.object_key]).get() == Status.READY
    assert fresh(item).status == Status.READY


def test_task_marks_the_item_failed_when_retries_run_out(monkeypatch):
    flaky_downloads(monkeypatch, failures=100)
    item = uploaded_item(camera_jpeg().getvalue())
    item.update(actions=[MediaItem.status.set(Status.UPLOADED)])
    assert tasks.process_media.apply(args=[settings.UPLOADS_BUCKET, item.object_key]).get() == Status.FAILED
    item = fresh(item)
    assert item.status == Status.FAILED
    assert "ServiceUnavailable" in item.reason


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    for retries in range(10):
        delays = [tasks.backoff(retries) for _ in range(50)]
        assert all(0 <= d <= min(tasks.BACKOFF_CAP_SECONDS, tasks.BACKOFF_BASE_SECONDS * 2**retries) for d in delays)
        assert len(set(delays)) > 1


def test_sweep_requeues_items_stuck_in_uploaded(settings, monkeypatch):
    from datetime import timedelta

    from uploads import services
    from uploads.models import utcnow

    queued = []
    monkeypatch.setattr(services, "enqueue_processing", lambda item, **kw: queued.append(item.id))
    stuck, recent = uploaded_item(b"x"), uploaded_item(b"y")
    long_ago = utcnow() - timedelta(minutes=settings.PROCESSING_STUCK_MINUTES + 1)
    stuck.update(actions=[MediaItem.status.set(Status.UPLOADED), MediaItem.created_at.set(long_ago)])
    stuck.update(actions=[MediaItem.uploaded_at.set(long_ago)])
    recent.update(actions=[MediaItem.status.set(Status.UPLOADED), MediaItem.uploaded_at.set(utcnow())])
    assert tasks.sweep_stuck() == 1
    assert queued == [stuck.id]
