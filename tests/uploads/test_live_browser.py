"""Live status in Chromium (static/js/live.js): pages follow items still processing and swap in what they became."""

import time

import pytest
from django.test import Client

from tests.conftest import create_and_upload, jpeg_bytes, process_until_ready, sign_in
from tests.uploads.test_processing import process
from uploads.models import MediaItem, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATUS_URL = "/api/media/status"


@pytest.fixture
def signed_in_page(page, alice):
    sign_in(page)
    return page


@pytest.fixture
def alice_api(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def sent(client: Client, data: bytes) -> MediaItem:
    """Uploaded but not completed: the item stays pending until processing, which finds the bytes itself (as the
    S3 event does on Lambda), so no queued task can beat the test to it."""
    return MediaItem.get(create_and_upload(client, data)["id"])


def test_a_tile_shows_its_thumbnail_within_2_s_of_the_item_turning_ready(signed_in_page, alice_api):
    page = signed_in_page
    item = sent(alice_api, jpeg_bytes(800, 600, "teal"))
    page.goto("/")
    card = page.get_by_test_id("media-card")
    assert card.get_by_test_id("status").inner_text() == "Processing"
    page.wait_for_timeout(4000)  # the poller has backed off a while
    process_until_ready(item.object_key)
    ready_at = time.monotonic()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=media-card] img')?.naturalWidth > 0", timeout=2000, polling=50
    )
    assert time.monotonic() - ready_at < 2
    assert card.get_by_test_id("status").count() == 0
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_a_refused_item_shows_its_reason_without_a_reload(signed_in_page, alice_api):
    page = signed_in_page
    item = sent(alice_api, jpeg_bytes(800, 600)[:300])  # a JPEG's start, then nothing
    page.goto("/")
    page.evaluate("window.notReloaded = true")
    assert process(item) == Status.REJECTED
    reason = page.get_by_test_id("media-card").get_by_test_id("reason")
    reason.wait_for(timeout=3000)
    assert "not a valid image" in reason.inner_text()
    assert page.get_by_test_id("media-card").get_by_test_id("status").inner_text() == "Rejected"
    assert page.evaluate("window.notReloaded") is True


def test_the_detail_page_swaps_in_the_picture_when_ready(signed_in_page, alice_api):
    page = signed_in_page
    item = sent(alice_api, jpeg_bytes(1200, 900, "navy"))
    page.goto(f"/media/{item.id}/")
    assert page.get_by_test_id("status").inner_text() == "Processing"
    process_until_ready(item.object_key)
    page.wait_for_function("() => document.querySelector('.preview img')?.naturalWidth > 0", timeout=3000)
    assert page.get_by_test_id("status").count() == 0


def test_the_poller_is_quiet_while_the_tab_is_hidden_and_unchanged_answers_are_304(signed_in_page, alice_api):
    page = signed_in_page
    sent(alice_api, jpeg_bytes())
    answers = []
    page.on("response", lambda r: answers.append((time.monotonic(), r.status)) if STATUS_URL in r.url else None)
    page.goto("/")
    page.wait_for_timeout(3500)
    assert len(answers) >= 2 and 200 in {s for _, s in answers} and 304 in {s for _, s in answers}

    page.evaluate("""() => {
        Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    page.wait_for_timeout(300)  # a poll already on its way may land
    hidden_at, before = time.monotonic(), len(answers)
    page.wait_for_timeout(5000)
    assert len(answers) == before, "polled while hidden"

    page.evaluate("""() => {
        Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    page.wait_for_timeout(1000)
    assert len(answers) > before and answers[before][0] > hidden_at + 5


def test_upload_page_rows_say_processing_then_ready_with_a_thumbnail(signed_in_page, alice, tmp_path):
    page = signed_in_page
    photos = [tmp_path / "one.jpg", tmp_path / "two.jpg"]  # two: one file alone lands on its confirmation page
    photos[0].write_bytes(jpeg_bytes(900, 600, "olive"))
    photos[1].write_bytes(jpeg_bytes(600, 900, "maroon"))
    page.goto("/upload/")
    page.set_input_files("input[type=file]", [str(p) for p in photos])
    page.click("#upload-button")
    lines = page.get_by_test_id("processing-status")
    for i in range(2):
        lines.nth(i).filter(has_text="Processing…").wait_for()
    # Processed here (or by the session's Celery worker, if an earlier test started it: then that run wins).
    for item in MediaItem.by_owner.query(str(alice.pk)):
        process_until_ready(item.object_key)
    for i in range(2):
        lines.nth(i).filter(has_text="Ready").wait_for(timeout=3000)
    loaded = "() => [...document.querySelectorAll('[data-testid=processed-thumb]')].filter(i => i.naturalWidth).length"
    page.wait_for_function(f"{loaded} == 2")
