"""In Chromium: the owner makes a share link on the detail page and copies it; a stranger downloads the photo, and the
downloaded file carries no GPS position while the original does."""

import io

import pytest
from django.conf import settings
from PIL import ExifTags, Image

from mediahub import aws
from tests.conftest import create_and_upload, post_json, sign_in
from tests.images import camera_jpeg
from tests.uploads.test_processing import process
from uploads.models import MediaItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CLIPBOARD = ["clipboard-read", "clipboard-write"]


def gps_of(data: bytes) -> dict:
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo))


@pytest.fixture
def ready_photo(client, alice) -> MediaItem:
    client.force_login(alice)
    media_id = create_and_upload(client, camera_jpeg().getvalue(), name="Canal")["id"]
    post_json(client, f"/api/media/{media_id}/complete")
    process(MediaItem.get(media_id))
    return MediaItem.get(media_id)


def test_a_stranger_downloads_a_shared_photo_without_its_gps(page, browser, live_server, ready_photo):
    page.context.grant_permissions(CLIPBOARD, origin=live_server.url)
    sign_in(page)
    page.goto(f"/media/{ready_photo.id}/")
    assert not page.get_by_label("Share the original as it is (with its location, if it has one)").is_checked()
    page.get_by_role("button", name="Create link").click()
    url = page.get_by_test_id("share-url").inner_text().strip()
    assert "copy without location data" in page.get_by_test_id("share-serves").inner_text()

    page.get_by_test_id("copy-button").click()
    page.get_by_test_id("copy-status").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == url

    stranger = browser.new_context(base_url=live_server.url, accept_downloads=True)
    try:
        shared = stranger.new_page()
        shared.goto(url)
        assert "copy without location data" in shared.get_by_test_id("share-serves").inner_text()
        with shared.expect_download() as download_info:
            shared.get_by_test_id("shared-download").click()
        download = download_info.value
        downloaded = download.path().read_bytes()
    finally:
        stranger.close()
    original = aws.client("s3").get_object(Bucket=settings.UPLOADS_BUCKET, Key=ready_photo.object_key)["Body"].read()
    assert download.suggested_filename == "photo.jpg"
    assert gps_of(original), "the original has a position"
    assert gps_of(downloaded) == {}
    assert Image.open(io.BytesIO(downloaded)).getexif()[ExifTags.Base.Make] == "Canon\0\0\0"
    assert Image.open(io.BytesIO(downloaded)).tobytes() == Image.open(io.BytesIO(original)).tobytes()


def test_a_new_api_token_is_copied_with_one_click(page, live_server, alice):
    page.context.grant_permissions(CLIPBOARD, origin=live_server.url)
    sign_in(page)
    page.goto("/profile/")
    page.locator("form[action='/profile/tokens/'] input[name=name]").fill("backup script")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token").inner_text().strip()
    page.get_by_role("button", name="Copy token").click()
    page.get_by_test_id("copy-status").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == token


def test_without_clipboard_access_the_link_is_selected_for_copying(page, live_server, ready_photo):
    # No permissions granted and the API taken away: the fallback selects the text (and tries the copy command).
    sign_in(page)
    page.goto(f"/media/{ready_photo.id}/")
    page.get_by_role("button", name="Create link").click()
    page.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    page.get_by_test_id("copy-button").click()
    page.get_by_test_id("copy-status").filter(has_text="C").wait_for()
    assert page.evaluate("window.getSelection().toString().trim()") == page.get_by_test_id("share-url").inner_text()
