"""The detail page's full-window viewer in Chromium (static/js/viewer.js): open, previous / next by button and by
arrow key in the library's order, Escape closing it, focus where it belongs."""

import pytest
from django.test import Client

from tests.conftest import create_and_upload, jpeg_bytes, sign_in
from tests.uploads.test_processing import process
from uploads.models import MediaItem, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def library(alice) -> list[str]:
    """Three ready photos and, between the first two, a document without renditions; ids newest first."""
    client = Client()
    client.force_login(alice)
    ids = []
    for i, color in enumerate(("red", "green", "blue")):
        body = create_and_upload(client, jpeg_bytes(2400, 1600, color), name=f"Photo {color}")
        assert process(MediaItem.get(body["id"])) == Status.READY
        ids.append(body["id"])
        if i == 0:
            create_and_upload(client, b"%PDF-1.4 never processed", content_type="application/pdf", name="Notes")
    return ids[::-1]


def viewer_open(page) -> bool:
    return page.get_by_test_id("viewer").evaluate("d => d.open")


def test_the_viewer_opens_steps_through_the_library_and_closes_with_escape(page, alice, library):
    blue, green, red = library
    sign_in(page)
    page.goto(f"/media/{green}/")
    assert not viewer_open(page)
    page.get_by_test_id("view-full").click()
    assert viewer_open(page)
    assert page.evaluate("document.activeElement.dataset.testid") == "viewer-close"
    large = page.get_by_test_id("viewer").locator("img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=large.element_handle())
    assert page.request.get(large.evaluate("img => img.currentSrc")).ok

    page.keyboard.press("ArrowRight")  # next: older, skipping the document that has no picture
    page.wait_for_url(f"**/media/{red}/#view")
    assert viewer_open(page) and page.get_by_test_id("viewer-next").count() == 0  # the oldest
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"**/media/{green}/#view")
    page.get_by_test_id("viewer-prev").click()  # the buttons do the same
    page.wait_for_url(f"**/media/{blue}/#view")
    assert viewer_open(page) and page.get_by_test_id("viewer-prev").count() == 0  # the newest
    page.keyboard.press("ArrowLeft")  # nothing newer: stays
    page.wait_for_timeout(300)
    assert page.url.endswith(f"/media/{blue}/#view")

    page.keyboard.press("Escape")
    assert not viewer_open(page)
    assert page.evaluate("document.activeElement.dataset.testid") == "view-full"
    assert page.url.endswith(f"/media/{blue}/")
