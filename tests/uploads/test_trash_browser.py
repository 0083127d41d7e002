"""The trash, favourites and the gallery's selection in Chromium: as a person clicks, types and touches."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import sign_in
from uploads.models import MediaItem, Status, utcnow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def library(owner_id: str, count: int) -> list[str]:
    """`count` ready items of the owner's (no renditions: the cards show type icons), newest last."""
    ids = []
    with MediaItem.batch_write() as batch:
        for n in range(count):
            media_id = uuid.uuid4().hex
            ids.append(media_id)
            batch.save(
                MediaItem(
                    media_id,
                    owner_id=owner_id,
                    name=f"Photo {n:02}",
                    file_name=f"photo-{n:02}.jpg",
                    object_key=f"uploads/{owner_id}/{media_id}/original.jpg",
                    declared_type="image/jpeg",
                    detected_type="image/jpeg",
                    size=1000,
                    status=Status.READY,
                    counted=True,
                    created_at=utcnow(),
                )
            )
    return ids


@pytest.fixture
def signed_in(page, alice):
    sign_in(page)
    return page


def statuses(ids: list[str]) -> set[str]:
    return {item.status for item in MediaItem.batch_get(ids, consistent_read=True)}


def test_trash_and_restore_from_the_pages(signed_in, alice):
    page = signed_in
    [media_id] = library(str(alice.pk), 1)
    page.goto(f"/media/{media_id}/")
    page.get_by_test_id("move-to-trash").click()
    page.get_by_text("Moved to the trash.").wait_for()
    assert page.get_by_test_id("media-card").count() == 0
    page.get_by_test_id("trash-link").click()
    card = page.get_by_test_id("media-card")
    assert "Photo 00" in card.inner_text() and "30 days left" in card.inner_text()
    card.get_by_test_id("restore").click()
    page.get_by_text("Restored.").wait_for()
    assert statuses([media_id]) == {Status.READY}

    page.goto(f"/media/{media_id}/")
    page.get_by_test_id("move-to-trash").click()
    page.goto("/trash/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("delete-for-good").click()
    page.get_by_text("Deleted for good, with all its files.").wait_for()
    assert MediaItem.count(media_id, consistent_read=True) == 0


def test_a_bulk_move_of_50_items_to_the_trash_by_shift_click_then_restore_with_select_all(signed_in, alice, settings):
    settings.MEDIA_PAGE_SIZE = 60
    page = signed_in
    ids = library(str(alice.pk), 50)
    page.goto("/")
    boxes = page.get_by_test_id("select")
    assert boxes.count() == 50
    assert page.get_by_test_id("bulk-trash").is_disabled()  # nothing selected yet
    boxes.first.click()
    boxes.last.click(modifiers=["Shift"])
    assert page.get_by_test_id("selection-count").inner_text() == "50 selected"
    page.get_by_test_id("bulk-trash").click()
    page.get_by_text("50 items moved to the trash.").wait_for()
    assert statuses(ids) == {Status.TRASHED}
    assert page.get_by_test_id("media-card").count() == 0

    page.goto("/trash/")
    page.get_by_test_id("select-all").click()
    assert page.get_by_test_id("selection-count").inner_text() == "50 selected"
    page.get_by_test_id("bulk-restore").click()
    page.get_by_text("50 items restored.").wait_for()
    assert statuses(ids) == {Status.READY}


def test_the_keyboard_selects_extends_and_clears(signed_in, alice):
    page = signed_in
    library(str(alice.pk), 6)
    page.goto("/")
    count = page.get_by_test_id("selection-count")
    page.get_by_test_id("select").first.focus()
    page.keyboard.press("Space")
    assert count.inner_text() == "1 selected"
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    assert count.inner_text() == "3 selected"
    page.get_by_test_id("select").nth(5).focus()
    page.keyboard.press("Shift+Space")  # the range from the last one: cards 3 to 6
    assert count.inner_text() == "6 selected"
    page.keyboard.press("Escape")
    assert count.inner_text() == "0 selected"


def test_a_long_press_starts_selecting_and_taps_then_toggle(signed_in, alice):
    page = signed_in
    library(str(alice.pk), 3)
    page.goto("/")
    cards, count = page.get_by_test_id("media-card"), page.get_by_test_id("selection-count")
    cards.nth(0).locator("a").first.dispatch_event("touchstart")
    page.wait_for_timeout(700)
    cards.nth(0).locator("a").first.dispatch_event("touchend")
    cards.nth(0).locator("a").first.dispatch_event("click")  # the click that ends the press: not a second toggle
    assert count.inner_text() == "1 selected"
    cards.nth(2).locator("a").first.click()  # a tap in selection mode selects rather than opens
    assert count.inner_text() == "2 selected" and page.url.endswith("/")
    cards.nth(0).locator("a").first.click()
    assert count.inner_text() == "1 selected"


def test_the_favourite_toggle_works_without_a_reload_and_the_filter_shows_it(signed_in, alice):
    page = signed_in
    first, second = library(str(alice.pk), 2)
    page.goto("/")
    page.evaluate("window.notReloaded = true")
    button = page.locator(f'[data-id="{first}"]').get_by_test_id("favourite")
    button.click()
    page.locator(f'[data-id="{first}"] [data-favourite][aria-pressed="true"]').wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert MediaItem.get(first, consistent_read=True).favourite
    page.get_by_test_id("filter-favourites").click()
    assert [card.get_attribute("data-id") for card in page.get_by_test_id("media-card").all()] == [first]
    page.goto(f"/media/{second}/")
    page.evaluate("window.notReloaded = true")
    page.get_by_test_id("favourite").click()
    page.locator('[data-favourite][aria-pressed="true"]').wait_for()
    assert page.evaluate("window.notReloaded") is True and MediaItem.get(second, consistent_read=True).favourite
