"""The trash, favourites and bulk actions (uploads/trash.py): services, their races, the pages and the JSON API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings

from mediahub.aws import client as aws_client
from mediahub.errors import Conflict, NotFound
from tests.conftest import create_and_upload, jpeg_bytes, post_json
from tests.images import camera_jpeg
from tests.uploads.test_processing import during_store, fresh, process, rendition_keys, uploaded_item
from uploads import arrival, quota, selectors, services, trash
from uploads.models import MediaItem, Status, utcnow

pytestmark = pytest.mark.django_db


def ready(client, name: str = "n", data: bytes | None = None) -> str:
    body = create_and_upload(client, data or camera_jpeg().getvalue(), name=name)
    assert post_json(client, f"/api/media/{body['id']}/complete").status_code == 202
    process(MediaItem.get(body["id"]))
    return body["id"]


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def item_id(alice_client) -> str:
    return ready(alice_client, "Holiday")


# --- Services and races -------------------------------------------------------------------------------------------


def test_trash_remembers_the_state_and_restore_returns_to_it(alice, item_id):
    owner = str(alice.pk)
    assert trash.move_to_trash(owner_id=owner, media_id=item_id) == Status.TRASHED
    item = fresh(MediaItem(item_id))
    assert (item.status, item.trashed_from, item.trash_owner) == (Status.TRASHED, Status.READY, owner)
    assert timedelta(days=settings.TRASH_DAYS) - item.delete_at.__sub__(utcnow()) < timedelta(minutes=1)
    assert trash.restore(owner_id=owner, media_id=item_id) == Status.READY
    item = fresh(item)
    assert (item.status, item.trashed_from, item.trash_owner, item.delete_at, item.deletion_due) == (
        Status.READY,
        None,
        None,
        None,
        None,
    )
    assert item.renditions  # nothing was removed


def test_the_owners_own_earlier_deletion_date_is_kept_through_the_trash(alice_client, alice):
    body = create_and_upload(alice_client, jpeg_bytes(), deleteAfterDays=2)
    post_json(alice_client, f"/api/media/{body['id']}/complete")
    own = MediaItem.get(body["id"]).delete_at
    trash.move_to_trash(owner_id=str(alice.pk), media_id=body["id"])
    assert fresh(MediaItem(body["id"])).delete_at == own  # earlier than TRASH_DAYS: it still wins
    trash.restore(owner_id=str(alice.pk), media_id=body["id"])
    item = fresh(MediaItem(body["id"]))
    assert (item.delete_at, item.deletion_due, item.kept_delete_at) == (own, "due", None)


def test_a_double_trash_is_a_conflict_that_changes_nothing(alice, item_id):
    trash.move_to_trash(owner_id=str(alice.pk), media_id=item_id)
    before = fresh(MediaItem(item_id)).attribute_values
    with pytest.raises(Conflict, match="already in the trash"):
        trash.move_to_trash(owner_id=str(alice.pk), media_id=item_id)
    stale = MediaItem.get(item_id)
    stale.status, stale.trashed_from = Status.READY, None  # a second request that read it before the first wrote
    with pytest.raises(Conflict, match="already in the trash"):
        trash.trash_item(stale)
    assert fresh(MediaItem(item_id)).attribute_values == before


def test_restore_loses_to_a_purge_that_came_first_and_says_so(alice, item_id):
    trash.move_to_trash(owner_id=str(alice.pk), media_id=item_id)
    stale = MediaItem.get(item_id, consistent_read=True)
    trash.empty_trash(str(alice.pk))
    with pytest.raises(NotFound, match="deleted for good"):
        trash.restore_item(stale)
    with pytest.raises(NotFound):
        trash.restore(owner_id=str(alice.pk), media_id=item_id)
    assert MediaItem.count(item_id, consistent_read=True) == 0


def test_a_purge_that_read_the_trash_before_a_restore_leaves_the_restored_item_alone(alice, item_id, settings):
    trash.move_to_trash(owner_id=str(alice.pk), media_id=item_id)
    stale = MediaItem.get(item_id, consistent_read=True)  # what the sweep read on the by-deletion index
    stale.delete_at = utcnow() - timedelta(seconds=1)
    trash.restore(owner_id=str(alice.pk), media_id=item_id)
    assert services.delete_item(stale, still=trash.in_trash) is False
    due = lambda fresh_item: fresh_item.delete_at is not None and fresh_item.delete_at <= utcnow()  # noqa: E731
    assert services.delete_item(stale, still=due) is False
    assert fresh(MediaItem(item_id)).status == Status.READY
    assert rendition_keys(MediaItem.get(item_id))


def test_the_sweep_purges_the_trash_after_trash_days_and_gives_the_bytes_back(alice, item_id):
    owner = str(alice.pk)
    stored = quota.bytes_stored(owner)
    trash.move_to_trash(owner_id=owner, media_id=item_id)
    assert quota.bytes_stored(owner) == stored  # trashed bytes still count
    assert services.delete_expired() == 0
    MediaItem(item_id).update(actions=[MediaItem.delete_at.set(utcnow() - timedelta(seconds=1))])
    assert services.delete_expired() == 1
    assert MediaItem.count(item_id, consistent_read=True) == 0
    assert quota.bytes_stored(owner) == 0
    assert rendition_keys(MediaItem(item_id, owner_id=owner)) == []


def test_processing_that_finishes_on_a_trashed_item_keeps_it_trashed_with_its_renditions(monkeypatch):
    item = arrival.arrive(uploaded_item(camera_jpeg().getvalue()))
    during_store(monkeypatch, lambda: trash.trash_item(fresh(item)))
    assert process(item) == Status.READY
    done = fresh(item)
    assert (done.status, done.trashed_from) == (Status.TRASHED, Status.READY)
    assert done.renditions and len(rendition_keys(done)) == len(done.renditions) * 2
    assert trash.restore_item(done) == Status.READY
    assert fresh(item).renditions == done.renditions


def test_processing_that_rejects_a_trashed_item_keeps_it_trashed_and_gives_the_bytes_back(monkeypatch):
    item = arrival.arrive(uploaded_item(b"\xff\xd8\xff" + b"\0" * 997))  # starts like a JPEG, is not one
    trash.trash_item(fresh(item))
    assert quota.bytes_stored(item.owner_id) == 1000
    from uploads import lifecycle

    lifecycle.reject(item, Status.UPLOADED, "Not a picture.")
    done = fresh(item)
    assert (done.status, done.trashed_from, done.reason, done.counted) == (
        Status.TRASHED,
        Status.REJECTED,
        "Not a picture.",
        None,
    )
    assert quota.bytes_stored(item.owner_id) == 0


def test_an_item_trashed_before_processing_is_processed_once_restored(monkeypatch):
    from uploads import dispatch

    queued = []
    monkeypatch.setattr(dispatch, "enqueue", lambda key, force=False: queued.append(key))
    item = arrival.arrive(uploaded_item(camera_jpeg().getvalue()))
    trash.trash_item(fresh(item))
    assert process(item) == "duplicate"  # a trashed item is not processed
    assert trash.restore_item(fresh(item)) == Status.UPLOADED
    assert queued == [item.object_key]  # handed to processing again
    assert process(item) == Status.READY


def test_a_pending_upload_is_deleted_at_once_not_trashed(alice_client, alice):
    payload = {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 5, "name": "n"}
    body = post_json(alice_client, "/api/media/", payload)
    media_id = body.json()["id"]
    assert trash.move_to_trash(owner_id=str(alice.pk), media_id=media_id) == trash.DELETED
    assert MediaItem.count(media_id, consistent_read=True) == 0


def test_a_trashed_item_is_hidden_from_the_gallery_with_pages_still_full(alice_client, alice, settings):
    settings.MEDIA_PAGE_SIZE = 3
    ids = [create_and_upload(alice_client, jpeg_bytes(), name=f"{n}")["id"] for n in range(7)]
    for media_id in ids:
        post_json(alice_client, f"/api/media/{media_id}/complete")
    owner = str(alice.pk)
    for media_id in ids[3:6]:  # the newest but one, and two more: the whole first page's worth
        trash.move_to_trash(owner_id=owner, media_id=media_id)
    seen, cursor = [], None
    first = selectors.gallery_page(owner_id=owner)
    assert [i.id for i in first.items] == [ids[6], ids[2], ids[1]]  # full, past the trashed ones
    while True:
        page = selectors.gallery_page(owner_id=owner, cursor=cursor)
        seen += [i.id for i in page.items]
        cursor = page.older
        if not cursor:
            break
    assert seen == [ids[6], ids[2], ids[1], ids[0]]
    back = selectors.gallery_page(owner_id=owner, before=selectors.item_cursor(MediaItem.get(ids[0])))
    assert [i.id for i in back.items] == [ids[6], ids[2], ids[1]]
    trashed, _ = selectors.trash_page(owner_id=owner, cursor=None)
    assert [i.id for i in trashed] == [ids[5], ids[4], ids[3]]  # most recently trashed first


def test_a_gallery_page_is_one_query_past_a_few_trashed_items(alice_client, alice, settings, monkeypatch):
    settings.MEDIA_PAGE_SIZE = 4
    ids = [create_and_upload(alice_client, jpeg_bytes(), name=f"{n}")["id"] for n in range(6)]
    for media_id in ids:
        post_json(alice_client, f"/api/media/{media_id}/complete")
    trash.move_to_trash(owner_id=str(alice.pk), media_id=ids[-1])
    calls = count_queries(monkeypatch)
    page = selectors.gallery_page(owner_id=str(alice.pk))
    assert len(page.items) == 4
    assert calls == ["Query", "Query"]  # the first page read 4 items, one trashed: one more Query fills it
    calls.clear()
    selectors.trash_page(owner_id=str(alice.pk), cursor=None)
    selectors.gallery_page(owner_id=str(alice.pk), favourites=True)
    assert calls == ["Query", "Query"]  # one each


def count_queries(monkeypatch) -> list[str]:
    from pynamodb.connection.base import Connection

    calls: list[str] = []
    real = Connection.dispatch

    def dispatch(self, operation_name, operation_kwargs):
        calls.append(operation_name)
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", dispatch)
    return calls


def test_a_trashed_item_is_left_out_of_the_checksum_lookup(alice_client, alice, item_id):
    checksum = MediaItem.get(item_id).sha256
    assert [i.id for i in selectors.media_with_checksums(owner_id=str(alice.pk), checksums=[checksum])] == [item_id]
    trash.move_to_trash(owner_id=str(alice.pk), media_id=item_id)
    assert selectors.media_with_checksums(owner_id=str(alice.pk), checksums=[checksum]) == []
    assert alice_client.get("/api/media/", {"sha256": checksum}).json()["items"] == []


def test_trashed_bytes_count_and_the_usage_page_says_how_many(alice_client, alice, item_id):
    size = MediaItem.get(item_id).size
    trash.move_to_trash(owner_id=str(alice.pk), media_id=item_id)
    usage = selectors.usage_for_owner(str(alice.pk))
    assert (usage.items, usage.trashed, usage.trashed_bytes, usage.bytes_stored) == (0, 1, size, size)
    page = alice_client.get("/usage/").content.decode()
    assert re.search(r'data-testid="usage-trash">1 item, [\d.,]+\xa0KB', page)


def test_account_deletion_purges_the_trash_at_once(alice_client, alice, item_id):
    from profiles import services as profile_services

    trash.move_to_trash(owner_id=str(alice.pk), media_id=item_id)
    profile_services.delete_account_data(str(alice.pk))
    assert MediaItem.count(item_id, consistent_read=True) == 0
    listing = aws_client("s3").list_objects_v2(Bucket=settings.UPLOADS_BUCKET, Prefix=f"uploads/{alice.pk}/")
    assert "Contents" not in listing


def test_favourites_are_one_sparse_index_and_the_filter_leaves_the_trash_out(alice, alice_client):
    owner = str(alice.pk)
    ids = [ready(alice_client, f"{n}") for n in range(3)]
    for media_id in ids[:2]:
        trash.set_favourite(owner_id=owner, media_id=media_id, on=True)
    assert [i.id for i in selectors.gallery_page(owner_id=owner, favourites=True).items] == [ids[1], ids[0]]
    trash.move_to_trash(owner_id=owner, media_id=ids[1])
    assert [i.id for i in selectors.gallery_page(owner_id=owner, favourites=True).items] == [ids[0]]
    trash.restore(owner_id=owner, media_id=ids[1])  # still a favourite when it comes back
    trash.set_favourite(owner_id=owner, media_id=ids[0], on=False)
    assert [i.id for i in selectors.gallery_page(owner_id=owner, favourites=True).items] == [ids[1]]


# --- Pages --------------------------------------------------------------------------------------------------------


def test_the_trash_page_lists_days_left_and_restores_and_deletes_for_good(alice_client, alice):
    kept, doomed = ready(alice_client, "Kept"), ready(alice_client, "Doomed")
    for media_id in (kept, doomed):
        alice_client.post(f"/media/{media_id}/delete/")
    gallery = alice_client.get("/").content.decode()
    assert kept not in gallery and 'href="/trash/"' in gallery
    page = alice_client.get("/trash/").content.decode()
    assert page.count('data-testid="media-card"') == 2
    assert f"{settings.TRASH_DAYS} days left" in page
    response = alice_client.post(f"/trash/{kept}/restore/", HTTP_REFERER="http://testserver/trash/", follow=True)
    assert "Restored." in response.content.decode()
    assert f"/media/{kept}/" in alice_client.get("/").content.decode()
    assert "Delete everything in the trash" in alice_client.get("/trash/empty/").content.decode()  # asks first
    response = alice_client.post("/trash/empty/", follow=True)
    assert "1 item deleted for good" in response.content.decode()
    assert MediaItem.count(doomed, consistent_read=True) == 0 and MediaItem.count(kept, consistent_read=True) == 1
    assert 'data-testid="empty-trash-note"' in alice_client.get("/trash/").content.decode()


def test_restoring_an_item_that_is_not_in_the_trash_is_a_message_not_an_error(alice_client, item_id):
    response = alice_client.post(f"/trash/{item_id}/restore/", follow=True)
    assert response.status_code == 200 and "This item is not in the trash." in response.content.decode()
    response = alice_client.post(f"/trash/{item_id}/delete/", follow=True)
    assert "no longer in the trash" in response.content.decode()
    assert fresh(MediaItem(item_id)).status == Status.READY


def test_the_favourite_toggle_works_as_a_form_and_answers_fetch_with_json(alice_client, item_id):
    response = alice_client.post(f"/media/{item_id}/favourite/", {"favourite": "1"}, follow=True)
    assert "Added to favourites." in response.content.decode()
    assert MediaItem.get(item_id).favourite
    assert f"/media/{item_id}/" in alice_client.get("/?favourites=1").content.decode()
    response = alice_client.post(f"/media/{item_id}/favourite/", {"favourite": "0"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"id": item_id, "favourite": False}
    assert f"/media/{item_id}/" not in alice_client.get("/?favourites=1").content.decode()


def test_the_gallery_is_a_selection_form_with_a_checkbox_per_card(alice_client, item_id):
    page = alice_client.get("/").content.decode()
    assert '<form id="selection" method="post"' in page
    assert f'<input type="checkbox" name="ids" value="{item_id}"' in page
    assert 'formaction="/media/bulk/trash/"' in page


def test_a_bulk_move_to_the_trash_from_the_page_and_back(alice_client, alice):
    ids = [ready(alice_client, f"{n}", jpeg_bytes()) for n in range(3)]
    response = alice_client.post("/media/bulk/trash/", {"ids": ids}, follow=True)
    assert "3 items moved to the trash." in response.content.decode()
    assert {fresh(MediaItem(i)).status for i in ids} == {Status.TRASHED}
    response = alice_client.post("/media/bulk/restore/", {"ids": [*ids[:2]]}, follow=True)
    assert "2 items restored." in response.content.decode()
    response = alice_client.post("/media/bulk/restore/", {"ids": ids}, follow=True)
    text = response.content.decode()
    assert "1 item restored." in text and text.count("This item is not in the trash.") == 2  # reported, each


def test_a_bulk_request_naming_someone_elses_item_is_refused_whole_in_the_page(alice_client, bob, client, item_id):
    from django.test import Client

    other = Client()
    other.force_login(bob)
    bobs = ready(other, "Bob's")
    response = alice_client.post("/media/bulk/trash/", {"ids": [item_id, bobs]}, follow=True)
    assert response.status_code == 200 and "Nothing was changed." in response.content.decode()
    assert bobs in response.content.decode()
    assert fresh(MediaItem(item_id)).status == Status.READY and fresh(MediaItem(bobs)).status == Status.READY


# --- JSON API -----------------------------------------------------------------------------------------------------


def bulk(client, action: str, ids: list):
    return post_json(client, "/api/media/bulk", {"action": action, "ids": ids})


def test_api_bulk_trash_restore_and_favourite_report_each_item(alice_client):
    ids = [ready(alice_client, f"{n}", jpeg_bytes()) for n in range(3)]
    answer = bulk(alice_client, "trash", ids[:2])
    assert answer.status_code == 200
    assert answer.json()["done"] == 2 and {i["status"] for i in answer.json()["items"]} == {Status.TRASHED}
    listing = alice_client.get("/api/media/").json()["items"]
    assert [i["id"] for i in listing] == [ids[2]]  # the trash is left out
    assert [i["id"] for i in alice_client.get("/api/trash").json()["items"]] == [ids[1], ids[0]]
    answer = bulk(alice_client, "restore", ids).json()
    assert (answer["done"], answer["failed"]) == (2, 1)
    assert answer["items"][2] == {"id": ids[2], "ok": False, "status": None, "error": "This item is not in the trash."}
    assert bulk(alice_client, "favourite", ids).json()["done"] == 3
    assert [i["id"] for i in alice_client.get("/api/media/", {"favourites": "1"}).json()["items"]] == ids[::-1]
    assert all(i["favourite"] for i in alice_client.get("/api/media/").json()["items"])
    bulk(alice_client, "unfavourite", ids[:1])
    assert len(alice_client.get("/api/media/", {"favourites": "1"}).json()["items"]) == 2


def test_api_bulk_with_another_users_id_is_refused_and_changes_nothing(alice_client, bob, item_id):
    from django.test import Client

    other = Client()
    other.force_login(bob)
    bobs = create_and_upload(other, jpeg_bytes())["id"]
    for ids in ([item_id, bobs], [item_id, "0" * 32], [item_id, "not-an-id"]):
        answer = bulk(alice_client, "trash", ids)
        assert answer.status_code == 404
        [message] = answer.json()["errors"]["ids"]
        assert ids[1] in message and "Nothing was changed" in message
    assert fresh(MediaItem(item_id)).status == Status.READY and fresh(MediaItem(bobs)).status == Status.PENDING
    assert bulk(other, "restore", [item_id]).status_code == 404  # restoring someone else's item


def test_api_bulk_over_the_maximum_or_malformed_is_refused_before_anything_changes(alice_client, item_id, settings):
    settings.BULK_MAX_ITEMS = 2
    answer = bulk(alice_client, "trash", [item_id, "a" * 32, "b" * 32])
    assert answer.status_code == 400 and "at most 2 items" in answer.json()["errors"]["ids"][0]
    assert bulk(alice_client, "trash", []).status_code == 400
    assert "action" in bulk(alice_client, "burn", [item_id]).json()["errors"]
    assert bulk(alice_client, "trash", "all").status_code == 400
    assert post_json(alice_client, "/api/media/bulk", {"ids": [item_id]}).status_code == 400
    assert fresh(MediaItem(item_id)).status == Status.READY


def test_api_delete_moves_to_the_trash_and_forever_deletes_for_good(alice_client, item_id):
    assert alice_client.delete(f"/api/media/{item_id}").status_code == 204
    assert alice_client.get(f"/api/media/{item_id}").json()["status"] == Status.TRASHED
    assert alice_client.delete(f"/api/media/{item_id}").status_code == 409  # already in the trash
    assert alice_client.delete("/api/trash").json() == {"deleted": 1}
    assert alice_client.get(f"/api/media/{item_id}").status_code == 404
    other = ready(alice_client)
    assert alice_client.delete(f"/api/media/{other}?forever=1").status_code == 204
    assert alice_client.get(f"/api/media/{other}").status_code == 404


def test_api_patch_sets_the_favourite_and_refuses_anything_but_a_boolean(alice_client, item_id):
    url = f"/api/media/{item_id}"
    assert post_json(alice_client, url, {"favourite": True}, method="patch").json()["favourite"] is True
    assert post_json(alice_client, url, {"favourite": "yes"}, method="patch").status_code == 400
    answer = post_json(alice_client, url, {"favourite": False, "name": "Renamed"}, method="patch").json()
    assert (answer["favourite"], answer["name"]) == (False, "Renamed")


def test_a_trashed_items_share_link_answers_410_saying_why_until_restored(alice_client, alice, item_id):
    from tests.uploads.test_sharing import path_of, share

    url = share(alice_client, item_id)
    trash.move_to_trash(owner_id=str(alice.pk), media_id=item_id)
    alice_client.logout()
    for response in (alice_client.get(path_of(url)), alice_client.post(path_of(url) + "download/")):
        assert response.status_code == 410
        assert "moved the shared item to the trash" in response.content.decode()
    trash.restore(owner_id=str(alice.pk), media_id=item_id)
    assert alice_client.get(path_of(url)).status_code == 200
