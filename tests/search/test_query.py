"""Searches answer in a bounded number of DynamoDB calls, page by page, and only ever with the caller's items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from search import index, query
from search.query import Search, search
from tests.search.helpers import dynamo_calls, ready_item
from uploads.models import MediaItem, Status


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def fake_item(owner: str, n: int, *, name: str, shot_at: datetime, status: str = Status.READY, camera=None):
    """An item written straight to the table and indexed, as processing leaves it (fast: no files)."""
    item = MediaItem(
        f"{n:032x}",
        owner_id=owner,
        name=name,
        file_name=f"file{n}.jpg",
        object_key=f"uploads/{owner}/{n:032x}/original.jpg",
        declared_type="image/jpeg",
        detected_type="image/jpeg",
        size=1,
        status=status,
        shot_at=shot_at,
        camera=camera,
        processed_at=shot_at,
    )
    item.save()
    index.index(item)
    return item


def ids(page) -> list[str]:
    return [item.id for item in page.items]


DAY = datetime(2026, 6, 1, tzinfo=UTC)


def test_a_search_of_two_words_is_two_queries_and_one_batch_get(alice, local_aws):
    owner = str(alice.pk)
    for n in range(5):
        fake_item(owner, n, name=f"sunset beach {n}", shot_at=DAY + timedelta(days=n))
    fake_item(owner, 9, name="sunset mountain", shot_at=DAY)
    start = len(local_aws.recorder.calls)
    page = search(Search(owner_id=owner, words=("sun", "beach")))
    assert ids(page) == [f"{n:032x}" for n in (4, 3, 2, 1, 0)]  # newest taken first
    assert dynamo_calls(local_aws, start) == ["Query", "Query", "BatchGetItem"]
    assert page.cursor is None and page.too_broad is None


def test_words_a_longer_word_implies_are_not_queried():
    assert query.query_words("Sun sunset SUNSET beach") == ["sunset", "beach"]


def test_nothing_matching_the_first_word_stops_before_the_others(alice, local_aws):
    fake_item(str(alice.pk), 1, name="beach", shot_at=DAY)
    start = len(local_aws.recorder.calls)
    assert search(Search(owner_id=str(alice.pk), words=("beach", "zebras"))).items == []
    assert dynamo_calls(local_aws, start) == ["Query"]  # "zebras" first (longer), nothing: done


@override_settings(MEDIA_PAGE_SIZE=3)
def test_results_page_with_a_cursor_and_every_page_costs_the_same(alice, local_aws):
    owner = str(alice.pk)
    for n in range(7):
        fake_item(owner, n, name="lake", shot_at=DAY + timedelta(hours=n))
    seen, cursor, pages = [], None, 0
    while True:
        start = len(local_aws.recorder.calls)
        page = search(Search(owner_id=owner, words=("lake",)), cursor)
        assert dynamo_calls(local_aws, start) == ["Query", "BatchGetItem"]
        seen += ids(page)
        pages += 1
        if not (cursor := page.cursor):
            break
    assert pages == 3 and seen == [f"{n:032x}" for n in reversed(range(7))]


@override_settings(MEDIA_PAGE_SIZE=2)
def test_a_page_fills_itself_past_items_that_are_not_ready(alice, local_aws):
    owner = str(alice.pk)
    for n in range(4):
        fake_item(owner, n, name="lake", shot_at=DAY + timedelta(hours=n), status="trashed" if n >= 2 else "ready")
    start = len(local_aws.recorder.calls)
    page = search(Search(owner_id=owner, words=("lake",)))
    assert ids(page) == [f"{n:032x}" for n in (1, 0)]
    assert dynamo_calls(local_aws, start) == ["Query", "BatchGetItem", "BatchGetItem"]


def test_filters_apply_to_word_searches_from_the_rows(alice, local_aws):
    owner = str(alice.pk)
    fake_item(owner, 1, name="dog", shot_at=datetime(2025, 12, 24, tzinfo=UTC), camera="Canon EOS R5")
    fake_item(owner, 2, name="dog", shot_at=datetime(2026, 1, 2, tzinfo=UTC), camera="Sony A7")
    found = search(Search(owner_id=owner, words=("dog",), camera="Sony A7"))
    assert ids(found) == [f"{2:032x}"]
    december = Search(owner_id=owner, words=("dog",), since=datetime(2025, 12, 1, tzinfo=UTC))
    assert ids(search(december)) == [f"{2:032x}", f"{1:032x}"]
    december = Search(owner_id=owner, words=("dog",), until=datetime(2026, 1, 1, tzinfo=UTC))
    assert ids(search(december)) == [f"{1:032x}"]
    assert search(Search(owner_id=owner, words=("dog",), family="video")).items == []


@override_settings(MEDIA_PAGE_SIZE=2)
def test_filters_alone_use_the_date_taken_index_with_the_range_as_key_condition(alice, local_aws):
    owner = str(alice.pk)
    for n in range(6):
        fake_item(owner, n, name=f"n{n}", shot_at=datetime(2026, 1, 1 + n, tzinfo=UTC))
    asked = Search(owner_id=owner, since=datetime(2026, 1, 2, tzinfo=UTC), until=datetime(2026, 1, 6, tzinfo=UTC))
    start = len(local_aws.recorder.calls)
    first = search(asked)
    assert ids(first) == [f"{4:032x}", f"{3:032x}"]
    assert dynamo_calls(local_aws, start) == ["Query"]
    second = search(asked, first.cursor)
    assert ids(second) == [f"{2:032x}", f"{1:032x}"]
    assert second.cursor is None  # the last page says so: no empty page after it


@override_settings(MEDIA_PAGE_SIZE=2)
def test_a_filtered_page_reads_a_bounded_number_of_times(alice, local_aws, monkeypatch):
    owner = str(alice.pk)
    monkeypatch.setattr(query, "READ_SIZE", 2)
    for n in range(12):
        fake_item(owner, n, name=f"n{n}", shot_at=DAY + timedelta(hours=n), camera="Rare" if n == 0 else None)
    start = len(local_aws.recorder.calls)
    page = search(Search(owner_id=owner, camera="Rare"))
    assert dynamo_calls(local_aws, start) == ["Query"] * query.READS_PER_PAGE
    assert page.items == [] and page.cursor  # the page says where to go on from
    rest = search(Search(owner_id=owner, camera="Rare"), page.cursor)
    assert ids(rest) == [f"{0:032x}"]


def test_a_word_matching_more_rows_than_a_search_reads_says_so(alice, monkeypatch):
    owner = str(alice.pk)
    monkeypatch.setattr(query, "ROWS_PER_WORD", 3)
    for n in range(5):
        fake_item(owner, n, name="common", shot_at=DAY)
    page = search(Search(owner_id=owner, words=("common",)))
    assert page.too_broad == "common" and len(page.items) == 3


def test_another_users_items_are_never_found(alice_client, alice, bob):
    mine = ready_item(alice_client, "Secret garden", make="Canon", model="EOS R5")
    assert search(Search(owner_id=str(bob.pk), words=("secret",))).items == []
    assert search(Search(owner_id=str(bob.pk), camera="Canon EOS R5")).items == []
    assert index.cameras(str(bob.pk)) == []
    assert ids(search(Search(owner_id=str(alice.pk), words=("secret",)))) == [mine.id]


def test_a_row_pointing_at_someone_elses_item_is_dropped(alice, bob):
    """Even a row that should not exist (a bug, a hand edit) cannot show bob's item to alice."""
    theirs = fake_item(str(bob.pk), 1, name="private", shot_at=DAY)
    theirs.owner_id = str(alice.pk)
    index.index(theirs)  # alice's partition now has a row naming bob's item
    assert search(Search(owner_id=str(alice.pk), words=("private",))).items == []


@pytest.mark.parametrize("cursor", ["x", "wnot-base64!", "w" + "e30=", "dW10=", "d" + "eyJpZCI6MX0="])
def test_cursors_not_handed_out_are_refused(alice, cursor):
    with pytest.raises(query.BadCursor):
        search(Search(owner_id=str(alice.pk), words=("any",)) if cursor[0] == "w" else Search(owner_id="1"), cursor)


def test_a_by_date_cursor_of_another_owner_is_refused(alice, bob):
    import base64
    import json

    key = {"id": {"S": "0" * 32}, "owner_id": {"S": str(bob.pk)}, "shot_at": {"S": "2026-01-01T00:00:00.000000+0000"}}
    cursor = "d" + base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
    with pytest.raises(query.BadCursor):
        search(Search(owner_id=str(alice.pk), family="image"), cursor)


def test_a_broad_word_beside_a_narrow_one_is_checked_on_the_items_so_nothing_is_missed(alice, monkeypatch, local_aws):
    owner = str(alice.pk)
    monkeypatch.setattr(query, "ROWS_PER_WORD", 3)
    for n in range(6):  # every item is an "img"; the rows of the last ones are past what a word may read
        fake_item(owner, n, name=f"img {'rare' if n == 5 else 'plain'}", shot_at=DAY + timedelta(hours=n))
    start = len(local_aws.recorder.calls)
    page = search(Search(owner_id=owner, words=("img", "rare")))
    assert ids(page) == [f"{5:032x}"] and page.too_broad is None
    assert dynamo_calls(local_aws, start) == ["Query", "Query", "BatchGetItem"]
