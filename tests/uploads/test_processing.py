import hashlib
import io
import struct

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from PIL import Image

from mediahub.aws import client as aws_client
from tests import media
from tests.images import animated_gif, camera_exif, camera_jpeg, encoded, heic, photo, png_header, truncated_jpeg
from uploads import arrival, dispatch, lifecycle, processing, ranged, services, storage
from uploads.models import MediaItem, Status

OWNER = "7"


def uploaded_item(data: bytes, content_type: str = "image/jpeg") -> MediaItem:
    """An item whose original is in the bucket, as after the browser's upload."""
    ticket = services.media_create(
        owner_id=OWNER, name="n", caption="", file_name="f", content_type=content_type, size=len(data)
    )
    aws_client("s3").put_object(
        Bucket=settings.UPLOADS_BUCKET, Key=ticket.item.object_key, Body=data, ContentType=content_type
    )
    return ticket.item


def process(item: MediaItem, **kwargs) -> str:
    return processing.process_object(settings.UPLOADS_BUCKET, item.object_key, **kwargs)


def fresh(item: MediaItem) -> MediaItem:
    return MediaItem.get(item.id, consistent_read=True)


def rendition_keys(item: MediaItem) -> list[str]:
    prefix = f"renditions/{item.owner_id}/{item.id}/"
    listing = aws_client("s3").list_objects_v2(Bucket=settings.RENDITIONS_BUCKET, Prefix=prefix)
    return sorted(obj["Key"].removeprefix(prefix) for obj in listing.get("Contents", []))


def original_exists(item: MediaItem) -> bool:
    return storage.head_original(item.object_key) is not None


ALL_RENDITIONS = sorted(f"{name}.{ext}" for name in ("thumb", "medium", "large") for ext in ("jpg", "webp"))


def test_photo_becomes_ready_with_renditions_and_metadata():
    data = camera_jpeg().getvalue()
    item = uploaded_item(data)
    assert process(item) == Status.READY

    item = fresh(item)
    assert (item.status, item.detected_type, item.width, item.height) == (Status.READY, "image/jpeg", 600, 400)
    assert item.size == len(data)
    assert item.sha256 == __import__("hashlib").sha256(data).hexdigest()
    assert item.exif["make"] == "Canon"
    assert not any("gps" in key.lower() for key in item.exif)
    assert item.processed_at is not None
    assert item.animated is False
    assert sorted(item.renditions) == ["large", "medium", "thumb"]
    assert (item.renditions["thumb"]["width"], item.renditions["thumb"]["height"]) == (320, 320)
    assert rendition_keys(item) == ALL_RENDITIONS


def test_renditions_are_stored_with_type_and_long_cache_and_no_exif():
    item = uploaded_item(camera_jpeg().getvalue())
    process(item)
    key = fresh(item).renditions["medium"]["files"]["jpg"]["key"]
    obj = aws_client("s3").get_object(Bucket=settings.RENDITIONS_BUCKET, Key=key)
    assert obj["ContentType"] == "image/jpeg"
    assert "max-age=31536000" in obj["CacheControl"]
    stored = Image.open(io.BytesIO(obj["Body"].read()))
    assert not stored.getexif()
    assert "exif" not in stored.info


@pytest.mark.parametrize(
    "key",
    [
        "renditions/7/0123456789abcdef0123456789abcdef/thumb.jpg",
        "avatars/7/abc.jpg",
        "quarantine/uploads/7/0123456789abcdef0123456789abcdef/original.jpg",
        "uploads/7/not-an-id/original.jpg",
        "élan vital/a b.jpg",
    ],
)
def test_keys_that_are_not_originals_are_ignored(key):
    assert processing.process_object(settings.UPLOADS_BUCKET, key) == "ignored"


def test_objects_in_another_bucket_are_ignored():
    item = uploaded_item(camera_jpeg().getvalue())
    assert processing.process_object(settings.RENDITIONS_BUCKET, item.object_key) == "ignored"
    assert fresh(item).status == Status.PENDING


def test_an_original_without_an_item_is_ignored():
    assert processing.process_object(settings.UPLOADS_BUCKET, f"uploads/7/{'a' * 32}/original.jpg") == "unknown"


def test_repeated_and_interleaved_events_make_one_set_of_renditions():
    first, second = (
        uploaded_item(camera_jpeg().getvalue()),
        uploaded_item(encoded(Image.new("RGB", (50, 40)), "PNG").getvalue(), "image/png"),
    )
    outcomes = [process(first), process(second), process(first), process(second), process(first)]
    assert outcomes == [Status.READY, Status.READY, "duplicate", "duplicate", "duplicate"]
    assert rendition_keys(first) == ALL_RENDITIONS
    assert (fresh(second).width, fresh(second).height) == (50, 40)


def test_an_event_for_the_pinned_version_is_a_duplicate():
    item = uploaded_item(camera_jpeg().getvalue())
    process(item)
    assert process(item, version_id=fresh(item).version_id) == "duplicate"


def test_force_reprocesses_a_ready_item():
    item = uploaded_item(camera_jpeg().getvalue())
    process(item)
    assert process(item, force=True) == Status.READY


@pytest.mark.parametrize(
    ("data", "declared", "reason"),
    [
        (png_header(30000, 30000).getvalue(), "image/png", "50 megapixels"),
        (truncated_jpeg().getvalue(), "image/jpeg", "truncated"),
        (b"", "image/jpeg", "not a type mediahub accepts"),
        (b"<!doctype html><html><body>hi</body></html>", "image/jpeg", "not a type mediahub accepts"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/png", "not a type"),
        (b"PK\x03\x04" + b"\0" * 60, "image/png", "not a type mediahub accepts"),
        (b"%PDF-1.7\n" + b"\0" * 60, "image/jpeg", "its content is application/pdf"),
    ],
    ids=["bomb", "truncated-jpeg", "empty", "html-as-jpg", "svg-with-script", "zip-as-png", "pdf-as-jpg"],
)
def test_hostile_files_are_rejected_with_a_reason_and_the_original_deleted(data, declared, reason):
    item = uploaded_item(data, declared)
    assert process(item) == Status.REJECTED
    item = fresh(item)
    assert item.status == Status.REJECTED
    assert reason in item.reason
    assert not original_exists(item)
    assert rendition_keys(item) == []
    assert process(item) == "duplicate"  # a redelivered event changes nothing


def test_rejected_originals_can_be_quarantined_instead(settings):
    settings.REJECTED_ORIGINALS = "quarantine"
    item = uploaded_item(b"<html></html>", "image/jpeg")
    process(item)
    assert not original_exists(item)
    kept = aws_client("s3").head_object(Bucket=settings.UPLOADS_BUCKET, Key=f"quarantine/{item.object_key}")
    assert kept["ContentLength"] == len(b"<html></html>")


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (encoded(Image.new("CMYK", (80, 60), (0, 255, 255, 0)), "JPEG").getvalue(), "image/jpeg"),
        (encoded(Image.new("I;16", (80, 60), 30000), "PNG").getvalue(), "image/png"),
        (encoded(Image.new("P", (80, 60)), "PNG", transparency=0).getvalue(), "image/png"),
        (animated_gif().getvalue(), "image/gif"),
    ],
    ids=["cmyk-jpeg", "16-bit-png", "palette-png-transparent", "animated-gif"],
)
def test_odd_but_valid_images_become_ready(data, declared):
    item = uploaded_item(data, declared)
    assert process(item) == Status.READY
    item = fresh(item)
    assert rendition_keys(item) == ALL_RENDITIONS
    assert item.animated is (declared == "image/gif")


def processed_line(caplog, item: MediaItem) -> dict:
    """Process `item` and return the run's log line."""
    import json

    with caplog.at_level("INFO", logger="uploads.processing"):
        process(item)
    return next(json.loads(r.getMessage()) for r in caplog.records if r.name == "uploads.processing")


def padded_mp4(data: bytes, padding: int) -> bytes:
    """An MP4 with a `free` box of `padding` bytes after its media: a large file whose decoders skip the tail."""
    return data + struct.pack(">I", padding + 8) + b"free" + bytes(padding)


def test_a_video_becomes_ready_with_a_poster_and_its_facts_read_in_ranges(caplog):
    data = padded_mp4(media.video(audio=True), 2_000_000)
    item = uploaded_item(data, "video/mp4")
    line = processed_line(caplog, item)
    item = fresh(item)
    assert (item.status, item.detected_type, item.width, item.height) == (Status.READY, "video/mp4", 320, 240)
    assert (item.video_codec, item.audio_codec, item.frame_rate, item.rotation) == ("h264", "aac", 25, 0)
    assert item.duration == pytest.approx(2, abs=0.05)
    assert rendition_keys(item) == ALL_RENDITIONS
    assert item.sha256 == hashlib.sha256(data).hexdigest()  # a small file is still hashed whole, streamed
    assert line["bytes_read"] < len(data) / 4
    assert {"preview", "hash", "open", "poster", "encode", "store"} <= set(line["ms"])


def test_a_video_over_the_hashing_limit_is_never_read_whole_and_has_no_checksum(settings, caplog):
    settings.FULL_HASH_MAX_BYTES = 1_000_000
    item = uploaded_item(padded_mp4(media.video(), 2_000_000), "video/mp4")
    line = processed_line(caplog, item)
    assert (fresh(item).status, fresh(item).sha256) == (Status.READY, None)
    assert "hash" not in line["ms"]


def test_a_rotated_video_is_stored_as_shown():
    item = uploaded_item(media.video("libvpx", "webm", rotation=-90), "video/webm")
    assert process(item) == Status.READY
    item = fresh(item)
    assert (item.width, item.height, item.rotation, item.video_codec) == (240, 320, -90, "vp8")
    assert (item.renditions["medium"]["width"], item.renditions["medium"]["height"]) == (240, 320)


def test_a_pdf_becomes_ready_with_its_first_page_as_the_preview_and_its_page_count():
    data = media.pdf(pages=4)
    item = uploaded_item(data, "application/pdf")
    assert process(item) == Status.READY
    item = fresh(item)
    assert (item.detected_type, item.pages, item.sha256) == ("application/pdf", 4, hashlib.sha256(data).hexdigest())
    assert rendition_keys(item) == ALL_RENDITIONS
    assert (item.renditions["medium"]["width"], item.renditions["medium"]["height"]) == (724, 1024)


@pytest.mark.parametrize(
    ("data", "declared"),
    [(media.audio_only(), "video/mp4"), (media.empty_video_track(), "video/mp4")],
    ids=["audio-only", "video-track-without-frames"],
)
def test_videos_without_a_picture_are_ready_without_a_poster(data, declared):
    item = uploaded_item(data, declared)
    assert process(item) == Status.READY
    item = fresh(item)
    assert (item.renditions, item.width, item.audio_codec) == (None, None, "aac")
    assert item.duration == pytest.approx(1, abs=0.05)


@pytest.mark.parametrize(
    ("data", "declared", "reason"),
    [
        (media.video()[:2000], "video/mp4", "not a valid MP4 video (it is damaged or truncated)"),
        (b"\x1a\x45\xdf\xa3" + b"\0" * 60, "video/webm", "not a valid WebM video"),
        (media.encrypted_pdf(), "application/pdf", "protected by a password"),
        (media.pdf(), "video/mp4", "says it is video/mp4, but its content is application/pdf"),
    ],
    ids=["truncated-mp4", "header-only-webm", "encrypted-pdf", "pdf-as-video"],
)
def test_hostile_videos_and_pdfs_are_rejected_with_a_reason(data, declared, reason):
    item = uploaded_item(data, declared)
    assert process(item) == Status.REJECTED
    item = fresh(item)
    assert reason in item.reason
    assert not original_exists(item)
    assert rendition_keys(item) == []


def test_a_video_too_large_a_picture_is_rejected_before_decoding(settings):
    settings.MAX_IMAGE_PIXELS = 50_000
    item = uploaded_item(media.video(), "video/mp4")
    assert process(item) == Status.REJECTED
    assert "320×240 pixels; the limit is 0.05 megapixels" in fresh(item).reason


def test_a_video_that_cannot_be_read_in_time_is_rejected(settings):
    settings.MEDIA_PREVIEW_SECONDS = 0
    item = uploaded_item(media.video(), "video/mp4")
    assert process(item) == Status.REJECTED
    assert "took too long to read" in fresh(item).reason


@pytest.mark.parametrize(
    ("data", "declared"), [(media.video(), "video/mp4"), (media.pdf(), "application/pdf")], ids=["video", "pdf"]
)
def test_a_throttled_ranged_read_raises_transient_and_a_retry_reaches_ready(monkeypatch, data, declared):
    item = uploaded_item(data, declared)
    real, calls = storage.read_original_range, []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:  # past the sniffing read: inside FFmpeg's or PDFium's reading
            raise slow_down("GetObject")
        return real(*args, **kwargs)

    monkeypatch.setattr(storage, "read_original_range", flaky)
    monkeypatch.setattr(ranged, "READAHEAD", 1024)
    with pytest.raises(processing.TransientError, match="SlowDown"):
        process(item)
    assert process(item) == Status.READY


def test_video_posing_as_an_image_is_rejected():
    item = uploaded_item(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + b"\0" * 40, "image/jpeg")
    assert process(item) == Status.REJECTED
    assert "its content is video/mp4" in fresh(item).reason


def test_an_object_larger_than_declared_is_rejected():
    item = uploaded_item(camera_jpeg().getvalue())
    aws_client("s3").put_object(Bucket=settings.UPLOADS_BUCKET, Key=item.object_key, Body=b"x" * (item.size + 1))
    assert process(item) == Status.REJECTED
    assert "were declared" in fresh(item).reason


def test_a_deleted_item_is_not_resurrected_by_a_late_event(monkeypatch):
    item = uploaded_item(camera_jpeg().getvalue())
    real_put = storage.put_rendition

    def delete_meanwhile(*args, **kwargs):
        MediaItem(item.id).delete()
        real_put(*args, **kwargs)

    monkeypatch.setattr(storage, "put_rendition", delete_meanwhile)
    process(item)
    with pytest.raises(MediaItem.DoesNotExist):
        fresh(item)


def slow_down(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}, operation)


def test_a_throttled_download_raises_transient_and_a_retry_reaches_ready(monkeypatch):
    item = uploaded_item(camera_jpeg().getvalue())
    real = storage.download_original
    failures = iter([slow_down("GetObject")])

    def flaky(*args, **kwargs):
        error = next(failures, None)
        if error:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(storage, "download_original", flaky)
    with pytest.raises(processing.TransientError, match="SlowDown"):
        process(item)
    assert fresh(item).attempts == 1
    assert process(item) == Status.READY
    assert fresh(item).attempts == 0


def test_permanent_storage_errors_are_not_retried(monkeypatch):
    item = uploaded_item(camera_jpeg().getvalue())
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")
    monkeypatch.setattr(storage, "download_original", lambda *a, **k: (_ for _ in ()).throw(denied))
    with pytest.raises(ClientError):
        process(item)


def test_an_item_that_keeps_killing_the_worker_ends_failed_after_n_attempts(settings):
    item = arrival.arrive(uploaded_item(camera_jpeg().getvalue()))
    item.update(actions=[MediaItem.attempts.set(settings.PROCESSING_MAX_ATTEMPTS)])
    assert process(item) == Status.FAILED
    item = fresh(item)
    assert item.status == Status.FAILED
    assert f"gave up after {settings.PROCESSING_MAX_ATTEMPTS} attempts" in item.reason


def test_each_run_logs_one_structured_line_with_stage_timings(caplog):
    import json

    item = uploaded_item(camera_jpeg().getvalue())
    with caplog.at_level("INFO", logger="uploads.processing"):
        process(item)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "uploads.processing"]
    assert len(lines) == 1
    line = lines[0]
    assert (line["item"], line["outcome"]) == (item.id, Status.READY)
    assert {"fetch", "decode", "resize", "encode", "store"} <= set(line["ms"])


# --- Races with a processing run (issue: integrity) ---------------------------------------------------------------


def during_store(monkeypatch, action) -> None:
    """Run `action` once, right after this run stored its first rendition and before its final write."""
    real_put, done = storage.put_rendition, []

    def put_then_act(*args, **kwargs):
        real_put(*args, **kwargs)
        if not done:
            done.append(True)
            action()

    monkeypatch.setattr(storage, "put_rendition", put_then_act)


def test_deleting_during_processing_leaves_no_rendition_behind(monkeypatch):
    item = arrival.arrive(uploaded_item(camera_jpeg().getvalue()))
    during_store(monkeypatch, lambda: services.delete_item(fresh(item)))
    assert process(item) == "superseded"
    assert MediaItem.count(item.id, consistent_read=True) == 0
    assert rendition_keys(item) == []  # the run removed the five renditions it wrote after the delete's sweep


def test_a_processing_run_never_overwrites_a_rejection(monkeypatch):
    item = arrival.arrive(uploaded_item(camera_jpeg().getvalue()))
    refused = "Refused by another run meanwhile."
    during_store(monkeypatch, lambda: lifecycle.reject(fresh(item), Status.UPLOADED, refused))
    assert process(item) == "superseded"
    item = fresh(item)
    assert (item.status, item.reason, item.renditions) == (Status.REJECTED, refused, None)
    assert rendition_keys(item) == []


def test_a_twin_run_that_loses_keeps_the_winners_renditions(monkeypatch):
    item = arrival.arrive(uploaded_item(camera_jpeg().getvalue()))
    monkeypatch.setattr(storage, "put_rendition", storage.put_rendition)
    twin = []
    during_store(monkeypatch, lambda: twin.append(processing.process_object(settings.UPLOADS_BUCKET, item.object_key)))
    assert process(item) == "superseded"
    assert twin == [Status.READY]
    assert fresh(item).status == Status.READY
    assert rendition_keys(item) == ALL_RENDITIONS


def test_a_failed_item_is_processed_again_after_an_operators_requeue(settings, monkeypatch):
    item = arrival.arrive(uploaded_item(camera_jpeg().getvalue()))
    item.update(actions=[MediaItem.attempts.set(settings.PROCESSING_MAX_ATTEMPTS)])
    assert process(item) == Status.FAILED
    assert fresh(item).expires_at is None  # a failed item stays (and stays counted) until someone deletes it
    queued = []
    monkeypatch.setattr(dispatch, "enqueue", lambda key, **kw: queued.append((key, kw)))
    services.reprocess(fresh(item))
    assert queued == [(item.object_key, {"force": False})]
    assert (fresh(item).status, fresh(item).attempts) == (Status.UPLOADED, 0)
    assert process(item) == Status.READY


def test_an_event_for_a_superseded_version_pins_the_current_one_and_the_current_event_processes_it():
    """The browser retried its POST: two versions; the first one's event arrives first."""
    data = camera_jpeg().getvalue()
    item = uploaded_item(data)
    older = storage.head_original(item.object_key)["VersionId"]
    aws_client("s3").put_object(Bucket=settings.UPLOADS_BUCKET, Key=item.object_key, Body=data)
    current = storage.head_original(item.object_key)["VersionId"]
    assert process(item, version_id=older) == "stray-version"
    assert fresh(item).version_id == current
    assert process(item, version_id=current) == Status.READY
    listed = aws_client("s3").list_object_versions(Bucket=settings.UPLOADS_BUCKET, Prefix=item.object_key)
    assert [v["VersionId"] for v in listed["Versions"]] == [current]


def test_a_transaction_cancelled_by_a_conflicting_one_is_retried_not_dropped(monkeypatch):
    """DynamoDB cancels a transaction that meets another on the same item (TransactionConflict): try later."""
    from pynamodb.connection.base import Connection
    from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

    item = uploaded_item(camera_jpeg().getvalue())
    error = {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}}
    reasons = [CancellationReason(code="TransactionConflict"), None]
    cause = VerboseClientError(error, "TransactWriteItems", cancellation_reasons=reasons)

    def conflicting(self, *args, **kwargs):
        raise TransactWriteError("Failed to write transaction items", cause=cause)

    monkeypatch.setattr(Connection, "transact_write_items", conflicting)
    with pytest.raises(processing.TransientError, match="TransactionCanceledException"):
        process(item)
    assert fresh(item).status == Status.PENDING


def test_heic_declared_by_its_other_name_becomes_ready_with_renditions():
    item = uploaded_item(
        heic(photo((800, 600)), camera_exif(make="Apple", model="iPhone 15 Pro")).getvalue(), "image/heif"
    )
    assert process(item) == Status.READY
    item = fresh(item)
    assert (item.declared_type, item.detected_type, item.width, item.height) == ("image/heif", "image/heic", 800, 600)
    assert item.exif["model"] == "iPhone 15 Pro"
    assert rendition_keys(item) == ALL_RENDITIONS


def test_a_ready_photo_has_a_thumbhash_and_its_average_colour_for_the_pages():
    import base64

    item = uploaded_item(encoded(Image.new("RGB", (1600, 1200), (0, 128, 128)), "JPEG").getvalue())
    assert process(item) == Status.READY
    item = fresh(item)
    assert len(base64.b64decode(item.thumbhash)) in range(20, 30)
    red, green, blue = (int(item.color[i : i + 2], 16) for i in (1, 3, 5))
    assert red < 8 and abs(green - 128) < 8 and abs(blue - 128) < 8
