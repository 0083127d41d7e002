"""The build against moto's S3 over HTTP: a real ZIP, its names safe and unique, its bytes the pinned originals,
items gone meanwhile left out and said so, and a task delivered twice building once."""

from __future__ import annotations

import io
import threading
import zipfile

import pytest
from django.conf import settings

from exports import building, lifecycle, services
from exports.models import State, ZipJob
from mediahub.aws import client
from tests.exports.conftest import put_original
from uploads.models import MediaItem, Status

pytestmark = pytest.mark.django_db


def start(user, items) -> ZipJob:
    return services.start_export(owner_id=str(user.pk), ids=[item.id for item in items]).job


def zip_of(job: ZipJob) -> zipfile.ZipFile:
    job = ZipJob.get(job.id)
    body = client("s3").get_object(Bucket=settings.RENDITIONS_BUCKET, Key=job.object_key)["Body"].read()
    assert len(body) == job.zip_size
    return zipfile.ZipFile(io.BytesIO(body))


def test_a_zip_of_several_items_holds_each_original_byte_for_byte(alice, ready_item, queued):
    originals = {"beach.jpg": b"\xff\xd8" + b"a" * 70_000, "notes.pdf": b"%PDF-" + b"b" * 1000, "clip.mp4": b"c" * 5}
    items = [ready_item(alice, data, name) for name, data in originals.items()]
    job = start(alice, items)
    assert queued == [(services.BUILD_TASK, services.BUILD_LAMBDA_TASK, job.id)]

    assert building.build(job.id) == "ready"

    archive = zip_of(job)
    assert archive.testzip() is None
    assert archive.namelist() == list(originals)  # in the order chosen
    for name, data in originals.items():
        assert archive.read(name) == data
        assert archive.getinfo(name).compress_type == zipfile.ZIP_STORED
    job = ZipJob.get(job.id)
    assert (job.state, job.items_done, job.bytes_done, job.skipped) == (
        State.READY,
        3,
        sum(map(len, originals.values())),
        [],
    )


def test_names_are_made_safe_and_unique(alice, ready_item, queued):
    names = [
        "../../etc/passwd",
        "/abs/path.jpg",
        "a\x00b\x1f\u202e.jpg",
        "photo.jpg",
        "PHOTO.jpg",
        "photo.jpg",
        "C:\\Windows\\x.jpg",
        "CON.txt",
        " .. ",
        "trailing. ",
        "x" * 300 + ".jpeg",
        ".hidden",
        "photo (2).jpg",
    ]
    items = [ready_item(alice, f"{n}".encode(), name) for n, name in enumerate(names)]
    job = start(alice, items)
    building.build(job.id)

    entries = zip_of(job).namelist()
    assert entries == [
        "_.._etc_passwd",
        "_abs_path.jpg",
        "a_b__.jpg",
        "photo.jpg",
        "PHOTO (2).jpg",
        "photo (3).jpg",
        "C__Windows_x.jpg",
        "_CON.txt",
        f"item-{items[8].id[:8]}",
        "trailing",
        "x" * 145 + ".jpeg",
        "hidden",
        "photo (2) (2).jpg",  # a file of that very name, after "photo (2).jpg" was taken
    ]
    assert len({e.casefold() for e in entries}) == len(entries)
    for entry in entries:
        assert "/" not in entry and "\\" not in entry and not entry.startswith(".")
        assert all(ord(c) >= 0x20 and c != "\u202e" for c in entry)


def test_a_version_swapped_in_after_arrival_is_not_the_one_zipped(alice, ready_item, queued):
    item = ready_item(alice, b"the checked original")
    put_original(item, b"bytes swapped in later")  # a re-POST of the presigned fields: now the current version
    job = start(alice, [item])
    building.build(job.id)
    assert zip_of(job).read("photo.jpg") == b"the checked original"


def test_items_deleted_before_or_during_the_build_are_left_out_and_listed(alice, ready_item, queued):
    kept, record_gone, file_gone, busy = (ready_item(alice, bytes([n]) * 10, f"{n}.jpg") for n in range(4))
    job = start(alice, [kept, record_gone, file_gone, busy])
    MediaItem.get(record_gone.id).delete()
    client("s3").delete_object(Bucket=settings.UPLOADS_BUCKET, Key=file_gone.object_key, VersionId=file_gone.version_id)
    MediaItem.get(busy.id).update(actions=[MediaItem.status.set(Status.DELETING)])

    assert building.build(job.id) == "ready"

    assert zip_of(job).namelist() == ["0.jpg"]
    job = ZipJob.get(job.id)
    assert job.items_done == 1
    assert {s["id"]: s["reason"] for s in job.skipped} == {
        record_gone.id: "It was deleted.",
        busy.id: "It is deleting now, not ready.",
        file_gone.id: "Its file was deleted.",
    }


def test_a_build_with_nothing_left_fails_with_a_reason_and_keeps_no_zip(alice, ready_item, queued):
    item = ready_item(alice, b"x")
    job = start(alice, [item])
    MediaItem.get(item.id).delete()
    assert building.build(job.id) == "failed"
    job = ZipJob.get(job.id)
    assert job.state == State.FAILED and "could be read" in job.reason
    assert not list(
        client("s3").list_objects_v2(Bucket=settings.RENDITIONS_BUCKET, Prefix="exports/").get("Contents", [])
    )


def test_a_task_delivered_twice_builds_once(alice, ready_item, queued):
    job = start(alice, [ready_item(alice, b"y" * 1000)])
    assert building.build(job.id) == "ready"
    assert building.build(job.id) == "duplicate"  # the redelivery finds it ready: nothing written
    listed = client("s3").list_objects_v2(Bucket=settings.RENDITIONS_BUCKET, Prefix="exports/")["Contents"]
    assert [o["Key"] for o in listed] == [ZipJob.get(job.id).object_key]


def test_two_deliveries_at_once_have_one_winner(alice, ready_item, queued):
    job = start(alice, [ready_item(alice, b"z" * 200_000)])
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(building.build(job.id))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["duplicate", "ready"]
    assert zip_of(job).read("photo.jpg") == b"z" * 200_000


def test_a_run_that_lost_its_job_to_a_takeover_stops_and_leaves_nothing(alice, ready_item, queued, settings):
    settings.ZIP_LEASE_SECONDS = 0  # every run's lease is over at once: the second delivery takes over
    job = start(alice, [ready_item(alice, b"w" * 100)])
    first = ZipJob.get(job.id)
    lifecycle.start(first, "dead-runner")  # a run that died holding the job
    assert building.build(job.id) == "ready"  # the redelivery takes it over
    with pytest.raises(lifecycle.Lost):
        lifecycle.progress(first, bytes_done=1, items_done=0)  # the dead run, had it woken, would stop here
    uploads = client("s3").list_multipart_uploads(Bucket=settings.RENDITIONS_BUCKET).get("Uploads", [])
    assert uploads == []


def test_a_build_over_its_time_limit_fails_saying_so_and_keeps_no_parts(alice, ready_item, queued, settings):
    settings.ZIP_BUILD_SECONDS = -1
    job = start(alice, [ready_item(alice, b"v" * 100)])
    assert building.build(job.id) == "failed"
    assert "longer than -1 seconds" in ZipJob.get(job.id).reason
    assert client("s3").list_multipart_uploads(Bucket=settings.RENDITIONS_BUCKET).get("Uploads", []) == []


def test_progress_is_written_while_building(alice, ready_item, queued, monkeypatch):
    monkeypatch.setattr(building, "PROGRESS_SECONDS", 0)
    monkeypatch.setattr(building, "CHUNK", 1000)
    seen = []
    real = lifecycle.progress
    monkeypatch.setattr(lifecycle, "progress", lambda job, **kw: (seen.append(kw["bytes_done"]), real(job, **kw)))
    job = start(alice, [ready_item(alice, b"u" * 5000)])
    building.build(job.id)
    assert seen == [1000, 2000, 3000, 4000, 5000]


def test_entries_and_archives_past_the_zip64_limit_get_zip64_records(alice, ready_item, queued, monkeypatch):
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 10_000)  # 4 GiB, scaled down: the same code paths, in kilobytes
    small, big = ready_item(alice, b"s" * 100, "small.jpg"), ready_item(alice, b"B" * 30_000, "big.mp4")
    job = start(alice, [small, big, ready_item(alice, b"t" * 100, "after.jpg")])
    building.build(job.id)
    monkeypatch.undo()
    archive = zip_of(job)
    assert archive.read("big.mp4") == b"B" * 30_000 and archive.testzip() is None
    raw = client("s3").get_object(Bucket=settings.RENDITIONS_BUCKET, Key=ZipJob.get(job.id).object_key)["Body"].read()
    local = raw[archive.getinfo("big.mp4").header_offset :]
    name_length, extra_length = int.from_bytes(local[26:28], "little"), int.from_bytes(local[28:30], "little")
    extra = local[30 + name_length : 30 + name_length + extra_length]
    assert extra[:2] == b"\x01\x00"  # the ZIP64 extended information field
    assert b"PK\x06\x06" in raw[-200:]  # the ZIP64 end of central directory record (the archive passed the limit)


def test_a_fault_in_the_build_still_ends_the_job_with_a_reason(alice, ready_item, queued, monkeypatch):
    job = start(alice, [ready_item(alice, b"k" * 10)])
    monkeypatch.setattr(building, "unique_names", lambda names: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        building.build(job.id)
    assert ZipJob.get(job.id).state == State.FAILED
    assert ZipJob.get(job.id).reason.startswith("The ZIP could not be built.")
    assert client("s3").list_multipart_uploads(Bucket=settings.RENDITIONS_BUCKET).get("Uploads", []) == []
