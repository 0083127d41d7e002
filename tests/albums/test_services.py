"""Albums' records: memberships and counts stay true, pages are one Query and one BatchGet, races end well."""

from __future__ import annotations

import threading

import pytest

from albums import lifecycle, services
from albums.models import Album, Membership, Order
from mediahub.errors import NotFound
from uploads import services as media_services
from uploads.models import MediaItem, Status

pytestmark = pytest.mark.django_db


def owner(user) -> str:
    return str(user.pk)


def members(album: Album) -> set[str]:
    return {row.media_id for row in Membership.query(album.id, consistent_read=True)}


def count(album: Album) -> int:
    return int(Album.get(album.id, consistent_read=True).item_count)


def test_adding_items_writes_a_row_each_counts_them_and_makes_the_first_the_cover(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Summer")
    first, second = library(alice, "one"), library(alice, "two")
    outcome = services.add_items(owner_id=owner(alice), album_id=album.id, ids=[first.id, second.id])
    assert outcome.done == [first.id, second.id] and outcome.unchanged == []
    assert members(album) == {first.id, second.id}
    assert count(album) == 2
    assert Album.get(album.id).cover_id == first.id


def test_adding_the_same_item_twice_is_reported_and_counted_once(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Summer")
    item = library(alice)
    services.add_items(owner_id=owner(alice), album_id=album.id, ids=[item.id])
    again = services.add_items(owner_id=owner(alice), album_id=album.id, ids=[item.id, item.id])
    assert again.done == [] and again.unchanged == [item.id]
    assert count(album) == 1


def test_two_concurrent_adds_of_one_item_write_one_row_and_count_one(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Summer")
    item = library(alice)
    results, barrier = [], threading.Barrier(4)

    def add() -> None:
        barrier.wait()
        results.append(services.add_items(owner_id=owner(alice), album_id=album.id, ids=[item.id]))

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r.done) for r in results) == [0, 0, 0, 1]
    assert members(album) == {item.id} and count(album) == 1


def test_an_item_can_be_in_many_albums(alice, library):
    item = library(alice)
    albums = [services.album_create(owner_id=owner(alice), name=f"Album {n}") for n in range(3)]
    for album in albums:
        services.add_items(owner_id=owner(alice), album_id=album.id, ids=[item.id])
    assert {row.album_id for row in Membership.by_media.query(item.id)} == {a.id for a in albums}


def test_removing_takes_rows_out_and_a_missing_one_is_harmless(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Summer")
    kept, gone = library(alice, "kept"), library(alice, "gone")
    services.add_items(owner_id=owner(alice), album_id=album.id, ids=[kept.id, gone.id])
    outcome = services.remove_items(owner_id=owner(alice), album_id=album.id, ids=[gone.id, library(alice).id])
    assert outcome.done == [gone.id] and len(outcome.unchanged) == 1
    assert services.remove_items(owner_id=owner(alice), album_id=album.id, ids=[gone.id]).unchanged == [gone.id]
    assert members(album) == {kept.id} and count(album) == 1
    assert MediaItem.get(gone.id).status == Status.READY  # out of the album, not out of the library


def test_removing_the_cover_clears_it(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Summer")
    first, second = library(alice, "one"), library(alice, "two")
    services.add_items(owner_id=owner(alice), album_id=album.id, ids=[first.id, second.id])
    services.choose_cover(owner_id=owner(alice), album_id=album.id, media_id=second.id)
    services.remove_items(owner_id=owner(alice), album_id=album.id, ids=[second.id])
    assert Album.get(album.id).cover_id is None


def test_a_cover_must_be_one_of_the_albums_items(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Summer")
    outsider = library(alice)
    with pytest.raises(NotFound):
        services.choose_cover(owner_id=owner(alice), album_id=album.id, media_id=outsider.id)
    assert Album.get(album.id).cover_id is None


def test_deleting_an_album_removes_its_rows_and_links_but_never_its_media(alice, library):
    from datetime import timedelta

    from albums import sharing
    from albums.models import AlbumLink
    from uploads.models import utcnow

    album = services.album_create(owner_id=owner(alice), name="Summer")
    items = [library(alice, f"item {n}") for n in range(30)]
    services.add_items(owner_id=owner(alice), album_id=album.id, ids=[i.id for i in items])
    sharing.share_create(
        owner_id=owner(alice), album_id=album.id, expires_at=utcnow() + timedelta(days=1), downloads=False
    )
    services.album_delete(owner_id=owner(alice), album_id=album.id)
    assert not Album.count(album.id)
    assert members(album) == set()
    assert list(AlbumLink.by_album.query(album.id)) == []
    assert all(MediaItem.get(i.id).status == Status.READY for i in items)
    with pytest.raises(NotFound):
        services.get_album(owner_id=owner(alice), album_id=album.id)


def test_an_add_racing_an_album_delete_never_leaves_a_row_behind(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Summer")
    item = library(alice)
    lifecycle.start_delete(album, owner_id=owner(alice))  # the delete wins the race to the album record first
    with pytest.raises(lifecycle.Lost):
        lifecycle.add(Album.get(album.id), item, taken="2024-01-01T00:00:00")
    assert members(album) == set()
    services.delete_album(Album.get(album.id))  # a second delete finishes the first's work
    assert not Album.count(album.id)


def test_deleting_an_item_for_good_removes_it_from_every_album(alice, library):
    item, other = library(alice, "deleted"), library(alice, "kept")
    albums = [services.album_create(owner_id=owner(alice), name=f"Album {n}") for n in range(2)]
    for album in albums:
        services.add_items(owner_id=owner(alice), album_id=album.id, ids=[item.id, other.id])
    media_services.delete_item(item)
    for album in albums:
        assert members(album) == {other.id} and count(album) == 1
        assert Album.get(album.id).cover_id is None  # the cover was the deleted item
    assert services.forget_media(item) == 0  # twice is harmless
    assert services.forget_media(library(alice)) == 0  # so is an item never in an album


def test_an_add_racing_an_item_delete_loses_and_changes_nothing(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Summer")
    item = library(alice)
    from uploads import lifecycle as media_lifecycle

    media_lifecycle.start_delete(item)  # the delete started between the add's read and its write
    with pytest.raises(lifecycle.Lost):
        lifecycle.add(album, item, taken="2024-01-01T00:00:00")
    assert members(album) == set() and count(album) == 0


def test_a_row_whose_item_vanished_is_forgotten_by_the_page_that_meets_it(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Summer")
    item, other = library(alice), library(alice)
    services.add_items(owner_id=owner(alice), album_id=album.id, ids=[item.id, other.id])
    item.delete()  # as if the by-media index had not shown the row when the item was deleted
    page = services.album_page(Album.get(album.id), cursor=None)
    assert [i.id for i in page.items] == [other.id]
    assert members(album) == {other.id} and count(album) == 1


def test_the_page_shows_ready_items_only_and_they_come_back_when_ready_again(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Summer")
    shown, hidden = library(alice, "shown"), library(alice, "hidden")
    services.add_items(owner_id=owner(alice), album_id=album.id, ids=[shown.id, hidden.id])
    hidden.update(actions=[MediaItem.status.set("trashed")])  # the trash's state: not ready
    assert [i.id for i in services.album_page(Album.get(album.id), cursor=None).items] == [shown.id]
    hidden.update(actions=[MediaItem.status.set(Status.READY)])  # restored
    assert len(services.album_page(Album.get(album.id), cursor=None).items) == 2


def test_orders_by_date_taken_falling_back_to_the_upload_or_by_when_added(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Trips")
    old = library(alice, "old", taken="2019-07-01T10:00:00")
    new = library(alice, "new", taken="2024-07-01T10:00:00")
    untaken = library(alice, "no exif")  # uploaded an hour ago: newer than both
    for item in (new, untaken, old):  # added in this order
        services.add_items(owner_id=owner(alice), album_id=album.id, ids=[item.id])
    by_taken = services.album_page(Album.get(album.id), cursor=None).items
    assert [i.name for i in by_taken] == ["no exif", "new", "old"]
    services.album_update(owner_id=owner(alice), album_id=album.id, name="Trips", description="", order=Order.ADDED)
    by_added = services.album_page(Album.get(album.id), cursor=None).items
    assert [i.name for i in by_added] == ["old", "no exif", "new"]


def test_an_album_page_is_one_query_and_one_batch_get(alice, library, settings, monkeypatch):
    settings.MEDIA_PAGE_SIZE = 5
    album = services.album_create(owner_id=owner(alice), name="Big")
    items = [library(alice, f"item {n}") for n in range(12)]
    services.add_items(owner_id=owner(alice), album_id=album.id, ids=[i.id for i in items])
    album = Album.get(album.id)
    calls = []
    from pynamodb.connection.base import Connection

    original = Connection.dispatch

    def counting(self, operation_name, operation_kwargs):
        calls.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", counting)
    seen, cursor = [], None
    for _ in range(3):
        calls.clear()
        page = services.album_page(album, cursor=cursor)
        assert calls == ["Query", "BatchGetItem"]
        seen += [i.id for i in page.items]
        cursor = page.next_cursor
    assert sorted(seen) == sorted(i.id for i in items) and cursor is None


def test_someone_elses_album_is_unknown_and_their_items_refuse_the_whole_add(alice, bob, library):
    album = services.album_create(owner_id=owner(alice), name="Alice's")
    mine, theirs = library(alice), library(bob)
    with pytest.raises(NotFound):
        services.get_album(owner_id=owner(bob), album_id=album.id)
    with pytest.raises(NotFound):
        services.add_items(owner_id=owner(bob), album_id=album.id, ids=[theirs.id])
    with pytest.raises(services.ForeignIds) as refused:
        services.add_items(owner_id=owner(alice), album_id=album.id, ids=[mine.id, theirs.id])
    assert refused.value.ids == [theirs.id]
    assert members(album) == set() and count(album) == 0


def test_more_ids_than_the_bulk_maximum_are_refused(alice, library, settings):
    settings.BULK_MAX_ITEMS = 3
    album = services.album_create(owner_id=owner(alice), name="Summer")
    items = [library(alice) for _ in range(4)]
    with pytest.raises(services.BadIds, match="at most 3"):
        services.add_items(owner_id=owner(alice), album_id=album.id, ids=[i.id for i in items])
    assert count(album) == 0


def test_removing_an_item_while_it_is_deleted_for_good_counts_it_out_once(alice, library):
    album = services.album_create(owner_id=owner(alice), name="Summer")
    items = [library(alice) for _ in range(6)]
    services.add_items(owner_id=owner(alice), album_id=album.id, ids=[i.id for i in items])
    barrier = threading.Barrier(2)

    def remove() -> None:
        barrier.wait()
        services.remove_items(owner_id=owner(alice), album_id=album.id, ids=[i.id for i in items])

    def delete() -> None:
        barrier.wait()
        for item in items:
            media_services.delete_item(item)

    threads = [threading.Thread(target=remove), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert members(album) == set() and count(album) == 0  # each row counted out by exactly one of the two


def test_account_deletion_removes_the_albums(alice, library):
    from profiles.services import delete_account_data

    album = services.album_create(owner_id=owner(alice), name="Summer")
    services.add_items(owner_id=owner(alice), album_id=album.id, ids=[library(alice).id])
    delete_account_data(owner(alice))
    assert not Album.count(album.id) and members(album) == set()
