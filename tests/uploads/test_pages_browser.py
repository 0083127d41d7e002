import io
import time

import pytest
from PIL import ExifTags, Image, ImageDraw

from tests.conftest import jpeg_bytes, sign_in
from tests.images import heic
from uploads.models import MediaItem, Status

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


def test_an_iphone_heic_the_browser_gives_no_type_is_uploaded_and_its_thumbnail_shows_upright(
    signed_in_page, celery_worker
):
    # Stored as the sensor saw it, turned by irot and by the EXIF alike, as an iPhone writes it: red must end up
    # on the left. Chrome on Windows declares no type for a .heic file: "".
    upright = Image.new("RGB", (1200, 900), "blue")
    ImageDraw.Draw(upright).rectangle((0, 0, 599, 899), fill="red")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = heic(upright.transpose(Image.Transpose.ROTATE_90), exif).getvalue()
    page = signed_in_page
    page.goto("/upload/")
    page.fill("input[name=name]", "From my phone")
    # Playwright's set_input_files names a type itself, so the file is made in the page, without one, and dropped.
    drop_untyped = """([name, bytes]) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], name, { type: "" }));
        document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
    }"""
    page.evaluate(drop_untyped, ["IMG_0042.HEIC", list(data)])
    page.click("#upload-button")
    page.wait_for_url("**/uploaded/")
    assert "image/heic" in page.get_by_test_id("confirmation").inner_text()

    media_id = page.url.rstrip("/").split("/")[-2]  # /media/<id>/uploaded/
    deadline = time.monotonic() + 60
    while (item := MediaItem.get(media_id)).status != Status.READY:
        assert time.monotonic() < deadline and item.status != Status.REJECTED, (item.status, item.reason)
        time.sleep(0.3)
    assert (item.declared_type, item.detected_type, item.width, item.height) == ("image/heic", "image/heic", 1200, 900)

    page.goto("/")
    thumbnail = page.get_by_test_id("media-card").first.locator("img")
    thumbnail.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    shown = Image.open(io.BytesIO(page.request.get(thumbnail.evaluate("img => img.currentSrc")).body()))
    assert shown.size == (320, 320)  # the thumb (naturalWidth is the srcset's sizes, not the file's width)
    assert shown.getpixel((40, 160))[0] > 200 > shown.getpixel((280, 160))[0]  # red left, blue right: upright
