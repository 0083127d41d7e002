"""POST /api/exports and GET /api/exports/<id>: a ZIP started, followed and fetched; every bad selection refused
whole, with a message, and nothing started."""

from __future__ import annotations

import io
import zipfile

import pytest
import requests
from django.test import Client

from exports import building, lifecycle
from exports.models import State, ZipJob
from tests.conftest import post_json
from uploads.models import Status, utcnow

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def jobs_of(user) -> list[ZipJob]:
    return list(ZipJob.by_owner.query(str(user.pk)))


def test_a_zip_is_started_followed_and_downloaded(client, alice, ready_item, queued):
    photo, clip = ready_item(alice, b"\xff\xd8photo", "beach.jpg"), ready_item(alice, b"clip" * 100, "clip.mp4")
    busy = ready_item(alice, b"not yet", "busy.jpg", status=Status.UPLOADED)

    started = post_json(client, "/api/exports", {"ids": [photo.id, busy.id, clip.id, photo.id]})

    assert started.status_code == 202, started.content
    body = started.json()
    assert started["Location"] == f"/api/exports/{body['id']}"
    assert (body["state"], body["itemsTotal"], body["bytesTotal"], body["link"]) == ("queued", 2, 407, None)
    assert body["leftOut"] == [{"id": busy.id, "name": "busy", "reason": "It is uploaded, not ready."}]
    assert body["page"] == f"/downloads/{body['id']}/"
    assert len(queued) == 1

    building.build(body["id"])
    ready = client.get(started["Location"]).json()
    assert (ready["state"], ready["percent"], ready["itemsDone"], ready["linkExpiresIn"]) == ("ready", 100, 2, 60)
    download = requests.get(ready["link"], timeout=10)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith(f'attachment; filename="{ready["fileName"]}"')
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert {name: archive.read(name) for name in archive.namelist()} == {
        "beach.jpg": b"\xff\xd8photo",
        "clip.mp4": b"clip" * 100,
    }


def test_another_users_id_refuses_the_whole_request_and_starts_nothing(client, alice, bob, ready_item, queued):
    mine, theirs = ready_item(alice, b"mine"), ready_item(bob, b"theirs")
    answer = post_json(client, "/api/exports", {"ids": [mine.id, theirs.id]})
    assert answer.status_code == 404
    assert answer.json()["unknown"] == [theirs.id]
    assert "not in your library" in answer.json()["errors"]["ids"][0]
    assert jobs_of(alice) == [] and jobs_of(bob) == [] and queued == []


@pytest.mark.parametrize("bad", ["0" * 32, "../../etc/passwd", "", "x" * 5000])
def test_unknown_or_malformed_ids_are_refused_and_listed(client, alice, ready_item, queued, bad):
    answer = post_json(client, "/api/exports", {"ids": [ready_item(alice, b"a").id, bad]})
    assert answer.status_code == 404 and answer.json()["unknown"] == [bad]
    assert jobs_of(alice) == []


@pytest.mark.parametrize("body", [{}, {"ids": "abc"}, {"ids": [1, 2]}, {"ids": None}, {"ids": [["a"]]}])
def test_ids_that_are_not_a_list_of_strings_are_400(client, alice, queued, body):
    answer = post_json(client, "/api/exports", body)
    assert answer.status_code == 400 and answer.json()["errors"]["ids"]
    assert jobs_of(alice) == []


def test_an_empty_selection_is_400(client, alice, queued):
    answer = post_json(client, "/api/exports", {"ids": []})
    assert answer.status_code == 400 and "at least one" in answer.json()["errors"]["__all__"][0]


def test_more_ids_than_the_bulk_limit_are_refused_before_anything_is_read(client, alice, queued, settings):
    settings.BULK_MAX_ITEMS = 3
    answer = post_json(client, "/api/exports", {"ids": ["0" * 32] * 4})
    assert answer.status_code == 400
    assert answer.json()["errors"]["__all__"] == ["You selected 4 items; a ZIP takes at most 3 at a time."]
    assert jobs_of(alice) == []


def test_a_selection_over_the_size_limit_is_refused_saying_the_size_and_the_limit(
    client, alice, ready_item, queued, settings
):
    settings.ZIP_MAX_BYTES = 1000
    items = [ready_item(alice, b"x" * 600), ready_item(alice, b"y" * 600)]
    answer = post_json(client, "/api/exports", {"ids": [i.id for i in items]})
    assert answer.status_code == 400
    assert answer.json()["errors"]["__all__"] == [
        "The selected items are 1.2 KB in all; a ZIP holds at most 1000 bytes. Select fewer items."
    ]
    assert jobs_of(alice) == [] and queued == []


def test_a_selection_with_nothing_ready_is_409(client, alice, ready_item, queued):
    item = ready_item(alice, b"p", status=Status.PENDING)
    answer = post_json(client, "/api/exports", {"ids": [item.id]})
    assert answer.status_code == 409 and "ready" in answer.json()["errors"]["status"][0]
    assert jobs_of(alice) == []


def test_too_many_zips_building_at_once_is_409(client, alice, ready_item, queued, settings):
    settings.ZIP_MAX_ACTIVE = 2
    item = ready_item(alice, b"q")
    for _ in range(2):
        assert post_json(client, "/api/exports", {"ids": [item.id]}).status_code == 202
    answer = post_json(client, "/api/exports", {"ids": [item.id]})
    assert answer.status_code == 409 and "still being built" in answer.json()["errors"]["status"][0]
    assert len(jobs_of(alice)) == 2


def test_someone_elses_zip_is_404_like_an_unknown_one(client, bob, ready_item, queued):
    theirs = Client()
    theirs.force_login(bob)
    job_id = post_json(theirs, "/api/exports", {"ids": [ready_item(bob, b"b").id]}).json()["id"]
    building.build(job_id)
    for path in (f"/api/exports/{job_id}", "/api/exports/" + "0" * 32, "/api/exports/not-an-id"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.json()["errors"]["id"] == ["No such ZIP download."]


def test_a_ready_zip_past_its_time_reads_as_expired_without_a_link(client, alice, ready_item, queued):
    job_id = post_json(client, "/api/exports", {"ids": [ready_item(alice, b"e").id]}).json()["id"]
    building.build(job_id)
    ZipJob.get(job_id).update(actions=[ZipJob.expires_at.set(utcnow())])
    body = client.get(f"/api/exports/{job_id}").json()
    assert (body["state"], body["link"]) == ("expired", None)
    assert ZipJob.get(job_id).state == State.EXPIRED


def test_a_failed_zip_says_why(client, alice, ready_item, queued):
    job_id = post_json(client, "/api/exports", {"ids": [ready_item(alice, b"f").id]}).json()["id"]
    job = ZipJob.get(job_id)
    lifecycle.start(job, "r")
    lifecycle.fail(job, "Storage failed while the ZIP was being built. Please try again.")
    body = client.get(f"/api/exports/{job_id}").json()
    assert (body["state"], body["reason"], body["link"]) == ("failed", job.reason, None)


def test_signed_out_callers_get_401(ready_item, alice, queued):
    assert post_json(Client(), "/api/exports", {"ids": ["0" * 32]}).status_code == 401
