"""Arrival under AWS's real semantics: events before complete, retries after a commit, races for the last bytes.

The services run in threads against moto's server, as several Lambda containers or web processes would.
"""

from __future__ import annotations

import base64
import contextlib
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from pynamodb.connection.base import Connection
from pynamodb.exceptions import PynamoDBConnectionError

from mediahub.aws import client as aws_client
from mediahub.errors import NotFound
from tests.conftest import upload_to_s3
from tests.images import camera_jpeg
from tests.uploads.test_processing import fresh, process
from uploads import arrival, quota, services, storage
from uploads.models import MediaItem, Status

OWNER = "51"
KB400 = 400 * 1000


def presigned(data: bytes, *, owner: str = OWNER, content_type: str = "image/jpeg") -> MediaItem:
    """An item presigned and uploaded with its POST, over HTTP, as a browser does; nobody has completed it."""
    ticket = services.media_create(
        owner_id=owner, name="n", caption="", file_name="p.jpg", content_type=content_type, size=len(data)
    )
    response = upload_to_s3({"url": ticket.url, "fields": ticket.fields}, data)
    assert response.status_code in (200, 204), response.text
    return ticket.item


def padded_jpeg(size: int) -> bytes:
    """A real JPEG padded with a comment-free tail to exactly `size` bytes (decoders ignore bytes after EOI)."""
    data = camera_jpeg().getvalue()
    return data + b"\0" * (size - len(data))


def versions(item: MediaItem) -> list[dict]:
    answer = aws_client("s3").list_object_versions(Bucket=settings.UPLOADS_BUCKET, Prefix=item.object_key)
    return answer.get("Versions", [])


def complete(item: MediaItem) -> MediaItem:
    return services.media_complete(owner_id=item.owner_id, media_id=item.id)


def test_the_event_before_complete_counts_once_in_lambda_mode(settings):
    settings.PROCESSING_MODE = "lambda"
    data = camera_jpeg().getvalue()
    item = presigned(data)
    assert process(item) == Status.READY  # the S3 event beat the browser: it arrives and processes
    assert quota.bytes_stored(OWNER) == len(data)
    assert complete(item).status == Status.READY  # the browser's complete then sees it done
    assert quota.bytes_stored(OWNER) == len(data)


def test_an_upload_whose_client_never_completes_is_still_counted_by_its_event(settings):
    settings.PROCESSING_MODE = "lambda"
    settings.USER_STORAGE_QUOTA = 5 * 1000 * 1000
    items = [presigned(padded_jpeg(KB400)) for _ in range(20)]
    outcomes = [process(item) for item in items]
    ready = [i for i, outcome in zip(items, outcomes, strict=True) if outcome == Status.READY]
    assert len(ready) == 12  # 12 x 400 kB fit in 5 MB, the 13th would not
    assert quota.bytes_stored(OWNER) == 12 * KB400
    refused = [fresh(i) for i, outcome in zip(items, outcomes, strict=True) if outcome == Status.REJECTED]
    assert len(refused) == 8
    assert all("storage quota" in i.reason and not versions(i) for i in refused)


@pytest.mark.parametrize("mode", ["celery", "lambda"])
def test_twenty_parallel_arrivals_against_a_small_quota_never_pass_it(settings, mode, monkeypatch):
    settings.PROCESSING_MODE = mode
    settings.USER_STORAGE_QUOTA = 5 * 1000 * 1000
    monkeypatch.setattr("uploads.dispatch.enqueue", lambda key, **kw: None)  # no worker in this test
    items = [presigned(padded_jpeg(KB400)) for _ in range(20)]
    # Celery mode: 20 browsers complete at once. Lambda mode: 20 events and 20 completes race each other.
    calls = [lambda i=i: complete(i) for i in items]
    if mode == "lambda":
        calls += [lambda i=i: arrival.arrive(MediaItem.get(i.id, consistent_read=True)) for i in items]
    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(lambda call: call(), calls))
    final = [fresh(i) for i in items]
    counted = [i for i in final if i.counted]
    assert len(counted) == 12
    assert quota.bytes_stored(OWNER) == 12 * KB400 <= settings.USER_STORAGE_QUOTA
    assert {i.status for i in final} == {Status.UPLOADED, Status.REJECTED}
    assert all(versions(i) for i in counted) and not any(versions(i) for i in final if not i.counted)


def test_parallel_completes_of_one_item_near_the_quota_count_it_once_and_keep_its_original(settings, monkeypatch):
    data = padded_jpeg(KB400)
    settings.USER_STORAGE_QUOTA = len(data)  # exactly room for it once
    monkeypatch.setattr("uploads.dispatch.enqueue", lambda key, **kw: None)
    item = presigned(data)
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: complete(item).status, range(10)))
    assert set(answers) == {Status.UPLOADED}  # nobody saw a refusal: the losers saw the winner's arrival
    assert quota.bytes_stored(OWNER) == len(data)
    assert len(versions(item)) == 1  # the losers did not delete the winner's original


def test_two_uploads_racing_for_the_last_bytes_let_exactly_one_in(settings, monkeypatch):
    settings.USER_STORAGE_QUOTA = KB400 + KB400 // 2
    monkeypatch.setattr("uploads.dispatch.enqueue", lambda key, **kw: None)
    first, second = presigned(padded_jpeg(KB400)), presigned(padded_jpeg(KB400))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = {i.id: i.status for i in pool.map(complete, [first, second])}
    assert sorted(results.values()) == [Status.REJECTED, Status.UPLOADED]
    winner = first if results[first.id] == Status.UPLOADED else second
    loser = second if winner is first else first
    assert versions(winner) and not versions(loser)
    assert quota.bytes_stored(OWNER) == KB400


def test_a_complete_whose_answer_is_lost_after_commit_counts_once_when_retried(monkeypatch):
    """The transaction commits, then the connection drops (a timeout): the retry finds the item arrived."""
    data = camera_jpeg().getvalue()
    item = presigned(data)
    monkeypatch.setattr("uploads.dispatch.enqueue", lambda key, **kw: None)
    real = Connection.transact_write_items

    def commit_then_drop(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise PynamoDBConnectionError("Connection was closed before we received a valid response")

    monkeypatch.setattr(Connection, "transact_write_items", commit_then_drop)
    with pytest.raises(PynamoDBConnectionError):
        complete(item)
    monkeypatch.setattr(Connection, "transact_write_items", real)
    assert complete(item).status == Status.UPLOADED
    assert quota.bytes_stored(OWNER) == len(data)


def test_deleting_while_completing_ends_with_nothing_left_and_nothing_counted(monkeypatch):
    monkeypatch.setattr("uploads.dispatch.enqueue", lambda key, **kw: None)
    for _ in range(5):
        item = presigned(camera_jpeg().getvalue())

        def complete_quietly(item=item):
            with contextlib.suppress(NotFound):  # deleted first: a defined answer
                complete(item)

        with ThreadPoolExecutor(max_workers=2) as pool:
            done = [pool.submit(complete_quietly), pool.submit(services.delete_item, item)]
            [f.result() for f in done]
        assert MediaItem.count(item.id, consistent_read=True) == 0
        assert not versions(item)
    assert quota.bytes_stored(OWNER) == 0


def test_an_abandoned_upload_is_swept_objects_first_and_a_late_complete_is_refused():
    item = presigned(camera_jpeg().getvalue())
    assert services.sweep_abandoned() == 0  # too young
    item.update(actions=[MediaItem.created_at.set(item.created_at - services.ABANDON_AFTER)])
    assert services.sweep_abandoned() == 1
    assert not aws_client("s3").list_object_versions(Bucket=settings.UPLOADS_BUCKET, Prefix="uploads/").get("Versions")
    assert MediaItem.count(item.id) == 0
    with pytest.raises(NotFound):
        complete(item)
    assert quota.bytes_stored(OWNER) == 0


def test_uploads_are_presigned_tagged_pending_and_tagged_arrived_at_arrival(monkeypatch):
    """Real S3 applies a POST's `tagging` field; moto ignores it, so the policy is checked as written, and the
    arrival's re-tagging (which moto does apply) is read back."""
    monkeypatch.setattr("uploads.dispatch.enqueue", lambda key, **kw: None)
    data = camera_jpeg().getvalue()
    ticket = services.media_create(
        owner_id=OWNER, name="n", caption="", file_name="p.jpg", content_type="image/jpeg", size=len(data)
    )
    policy = json.loads(base64.b64decode(ticket.fields["policy"]))
    assert ticket.fields["tagging"] == storage.PENDING_TAGGING
    assert {"tagging": storage.PENDING_TAGGING} in policy["conditions"]
    assert upload_to_s3({"url": ticket.url, "fields": ticket.fields}, data).status_code in (200, 204)
    complete(ticket.item)
    answer = aws_client("s3").get_object_tagging(Bucket=settings.UPLOADS_BUCKET, Key=ticket.item.object_key)
    assert answer["TagSet"] == [{"Key": storage.UPLOAD_STATE_TAG, "Value": "arrived"}]
