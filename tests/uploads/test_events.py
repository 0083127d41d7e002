import json
import uuid

import pytest
from django.conf import settings

from mediahub.aws import client as aws_client
from tests.images import camera_jpeg
from tests.uploads.test_processing import fresh, uploaded_item
from uploads import events, processing
from uploads.models import Status


@pytest.fixture
def notifications():
    """Let the emulator deliver the uploads bucket's ObjectCreated events to a queue, as S3 does."""
    sqs = aws_client("sqs")
    queue_url = sqs.create_queue(QueueName=f"events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws_client("s3").put_bucket_notification_configuration(
        Bucket=settings.UPLOADS_BUCKET,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )

    def received() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2)["Messages"]
        bodies = [json.loads(m["Body"]) for m in messages]
        return [b for b in bodies if "Records" in b]  # S3 first sends an s3:TestEvent when configured

    yield received
    aws_client("s3").put_bucket_notification_configuration(Bucket=settings.UPLOADS_BUCKET, NotificationConfiguration={})
    sqs.delete_queue(QueueUrl=queue_url)


def test_a_real_s3_event_makes_the_item_ready(notifications):
    item = uploaded_item(camera_jpeg().getvalue())
    [event] = notifications()
    assert events.handle_s3_event(event) == {"outcomes": [[item.object_key, Status.READY]]}
    assert fresh(item).status == Status.READY
    listing = aws_client("s3").list_objects_v2(Bucket=settings.RENDITIONS_BUCKET, Prefix="renditions/")
    assert len(listing["Contents"]) == 6


def test_keys_with_spaces_and_unicode_arrive_encoded_and_are_decoded(notifications):
    key = "uploads/élan vital/photo 1+1 ü.jpg"
    aws_client("s3").put_object(Bucket=settings.UPLOADS_BUCKET, Key=key, Body=b"x")
    [event] = notifications()
    assert event["Records"][0]["s3"]["object"]["key"] != key  # S3 encodes it
    assert events.handle_s3_event(event) == {"outcomes": [[key, "ignored"]]}


def test_each_record_is_processed_and_a_transient_failure_is_re_raised(monkeypatch):
    good = uploaded_item(camera_jpeg().getvalue())
    bad = uploaded_item(camera_jpeg().getvalue())
    real = processing.process_object

    def flaky(bucket, key, **kwargs):
        if key == bad.object_key:
            raise processing.TransientError("S3/DynamoDB answered SlowDown")
        return real(bucket, key, **kwargs)

    monkeypatch.setattr(processing, "process_object", flaky)
    records = [
        {"s3": {"bucket": {"name": settings.UPLOADS_BUCKET}, "object": {"key": k, "eTag": "x"}}}
        for k in (bad.object_key, good.object_key)
    ]
    with pytest.raises(processing.TransientError):
        events.handle_s3_event({"Records": records})
    assert fresh(good).status == Status.READY  # the other record was not held back


def test_an_event_without_records_does_nothing():
    assert events.handle_s3_event({}) == {"outcomes": []}
