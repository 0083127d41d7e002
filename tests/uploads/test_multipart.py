"""Files in parts (uploads/multipart.py) through the JSON API, against moto's server over HTTP, with real part PUTs.

Parts are S3's 5 MiB minimum here (MULTIPART_PART_SIZE) so a three-part file is 12 MiB and the tests stay fast.
moto's server checks neither a presigned URL's signature nor the signed Content-Length or checksum of a part, so
what S3 enforces on a part is shown by what is signed, and what the server enforces itself (the parts' sizes and
total at complete) by sending parts S3 would have refused.
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from mediahub.aws import client as aws_client
from tests import media
from tests.conftest import post_json, process_until_ready
from uploads import multipart, quota, services
from uploads.forms import DirectUploadForm
from uploads.models import MediaItem, Status

pytestmark = pytest.mark.django_db

MIB = 1024**2


@pytest.fixture(autouse=True)
def small_parts(settings):
    settings.MULTIPART_THRESHOLD = 5 * MIB
    settings.MULTIPART_PART_SIZE = 5 * MIB


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob):
    from django.test import Client

    other = Client()
    other.force_login(bob)
    return other


def video(size: int = 12 * MIB) -> bytes:
    return media.padded_video(size, fill=os.urandom(size))  # random bytes: no two parts alike


def sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def chunks(data: bytes, part_size: int = 5 * MIB) -> dict[int, bytes]:
    return {n + 1: data[i : i + part_size] for n, i in enumerate(range(0, len(data), part_size))}


def create(client, size: int) -> dict:
    body = {"fileName": "film.mp4", "contentType": "video/mp4", "size": size, "name": "A film"}
    response = post_json(client, "/api/media/", body)
    assert response.status_code == 201, response.content
    return response.json()


def sign(client, media_id: str, parts: dict[int, bytes]):
    body = {"partNumbers": list(parts), "checksums": [sha256(data) for data in parts.values()]}
    return post_json(client, f"/api/media/{media_id}/parts", body)


def put_parts(client, media_id: str, parts: dict[int, bytes]) -> None:
    """Sign the parts, then PUT each one's bytes to its URL with the headers signed, as a script does."""
    response = sign(client, media_id, parts)
    assert response.status_code == 200, response.content
    for signed in response.json()["parts"]:
        put = requests.put(signed["url"], data=parts[signed["partNumber"]], headers=signed["headers"], timeout=30)
        assert put.status_code == 200, put.text


def complete(client, media_id: str):
    return post_json(client, f"/api/media/{media_id}/complete")


def uploads_in_progress() -> list[dict]:
    return aws_client("s3").list_multipart_uploads(Bucket=settings.UPLOADS_BUCKET).get("Uploads", [])


def objects_of(media_id: str) -> list[str]:
    listing = aws_client("s3").list_object_versions(Bucket=settings.UPLOADS_BUCKET, Prefix="uploads/")
    return [v["Key"] for v in listing.get("Versions", []) if media_id in v["Key"]]


def test_a_file_in_three_parts_arrives_once_counted_and_becomes_ready(alice_client, alice):
    data = video()
    ticket = create(alice_client, len(data))
    assert ticket["multipart"]["partSize"] == 5 * MIB and ticket["multipart"]["partCount"] == 3
    assert "upload" not in ticket and ticket["expiresIn"] == 86400
    [upload] = uploads_in_progress()
    assert upload["UploadId"] == ticket["multipart"]["uploadId"] and upload["ChecksumAlgorithm"] == "SHA256"
    assert upload["Key"] == f"uploads/{alice.pk}/{ticket['id']}/original.mp4"  # the server's key

    put_parts(alice_client, ticket["id"], chunks(data))
    first, second = complete(alice_client, ticket["id"]), complete(alice_client, ticket["id"])
    assert (first.status_code, first.json()["status"]) == (202, "uploaded")
    assert (second.status_code, second.json()["status"]) == (202, "uploaded")
    assert quota.bytes_stored(str(alice.pk)) == len(data)  # counted once, after two completes
    assert uploads_in_progress() == []

    item = MediaItem.get(ticket["id"])
    assert item.version_id and item.etag.endswith("-3")  # the joined object's version is pinned
    process_until_ready(item.object_key)
    assert alice_client.get(f"/api/media/{ticket['id']}").json()["status"] == "ready"
    assert quota.bytes_stored(str(alice.pk)) == len(data)


def test_part_urls_sign_each_parts_length_and_checksum_and_last_fifteen_minutes(alice_client):
    data = video()
    ticket = create(alice_client, len(data))
    parts = chunks(data)
    answer = sign(alice_client, ticket["id"], parts).json()
    assert answer["expiresIn"] == 900
    for signed in answer["parts"]:
        query = parse_qs(urlsplit(signed["url"]).query)
        assert query["X-Amz-SignedHeaders"] == ["content-length;host;x-amz-checksum-sha256"]
        assert query["X-Amz-Expires"] == ["900"] and query["uploadId"] == [ticket["multipart"]["uploadId"]]
        assert signed["headers"] == {"x-amz-checksum-sha256": sha256(parts[signed["partNumber"]])}
    lengths = [multipart.part_length(MediaItem.get(ticket["id"]), n) for n in parts]
    assert lengths == [5 * MIB, 5 * MIB, 2 * MIB]


def test_an_interrupted_upload_resumes_from_the_parts_listing(alice_client):
    data = video()
    ticket = create(alice_client, len(data))
    parts = chunks(data)
    put_parts(alice_client, ticket["id"], {1: parts[1], 3: parts[3]})

    listing = alice_client.get(f"/api/media/{ticket['id']}/parts").json()
    assert (listing["partSize"], listing["partCount"]) == (5 * MIB, 3)
    assert [(p["partNumber"], p["size"]) for p in listing["parts"]] == [(1, 5 * MIB), (3, 2 * MIB)]
    early = complete(alice_client, ticket["id"])
    assert early.status_code == 409 and "part 2" in early.json()["errors"]["status"][0]
    assert MediaItem.get(ticket["id"]).status == Status.PENDING  # nothing lost: resume

    done = {p["partNumber"] for p in listing["parts"]}
    put_parts(alice_client, ticket["id"], {n: chunk for n, chunk in parts.items() if n not in done})
    assert complete(alice_client, ticket["id"]).json()["status"] == "uploaded"


def test_cancel_leaves_no_item_and_no_parts(alice_client):
    data = video()
    ticket = create(alice_client, len(data))
    put_parts(alice_client, ticket["id"], {1: chunks(data)[1]})
    assert alice_client.delete(f"/api/media/{ticket['id']}/upload").status_code == 204
    assert alice_client.get(f"/api/media/{ticket['id']}").status_code == 404
    assert uploads_in_progress() == [] and objects_of(ticket["id"]) == []
    assert alice_client.delete(f"/api/media/{ticket['id']}/upload").status_code == 404


@pytest.mark.parametrize(
    "sizes",
    [(5 * MIB, 4 * MIB, 2 * MIB), (5 * MIB, 5 * MIB, 3 * MIB)],
    ids=["a short middle part", "a long last part: more bytes than declared"],
)
def test_parts_that_do_not_make_the_declared_file_are_refused_and_aborted(alice_client, alice, sizes):
    declared = 12 * MIB
    ticket = create(alice_client, declared)
    data = video(sum(sizes))
    parts, start = {}, 0
    for number, size in enumerate(sizes, 1):
        parts[number], start = data[start : start + size], start + size
    put_parts(alice_client, ticket["id"], parts)  # S3 refuses a length other than the signed one; moto does not

    refused = complete(alice_client, ticket["id"])
    assert refused.status_code == 422
    assert f"{declared} were declared" in refused.json()["errors"]["file"][0]
    assert refused.json()["item"]["status"] == "rejected"
    assert uploads_in_progress() == [] and objects_of(ticket["id"]) == []
    assert quota.bytes_stored(str(alice.pk)) == 0
    assert complete(alice_client, ticket["id"]).status_code == 422  # and it stays refused


def test_someone_elses_upload_is_unknown_to_every_call(alice_client, bob_client):
    data = video()
    ticket = create(alice_client, len(data))
    media_id, parts = ticket["id"], chunks(data)
    assert sign(bob_client, media_id, parts).status_code == 404
    assert bob_client.get(f"/api/media/{media_id}/parts").status_code == 404
    assert bob_client.delete(f"/api/media/{media_id}/upload").status_code == 404
    assert complete(bob_client, media_id).status_code == 404
    assert len(uploads_in_progress()) == 1 and MediaItem.get(media_id).status == Status.PENDING


@pytest.mark.parametrize("numbers", [[0], [4], [1, 4], [10_001], [-1], [1, 1], ["1"], [1.5], []])
def test_part_numbers_outside_the_file_are_refused(alice_client, numbers):
    ticket = create(alice_client, 12 * MIB)
    body = {"partNumbers": numbers, "checksums": [sha256(b"x")] * len(numbers)}
    response = post_json(alice_client, f"/api/media/{ticket['id']}/parts", body)
    assert response.status_code == 400 and response.json()["errors"]["partNumbers"]


def test_checksums_must_be_one_sha256_per_part(alice_client):
    ticket = create(alice_client, 12 * MIB)
    path = f"/api/media/{ticket['id']}/parts"
    assert (
        "checksums"
        in post_json(alice_client, path, {"partNumbers": [1, 2], "checksums": [sha256(b"")]}).json()["errors"]
    )
    assert post_json(alice_client, path, {"partNumbers": [1], "checksums": ["abc"]}).status_code == 400
    assert post_json(alice_client, path, {"partNumbers": [1]}).status_code == 400


def test_a_completed_upload_is_signed_listed_or_cancelled_no_more(alice_client):
    data = video()
    ticket = create(alice_client, len(data))
    put_parts(alice_client, ticket["id"], chunks(data))
    assert complete(alice_client, ticket["id"]).status_code == 202
    assert sign(alice_client, ticket["id"], {1: b"x"}).status_code == 409
    assert alice_client.get(f"/api/media/{ticket['id']}/parts").status_code == 409
    assert alice_client.delete(f"/api/media/{ticket['id']}/upload").status_code == 409
    assert MediaItem.get(ticket["id"]).status == Status.UPLOADED


def test_an_item_uploaded_with_a_post_has_no_parts(alice_client):
    small = create(alice_client, 1000)
    assert "upload" in small and "multipart" not in small
    assert sign(alice_client, small["id"], {1: b"x"}).status_code == 409
    assert alice_client.get(f"/api/media/{small['id']}/parts").status_code == 409
    assert alice_client.delete(f"/api/media/{small['id']}/upload").status_code == 409


def test_the_quota_is_checked_on_the_declared_size_before_any_upload_starts(alice_client, settings):
    settings.USER_STORAGE_QUOTA = 10 * MIB
    response = post_json(
        alice_client, "/api/media/", {"fileName": "f.mp4", "contentType": "video/mp4", "size": 12 * MIB, "name": "n"}
    )
    assert response.status_code == 400 and response.json()["errors"]["size"]
    assert uploads_in_progress() == []


def test_the_sweep_aborts_an_upload_in_parts_after_a_day_not_six_hours(alice_client):
    data = video()
    ticket = create(alice_client, len(data))
    put_parts(alice_client, ticket["id"], {1: chunks(data)[1]})
    item = MediaItem.get(ticket["id"])
    item.update(actions=[MediaItem.created_at.set(item.created_at - services.ABANDON_AFTER - timedelta(minutes=1))])
    assert services.sweep_abandoned() == 0 and len(uploads_in_progress()) == 1
    item.update(actions=[MediaItem.created_at.set(item.created_at - multipart.ABANDON_AFTER)])
    assert services.sweep_abandoned() == 1
    assert uploads_in_progress() == [] and MediaItem.count(ticket["id"]) == 0
    assert complete(alice_client, ticket["id"]).status_code == 404


def test_a_pending_upload_in_parts_lives_two_days():
    ticket = services.media_create(
        owner_id="7", name="n", caption="", file_name="f.mp4", content_type="video/mp4", size=12 * MIB
    )
    lifetime = MediaItem.get(ticket.item.id).expires_at - MediaItem.get(ticket.item.id).created_at
    assert abs(lifetime - multipart.PENDING_LIFETIME) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("size", "part_size"),
    [(12 * MIB, 16 * MIB), (10 * 1024**3, 16 * MIB), (156 * 1024**3, 16 * MIB), (200 * 1024**3, 21 * MIB)],
)
def test_parts_are_at_least_the_setting_and_never_more_than_ten_thousand(settings, size, part_size):
    settings.MULTIPART_PART_SIZE = 16 * MIB
    assert multipart.part_size_for(size) == part_size
    assert -(-size // part_size) <= multipart.MAX_PARTS


def test_the_no_javascript_form_takes_only_files_below_the_multipart_threshold(settings):
    data = video(1 * MIB)
    settings.MULTIPART_THRESHOLD = len(data) - 1
    form = DirectUploadForm(
        {"name": "n", "caption": ""}, {"file": SimpleUploadedFile("a.mp4", data, content_type="video/mp4")}
    )
    assert not form.is_valid() and "Turn JavaScript on" in form.errors["file"][0]


@pytest.mark.django_db(transaction=True)
def test_the_readme_example_uploads_a_big_file_in_parts_and_resumes(live_server, alice, tmp_path, monkeypatch, capsys):
    """README's Python example, run as written against the live server, after an interruption after part 1."""
    import json
    import re
    import runpy

    from profiles import tokens

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [example] = re.findall(r"```python\n(.*?)```", readme, re.S)
    token = tokens.token_create(alice, name="cli", scope="write")[1]
    data = video()
    path = tmp_path / "film.mp4"
    path.write_bytes(data)
    ticket = services.media_create(
        owner_id=str(alice.pk), name="n", caption="", file_name="film.mp4", content_type="video/mp4", size=len(data)
    )
    part = chunks(data)[1]
    [signed] = multipart.sign(ticket.item, [1], [sha256(part)])
    assert requests.put(signed.url, data=part, headers=signed.headers, timeout=30).status_code == 200
    (tmp_path / "film.mp4.mediahub").write_text(json.dumps({"id": ticket.item.id}))  # the interrupted run's state

    script = tmp_path / "upload.py"
    script.write_text(example)
    monkeypatch.setenv("SITE", live_server.url)
    monkeypatch.setenv("TOKEN", token)
    monkeypatch.setattr("sys.argv", [str(script), str(path)])
    runpy.run_path(str(script), run_name="__main__")

    printed = capsys.readouterr().out.splitlines()
    assert printed == ["part 2/3 sent", "part 3/3 sent", "202 uploaded"]
    assert MediaItem.get(ticket.item.id).status == Status.UPLOADED and not (tmp_path / "film.mp4.mediahub").exists()


def test_completes_at_once_join_the_parts_and_count_the_file_once(alice_client, alice):
    from concurrent.futures import ThreadPoolExecutor

    data = video()
    ticket = create(alice_client, len(data))
    put_parts(alice_client, ticket["id"], chunks(data))
    with ThreadPoolExecutor(5) as pool:
        items = list(
            pool.map(lambda _: services.media_complete(owner_id=str(alice.pk), media_id=ticket["id"]), range(5))
        )
    assert {item.status for item in items} == {Status.UPLOADED}
    assert quota.bytes_stored(str(alice.pk)) == len(data) and uploads_in_progress() == []


def test_deleting_a_pending_upload_in_parts_drops_its_parts(alice_client):
    data = video()
    ticket = create(alice_client, len(data))
    put_parts(alice_client, ticket["id"], {1: chunks(data)[1]})
    assert alice_client.delete(f"/api/media/{ticket['id']}").status_code == 204
    assert uploads_in_progress() == [] and MediaItem.count(ticket["id"]) == 0
