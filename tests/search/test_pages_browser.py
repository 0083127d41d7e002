"""Search and the date-taken gallery in Chromium, as a person uses them."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import sign_in
from tests.search.helpers import ready_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def library(alice) -> dict[str, str]:
    client = Client()
    client.force_login(alice)
    made = {
        "sunset": ready_item(client, "Sunset at the pier", taken="2024:07:14 19:30:00", make="Canon", model="EOS R5"),
        "snow": ready_item(client, "Snowy street", taken="2023:12:24 09:00:00"),
        "summer": ready_item(client, "Summer garden", taken="2024:06:02 12:00:00"),
    }
    return {name: item.id for name, item in made.items()}


def result_ids(page) -> list[str]:
    cards = page.get_by_test_id("search-results").locator("[data-testid=media-card] a[data-live-preview]")
    return [href.split("/")[2] for href in cards.evaluate_all("links => links.map(a => a.getAttribute('href'))")]


def test_a_word_prefix_typed_in_the_header_finds_the_item(page, library):
    sign_in(page)
    page.get_by_test_id("site-search").fill("sun")
    page.get_by_test_id("site-search").press("Enter")
    page.get_by_test_id("search-results").wait_for()
    assert result_ids(page) == [library["sunset"]]
    page.get_by_test_id("search-camera").select_option("Canon EOS R5")
    page.get_by_role("button", name="Search", exact=True).last.click()
    page.get_by_test_id("search-results").wait_for()
    assert result_ids(page) == [library["sunset"]]


def test_a_date_range_from_the_page_finds_what_was_taken_then(page, library):
    sign_in(page)
    page.goto("/search/")
    page.get_by_test_id("search-from").fill("2024-06-01")
    page.get_by_test_id("search-to").fill("2024-07-14")
    page.get_by_test_id("search-form").get_by_role("button", name="Search").click()
    page.get_by_test_id("search-results").wait_for()
    assert result_ids(page) == [library["sunset"], library["summer"]]  # newest taken first; the 14th whole
    page.get_by_test_id("search-from").fill("2024-08-01")
    page.get_by_test_id("search-form").get_by_role("button", name="Search").click()
    assert "is before the start date" in page.get_by_test_id("search-errors").inner_text()


def test_the_gallery_by_date_taken_has_month_headings(page, library):
    sign_in(page)
    page.goto("/")
    page.get_by_test_id("sort-taken").click()
    page.wait_for_url("**/?sort=taken")
    assert page.get_by_test_id("month").all_inner_texts() == ["July 2024", "June 2024", "December 2023"]
    names = page.get_by_test_id("media-card").locator(".meta > a").all_inner_texts()
    assert names == ["Sunset at the pier", "Summer garden", "Snowy street"]
