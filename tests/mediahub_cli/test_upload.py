"""The bulk uploader against the live test server and moto's S3, over HTTP as on a person's machine: folders,
checksum dedup, refusals, templates, and an interrupted big file resumed."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime

import pytest
from django.conf import settings
from django.test import Client

from mediahub.aws import client as aws_client
from mediahub_cli import transfer
from mediahub_cli.cli import main
from profiles import tokens
from tests import media
from tests.conftest import create_and_upload, post_json, process_until_ready
from tests.images import encoded, photo
from uploads.models import MediaItem, Status

pytestmark = pytest.mark.django_db

MIB = 1024**2
A_DAY = datetime(2024, 5, 1, 12, 0).timestamp()


@pytest.fixture
def token(alice) -> str:
    return tokens.token_create(alice, name="cli", scope="write")[1]


@pytest.fixture
def upload(live_server, token, tmp_path):
    """`upload(*args)`: the command as a person runs it (in this process), with its own state file; its exit status."""

    def run(*args: str) -> int:
        common = ["--url", live_server.url, "--token", token, "--state", str(tmp_path / "state.json")]
        return main(["upload", *args, *common])

    return run


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    return encoded(photo(size), "JPEG").getvalue()


def in_library(alice, data: bytes) -> str:
    """A photo alice uploaded earlier (through the API) and that processing read: its id."""
    browser = Client()
    browser.force_login(alice)
    media_id = create_and_upload(browser, data)["id"]
    assert post_json(browser, f"/api/media/{media_id}/complete").status_code == 202
    process_until_ready(MediaItem.get(media_id).object_key)  # or the session's worker does, first
    return media_id


def items_of(alice) -> list[MediaItem]:
    return list(MediaItem.by_owner.query(str(alice.pk)))


def lines(capsys) -> dict[str, str]:
    """The run's report: path -> its line."""
    out = capsys.readouterr().out.splitlines()
    return {
        line.split()[1].rstrip(":"): line for line in out if line.split()[:1] in (["uploaded"], ["present"], ["failed"])
    }


def test_a_folder_goes_in_once_duplicates_and_refusals_reported(upload, alice, tmp_path, settings, capsys, monkeypatch):
    settings.MAX_UPLOAD_SIZE = 60_000
    folder = tmp_path / "holiday"
    (folder / "rome").mkdir(parents=True)
    first, known = jpeg(), jpeg()
    (folder / "a.jpg").write_bytes(first)
    (folder / "rome" / "copy-of-a.jpg").write_bytes(first)
    (folder / "rome" / "known.jpg").write_bytes(known)
    (folder / "huge.jpg").write_bytes(jpeg((400, 300)))
    (folder / "notes.txt").write_text("not a photo")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    known_id = in_library(alice, known)
    monkeypatch.chdir(tmp_path)

    assert upload(str(folder)) == 1
    report = lines(capsys)
    assert sorted(report) == [
        "holiday/a.jpg",
        "holiday/huge.jpg",
        "holiday/notes.txt",
        "holiday/rome/copy-of-a.jpg",
        "holiday/rome/known.jpg",
    ]
    assert report["holiday/a.jpg"].startswith("uploaded")
    assert (
        report["holiday/rome/copy-of-a.jpg"].startswith("present")
        and "the same file as holiday/a.jpg" in report["holiday/rome/copy-of-a.jpg"]
    )
    assert (
        report["holiday/rome/known.jpg"].startswith("present")
        and f"already in your library as 'A photo' ({known_id})" in report["holiday/rome/known.jpg"]
    )
    assert report["holiday/huge.jpg"].startswith("failed") and "the limit is 58.6 KB" in report["holiday/huge.jpg"]
    assert (
        report["holiday/notes.txt"].startswith("failed")
        and "Not a type mediahub accepts (text/plain)" in report["holiday/notes.txt"]
    )
    assert sorted(item.file_name for item in items_of(alice)) == ["a.jpg", "photo.jpg"]

    # Again: nothing is sent twice, and the exit status still says two files did not go in.
    assert upload(str(folder)) == 1
    again = lines(capsys)
    # Known from the state file, or (once the session's worker has processed it, so its checksum is stored) from
    # the library: either way it is not sent again.
    assert again["holiday/a.jpg"].startswith("present")
    assert "uploaded by an earlier run" in again["holiday/a.jpg"] or "already in your library" in again["holiday/a.jpg"]
    assert len(items_of(alice)) == 2


def test_everything_in_the_library_is_exit_status_zero(upload, alice, tmp_path, capsys):
    data = jpeg()
    (tmp_path / "one.jpg").write_bytes(data)
    in_library(alice, data)
    assert upload(str(tmp_path / "one.jpg")) == 0
    assert "0 uploaded, 1 already in the library, 0 not uploaded (of 1 files)." in capsys.readouterr().out


def test_names_and_captions_follow_the_templates(upload, alice, tmp_path):
    path = tmp_path / "trips" / "Rome" / "IMG_0042.jpg"
    path.parent.mkdir(parents=True)
    path.write_bytes(jpeg())
    os.utime(path, (A_DAY, A_DAY))
    assert (
        upload(str(tmp_path / "trips"), "--name", "{parent}: {stem}", "--caption", "{path} ({ext}, {date}) {{x}}") == 0
    )
    [item] = items_of(alice)
    assert (item.name, item.caption, item.file_name) == (
        "Rome: IMG_0042",
        "Rome/IMG_0042.jpg (jpg, 2024-05-01) {x}",
        "IMG_0042.jpg",
    )


@pytest.fixture
def small_parts(settings):
    settings.MULTIPART_THRESHOLD = 5 * MIB
    settings.MULTIPART_PART_SIZE = 5 * MIB  # S3's minimum


def test_a_big_file_interrupted_mid_way_continues_with_only_the_missing_parts(
    upload, alice, tmp_path, small_parts, monkeypatch, capsys
):
    # A real clip padded to parts of 5, 5, 5 and 2 MiB: the session's worker, if running, processes it to ready.
    data = media.padded_video(17 * MIB, os.urandom(17 * MIB))
    film = tmp_path / "film.mp4"
    film.write_bytes(data)
    sent: list[int] = []
    real_put = transfer.put_part

    def put_part(signed, path, offset, length, report, backoff):
        if len(sent) == 2 and interrupt:
            raise KeyboardInterrupt  # Ctrl-C after two parts
        real_put(signed, path, offset, length, report, backoff)
        sent.append(offset // (5 * MIB) + 1)

    monkeypatch.setattr(transfer, "put_part", put_part)
    interrupt = True
    assert upload(str(film), "--parts", "1") == 130
    assert "Run the same command again to continue" in capsys.readouterr().err
    [entry] = json.loads((tmp_path / "state.json").read_text())["files"].values()
    assert (entry["inParts"], entry["done"], entry["sha256"]) == (True, False, hashlib.sha256(data).hexdigest())
    assert sent == [1, 2]

    interrupt = False
    sent.clear()
    assert upload(str(film)) == 0
    assert sorted(sent) == [3, 4]  # only the parts S3 did not hold
    [item] = items_of(alice)
    assert (item.id, item.size) == (entry["id"], len(data)) and item.status in (Status.UPLOADED, Status.READY)
    stored = aws_client("s3").get_object(Bucket=settings.UPLOADS_BUCKET, Key=item.object_key)["Body"].read()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()
    assert json.loads((tmp_path / "state.json").read_text())["files"][str(film)]["done"] is True

    sent.clear()
    assert upload(str(film)) == 0  # completed: not sent again
    assert sent == [] and len(items_of(alice)) == 1
