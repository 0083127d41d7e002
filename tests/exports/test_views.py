"""The pages: the gallery's selection form starts a ZIP (or says why not, starting nothing), the downloads page
and a ZIP's page show it, and the download button hands out a fresh link."""

from __future__ import annotations

import pytest
from django.test import Client

from exports import building
from exports.models import ZipJob
from uploads.models import Status, utcnow

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def test_the_selection_form_starts_a_zip_and_lands_on_its_page(client, alice, ready_item, queued):
    items = [ready_item(alice, b"one", "one.jpg"), ready_item(alice, b"two", "two.jpg")]
    answer = client.post("/downloads/", {"ids": [i.id for i in items]})
    (job,) = ZipJob.by_owner.query(str(alice.pk))
    assert answer.status_code == 302 and answer["Location"] == f"/downloads/{job.id}/"
    page = client.get(answer["Location"])
    assert page.status_code == 200
    assert b"Queued: 2 items" in page.content and b"exports.js" in page.content
    assert job.id in client.get("/downloads/").content.decode()


@pytest.mark.parametrize(
    ("ids", "status", "message"),
    [
        ([], 400, "Select at least one item to download."),
        (["0" * 32], 404, "1 of the selected items are not in your library"),
    ],
)
def test_a_refused_selection_is_a_message_on_the_page_and_starts_nothing(client, alice, queued, ids, status, message):
    answer = client.post("/downloads/", {"ids": ids})
    assert answer.status_code == status
    assert message in answer.content.decode()
    assert list(ZipJob.by_owner.query(str(alice.pk))) == [] and queued == []


def test_another_users_item_in_the_form_is_refused(client, alice, bob, ready_item, queued):
    answer = client.post("/downloads/", {"ids": [ready_item(alice, b"a").id, ready_item(bob, b"b").id]})
    assert answer.status_code == 404 and b"not in your library" in answer.content
    assert list(ZipJob.by_owner.query(str(alice.pk))) == []


def test_over_the_size_limit_the_page_says_the_size_and_the_limit(client, alice, ready_item, queued, settings):
    settings.ZIP_MAX_BYTES = 10
    answer = client.post("/downloads/", {"ids": [ready_item(alice, b"x" * 20).id]})
    assert answer.status_code == 400
    assert "The selected items are 20 bytes in all; a ZIP holds at most 10 bytes." in answer.content.decode()


def test_the_download_button_redirects_to_a_fresh_attachment_link(client, alice, ready_item, queued):
    client.post("/downloads/", {"ids": [ready_item(alice, b"z").id]})
    (job,) = ZipJob.by_owner.query(str(alice.pk))
    assert client.get(f"/downloads/{job.id}/file/").status_code == 409  # not built yet
    building.build(job.id)
    page = client.get(f"/downloads/{job.id}/").content.decode()
    assert f'href="/downloads/{job.id}/file/"' in page
    answer = client.get(f"/downloads/{job.id}/file/")
    assert answer.status_code == 302
    assert "response-content-disposition=attachment" in answer["Location"]
    assert "X-Amz-Expires=60" in answer["Location"]


def test_an_expired_zip_is_410_and_says_so(client, alice, ready_item, queued):
    client.post("/downloads/", {"ids": [ready_item(alice, b"z").id]})
    (job,) = ZipJob.by_owner.query(str(alice.pk))
    building.build(job.id)
    job.update(actions=[ZipJob.expires_at.set(utcnow())])
    answer = client.get(f"/downloads/{job.id}/file/")
    assert answer.status_code == 410 and b"Expired" in answer.content


def test_someone_elses_zip_page_is_404(client, bob, ready_item, queued):
    theirs = Client()
    theirs.force_login(bob)
    theirs.post("/downloads/", {"ids": [ready_item(bob, b"b").id]})
    (job,) = ZipJob.by_owner.query(str(bob.pk))
    building.build(job.id)
    assert client.get(f"/downloads/{job.id}/").status_code == 404
    assert client.get(f"/downloads/{job.id}/file/").status_code == 404


def test_skipped_items_are_listed_with_the_link(client, alice, ready_item, queued):
    ready, busy = ready_item(alice, b"r", "r.jpg"), ready_item(alice, b"b", "busy.jpg", status=Status.UPLOADED)
    client.post("/downloads/", {"ids": [ready.id, busy.id]})
    (job,) = ZipJob.by_owner.query(str(alice.pk))
    building.build(job.id)
    page = client.get(f"/downloads/{job.id}/").content.decode()
    assert "1 item left out" in page and "busy: It is uploaded, not ready." in page


def test_signed_out_visitors_are_sent_to_sign_in(queued):
    assert Client().get("/downloads/")["Location"].startswith("/accounts/login/")
    assert Client().post("/downloads/", {"ids": ["0" * 32]})["Location"].startswith("/accounts/login/")


def test_a_selection_posted_from_another_site_is_refused_by_the_csrf_check(alice, ready_item, queued):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/downloads/", {"ids": [ready_item(alice, b"c").id]}).status_code == 403
    assert list(ZipJob.by_owner.query(str(alice.pk))) == [] and queued == []
