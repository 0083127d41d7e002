"""Placeholders in Chromium (static/js/pictures.js): the colour and ThumbHash show until the picture has loaded,
in a box that keeps its size, so nothing moves when it arrives."""

import pytest
from django.conf import settings
from PIL import Image, ImageDraw

from tests.conftest import sign_in
from tests.images import encoded
from tests.uploads.test_processing import process, uploaded_item
from uploads.models import MediaItem, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ready_photo(alice) -> MediaItem:
    im = Image.new("RGB", (1600, 1000), (20, 90, 160))
    ImageDraw.Draw(im).ellipse((300, 200, 1300, 900), fill=(240, 200, 40))
    item = uploaded_item(encoded(im, "JPEG").getvalue())
    item.update(actions=[MediaItem.owner_id.set(str(alice.pk))])  # alice's, with alice's renditions prefix below
    assert process(item) == Status.READY
    return MediaItem.get(item.id)


class HeldRenditions:
    """Rendition requests wait until released: a slow network, made exact."""

    def __init__(self, page) -> None:
        self.held, self.released = [], False
        page.route(lambda url: settings.RENDITIONS_BUCKET in url, self._hold)

    def _hold(self, route) -> None:
        route.continue_() if self.released else self.held.append(route)

    def release(self) -> None:
        self.released = True
        for route in self.held:
            route.continue_()


def rgb(color: str) -> str:
    return "rgb({}, {}, {})".format(*(int(color[i : i + 2], 16) for i in (1, 3, 5)))


@pytest.mark.parametrize(("where", "selector"), [("gallery", "[data-testid=media-card]"), ("detail", ".preview")])
def test_the_placeholder_shows_before_the_picture_and_nothing_moves_when_it_loads(
    page, alice, ready_photo, where, selector
):
    sign_in(page)
    held = HeldRenditions(page)
    page.goto("/" if where == "gallery" else f"/media/{ready_photo.id}/", wait_until="domcontentloaded")
    box = page.locator(selector)
    placeholder = box.get_by_test_id("placeholder")
    placeholder.wait_for()
    img = box.locator("img")
    assert img.evaluate("img => img.naturalWidth") == 0 and held.held, "the picture is held back"
    assert box.locator(".frame").evaluate("f => getComputedStyle(f).backgroundColor") == rgb(ready_photo.color)
    assert placeholder.evaluate("c => c.width > 0 && c.getBoundingClientRect().width > 0")
    before = img.bounding_box()
    assert before["width"] > 100 and before["height"] > 50

    held.release()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert placeholder.count() == 0
    assert img.bounding_box() == before


@pytest.mark.parametrize(
    ("viewport", "scale", "where", "picked"),
    [
        ({"width": 1280, "height": 800}, 1, "gallery", "thumb"),
        ({"width": 390, "height": 844}, 3, "gallery", "medium"),  # a phone's tile at 3x needs more than 320 px
        ({"width": 1280, "height": 800}, 1, "detail", "medium"),
        ({"width": 1280, "height": 800}, 2, "detail", "large"),
    ],
)
def test_screens_pick_the_rendition_their_size_and_density_need(
    browser, live_server, alice, ready_photo, viewport, scale, where, picked
):
    context = browser.new_context(base_url=live_server.url, viewport=viewport, device_scale_factor=scale)
    page = context.new_page()
    try:
        sign_in(page)
        page.goto("/" if where == "gallery" else f"/media/{ready_photo.id}/")
        img = page.locator("[data-testid=media-card] img" if where == "gallery" else ".preview img")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
        assert f"/{picked}.webp?" in img.evaluate("img => img.currentSrc")  # WebP from <picture>'s <source>
    finally:
        context.close()
