import pytest

from tests.conftest import jpeg_bytes, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in_page(page, alice, live_server):
    sign_in(page)
    return page


def test_upload_a_real_image_with_progress_then_see_it_in_the_gallery(signed_in_page, tmp_path):
    page = signed_in_page
    photo = tmp_path / "sunset.jpg"
    photo.write_bytes(jpeg_bytes(1600, 1200, "orange"))
    page.goto("/upload/")
    page.fill("input[name=name]", "Sunset")
    page.fill("textarea[name=caption]", "Over the bay")
    page.set_input_files("input[type=file]", str(photo))
    page.click("#upload-button")

    page.wait_for_url("**/uploaded/")
    confirmation = page.get_by_test_id("confirmation").inner_text()
    for expected in ("Uploaded", "Sunset", "Over the bay", "sunset.jpg", "image/jpeg", f"{photo.stat().st_size} bytes"):
        assert expected in confirmation
    assert page.get_by_test_id("download-link").is_visible()

    page.goto("/")
    cards = page.get_by_test_id("media-card")
    assert cards.count() == 1
    assert "Sunset" in cards.first.inner_text()


def test_several_files_at_once_each_reach_100_percent(signed_in_page, tmp_path):
    page = signed_in_page
    photos = [tmp_path / "big.jpg", tmp_path / "small.jpg"]
    photos[0].write_bytes(jpeg_bytes(3000, 2000, "navy"))
    photos[1].write_bytes(jpeg_bytes(300, 200, "olive"))
    page.goto("/upload/")
    page.set_input_files("input[type=file]", [str(p) for p in photos])
    page.click("#upload-button")
    texts = page.get_by_test_id("progress-text")
    texts.nth(1).filter(has_text="Done.").wait_for()
    assert [texts.nth(i).inner_text() for i in range(2)] == ["Done.", "Done."]
    assert [page.get_by_test_id("progress").nth(i).get_attribute("value") for i in range(2)] == ["100", "100"]
    page.goto("/")
    assert page.get_by_test_id("media-card").count() == 2


def test_a_refused_type_is_explained_in_the_page(signed_in_page, tmp_path):
    page = signed_in_page
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    page.goto("/upload/")
    page.fill("input[name=name]", "Notes")
    page.set_input_files("input[type=file]", str(notes))
    page.click("#upload-button")
    assert "text/plain are not accepted" in page.locator("#upload-list").inner_text()
