"""In Chromium: an album made, items added from an item's page and from the album picker, shared, opened in a fresh
browser context without signing in, a picture downloaded without its GPS, then the link revoked: 410."""

from __future__ import annotations

import pytest

from tests.conftest import create_and_upload, post_json, sign_in
from tests.images import camera_jpeg
from tests.uploads.test_processing import process
from tests.uploads.test_sharing_browser import gps_of
from uploads.models import MediaItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def photos(client, alice) -> list[str]:
    client.force_login(alice)
    ids = []
    for name in ("Canal", "Bridge"):
        media_id = create_and_upload(client, camera_jpeg().getvalue(), name=name)["id"]
        post_json(client, f"/api/media/{media_id}/complete")
        process(MediaItem.get(media_id))
        ids.append(media_id)
    return ids


def test_an_album_is_made_filled_shared_opened_anonymously_and_revoked(page, browser, live_server, photos):
    sign_in(page)
    page.get_by_role("link", name="Albums").click()
    page.get_by_test_id("no-albums").wait_for()
    page.get_by_label("Name").fill("Venice")
    page.get_by_label("Description").fill("Spring, by the water")
    page.get_by_role("button", name="Create album").click()
    assert page.get_by_test_id("album-name").inner_text() == "Venice"

    page.goto(f"/media/{photos[0]}/")
    page.get_by_test_id("album-choice").select_option(label="Venice")
    page.get_by_test_id("add-to-album-button").click()
    page.get_by_test_id("album-name").wait_for()
    page.goto(f"/media/{photos[1]}/")
    page.get_by_test_id("add-to-album-button").click()  # the one album is chosen
    assert page.get_by_test_id("album-count").inner_text() == "2"
    assert page.get_by_test_id("media-card").count() == 2
    assert page.get_by_test_id("is-cover").count() == 1

    page.get_by_label("Allow downloads (each a copy without location data)").check()
    page.get_by_role("button", name="Create link").click()
    url = page.get_by_test_id("share-url").inner_text().strip()

    stranger = browser.new_context(base_url=live_server.url, accept_downloads=True)
    try:
        shared = stranger.new_page()
        shared.goto(url)
        assert shared.get_by_test_id("album-name").inner_text() == "Venice"
        assert shared.get_by_test_id("media-card").count() == 2
        assert shared.get_by_test_id("user-menu").count() == 0  # nobody is signed in here
        with shared.expect_download() as download_info:
            shared.get_by_test_id("shared-download").first.click()
        assert gps_of(download_info.value.path().read_bytes()) == {}

        page.goto(url.split("/a/")[0] + "/albums/")
        page.get_by_test_id("album-link").click()
        page.get_by_test_id("revoke").click()
        response = shared.goto(url)
        assert response.status == 410
        assert shared.get_by_test_id("share-gone").inner_text().count("The owner revoked this link.") == 1
    finally:
        stranger.close()


def test_remove_selected_takes_items_out_of_the_album_only(page, photos, alice):
    from albums import services

    album = services.album_create(owner_id=str(alice.pk), name="Venice")
    services.add_items(owner_id=str(alice.pk), album_id=album.id, ids=photos)
    sign_in(page)
    page.goto(f"/albums/{album.id}/")
    page.get_by_label("Select Canal").check()
    page.get_by_test_id("remove-selected").click()
    assert page.get_by_test_id("album-count").inner_text() == "1"
    assert page.get_by_test_id("media-card").count() == 1
    page.goto("/")
    assert page.get_by_test_id("media-card").count() == 2  # both still in the gallery


def test_a_gallery_selection_goes_into_a_new_album_and_is_removed_from_it_there(page, alice, library):
    items = [library(alice, name) for name in ("Dawn", "Noon", "Dusk", "Night")]
    sign_in(page)
    page.goto("/")
    cards = page.get_by_test_id("select")
    cards.nth(0).click()
    cards.nth(2).click(modifiers=["Shift"])  # newest first: Night, Dusk, Noon
    assert page.get_by_test_id("selection-count").inner_text() == "3 selected"
    page.get_by_test_id("bulk-album").select_option(label="New album…")
    page.get_by_test_id("bulk-album-name").fill("A day")
    page.get_by_test_id("bulk-add-to-album").click()

    assert page.get_by_test_id("album-name").inner_text() == "A day"
    assert page.locator(".message").inner_text() == "Added 3 items to the album."
    assert sorted(page.get_by_test_id("media-card").locator(".meta > a").all_inner_texts()) == ["Dusk", "Night", "Noon"]

    page.get_by_test_id("media-card").filter(has_text="Noon").get_by_test_id("select").check()
    page.get_by_test_id("remove-selected").click()
    assert page.get_by_test_id("album-count").inner_text() == "2"
    assert page.get_by_test_id("media-card").count() == 2
    assert {item.id for item in items} == {i.id for i in MediaItem.by_owner.query(str(alice.pk))}  # media stay
