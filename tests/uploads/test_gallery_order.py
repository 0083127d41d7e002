"""The gallery by upload (the default) or by date taken, under month headings, one Query per page either way."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from tests.search.helpers import dynamo_calls
from tests.search.test_query import fake_item
from uploads import selectors


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def months(html: str) -> list[str]:
    return re.findall(r'data-testid="month">([^<]+)<', html)


def card_ids(html: str) -> list[str]:
    return re.findall(r'href="/media/([0-9a-f]{32})/" data-live-preview', html)


@override_settings(MEDIA_PAGE_SIZE=2)
def test_by_date_taken_pages_newer_and_older_with_one_query_each(alice_client, alice, local_aws):
    owner = str(alice.pk)
    taken = [datetime(2026, 12, 5, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)]
    items = [fake_item(owner, n, name=f"p{n}", shot_at=moment) for n, moment in enumerate(taken)]
    start = len(local_aws.recorder.calls)
    first = alice_client.get("/?sort=taken").content.decode()
    # One Query for the page; the other is the selection toolbar's list of albums (one Query on its own table).
    assert dynamo_calls(local_aws, start).count("Query") == 2
    queried = [str(c.actions) for c in local_aws.recorder.calls[start:] if c.operation == "Query"]
    assert sum("media/index/by-shot" in actions for actions in queried) == 1
    assert sum("albums/index/by-owner" in actions for actions in queried) == 1
    assert card_ids(first) == [items[0].id, items[1].id]
    assert months(first) == ["December 2026", "November 2026"]
    older = re.search(r'href="\?sort=taken&amp;cursor=([^"]+)" data-testid="next-page"', first)[1]
    second = alice_client.get(f"/?sort=taken&cursor={older}").content.decode()
    assert card_ids(second) == [items[2].id] and months(second) == ["July 2025"]
    newer = re.search(r'href="\?sort=taken&amp;before=([^"]+)" data-testid="newer-page"', second)[1]
    assert card_ids(alice_client.get(f"/?sort=taken&before={newer}").content.decode()) == card_ids(first)


def test_by_upload_stays_the_default_with_months_of_the_upload(alice_client, alice):
    owner = str(alice.pk)
    old_photo = fake_item(owner, 1, name="old", shot_at=datetime(2019, 3, 1, tzinfo=UTC))
    html = alice_client.get("/").content.decode()
    assert card_ids(html) == [old_photo.id]
    assert months(html) == [f"{old_photo.created_at:%B %Y}"]  # uploaded now, taken in 2019
    assert 'aria-current="true" data-testid="sort-upload"' in html


def test_a_cursor_of_one_order_is_refused_by_the_other(alice_client, alice):
    owner = str(alice.pk)
    items = [
        fake_item(owner, n, name="x", shot_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n)) for n in (1, 2)
    ]
    cursor = selectors.item_cursor(items[0], "upload")
    response = alice_client.get("/", {"sort": "taken", "cursor": cursor})
    assert response.status_code == 302  # back, with the message
    assert alice_client.get("/", {"sort": "upload", "cursor": cursor}).status_code == 200


def test_months_group_consecutive_cards():
    class Item:
        def __init__(self, moment):
            self.created_at = self.sort_date = moment

    cards = [{"item": Item(datetime(2026, m, d, tzinfo=UTC))} for m, d in ((12, 9), (12, 1), (11, 30), (10, 2))]
    grouped = selectors.by_month(cards, "taken")
    assert [(f"{g.start:%B %Y}", len(g.cards)) for g in grouped] == [
        ("December 2026", 2),
        ("November 2026", 1),
        ("October 2026", 1),
    ]
