import io

import pytest
from PIL import Image

from tests import media
from uploads import pdf
from uploads.imaging import BadMedia


def preview(data: bytes, **options) -> pdf.DocumentResult:
    return pdf.preview(io.BytesIO(data), **options)


def test_the_first_page_is_the_preview_with_the_page_count():
    result = preview(media.pdf(pages=3))
    assert (result.pages, result.width, result.height) == (3, 595, 842)
    medium = next(r for r in result.preview if r.name == "medium" and r.ext == "jpg")
    assert (medium.width, medium.height) == (724, 1024)
    picture = Image.open(io.BytesIO(medium.data))
    assert picture.getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=3)  # the page is white
    # The dark square drawn from (100, 100) to (400, 400) points, the origin bottom left.
    square = picture.getpixel((round(250 * 1024 / 842), round((842 - 250) * 1024 / 842)))
    assert max(square) < 180


def test_a_huge_page_is_rendered_at_the_largest_renditions_size():
    result = preview(media.pdf(page_size=(14_000, 7_000)))
    large = next(r for r in result.preview if r.name == "large")
    assert (large.width, large.height) == (2048, 1024)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (media.encrypted_pdf(), "protected by a password"),
        (b"%PDF-1.7\n" + b"\0garbage" * 100, "not a valid PDF"),
        (media.pdf()[:200], "not a valid PDF"),
        (media.pdf(pages=0), "not a valid PDF"),
        (media.pdf(pages=pdf.MAX_PAGES + 1), "10,001 pages; the limit is 10,000"),
        (media.pdf(page_size=(20_000, 100)), "at most 200 inches a side"),
    ],
    ids=["encrypted", "damaged", "truncated", "no-pages", "too-many-pages", "page-too-large"],
)
def test_pdfs_that_cannot_be_previewed_are_refused_with_a_reason(data, message):
    with pytest.raises(BadMedia, match=message):
        preview(data)


def test_a_page_that_takes_too_long_to_render_is_abandoned():
    slow = media.pdf(content=b"0 0 1 1 re f\n" * 100_000)
    with pytest.raises(BadMedia, match="took too long to render"):
        preview(slow, seconds=0.01)
