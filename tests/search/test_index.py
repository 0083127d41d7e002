"""The index stays true: create (once ready), edit (stale words removed), processing, trash, restore, delete."""

from __future__ import annotations

import pytest

from search import index
from search.models import SearchTerm
from search.query import Search, search
from tests.conftest import post_json, process_until_ready
from tests.search.helpers import ready_item
from tests.uploads.test_processing import process
from uploads import services
from uploads.models import MediaItem, Status


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def rows(owner_id: str) -> list[str]:
    return sorted(row.term for row in SearchTerm.query(owner_id))


def found(owner_id: str, *words: str, **filters) -> list[str]:
    return [item.id for item in search(Search(owner_id=owner_id, words=words, **filters)).items]


def test_words_are_folded_split_and_cut():
    assert index.words("Été à Zürich_2024, STRASSE straße") == ["ete", "a", "zurich", "2024", "strasse", "strasse"]
    assert index.words("東京タワー #sunset") == ["東京タワー", "sunset"]
    assert index.words("x" * 100) == ["x" * index.MAX_TERM]


def test_an_items_terms_are_its_name_file_stem_and_caption_once_each():
    item = MediaItem(
        "a" * 32, owner_id="1", name="Sunset at Étretat", caption="sunset again", file_name="IMG_2041.HEIC"
    )
    assert index.item_terms(item) == ["sunset", "at", "etretat", "img", "2041", "again"]


def test_camera_names_read_as_people_say_them():
    assert index.camera_of({"make": "Canon", "model": "Canon EOS R5"}) == "Canon EOS R5"
    assert index.camera_of({"make": "FUJIFILM", "model": "X-T4"}) == "FUJIFILM X-T4"
    assert index.camera_of({"make": "Odd#Make"}) == "Odd Make"
    assert index.camera_of({}) is None and index.camera_of(None) is None


def test_a_ready_item_is_found_by_a_prefix_of_any_of_its_words(alice_client, alice):
    item = ready_item(alice_client, "Sunset over Étretat", caption="Normandy trip", file_name="IMG_2041.jpg")
    owner = str(alice.pk)
    for word in ("sun", "sunset", "etr", "normandy", "trip", "img", "2041"):
        assert found(owner, word) == [item.id], word
    assert found(owner, "sun", "norm") == [item.id]
    assert found(owner, "sun", "paris") == []
    assert found(owner, "jpg") == []  # the extension is the type filter's business


def test_an_item_is_indexed_only_once_processing_made_it_ready(alice_client, alice):
    from tests.conftest import create_and_upload, jpeg_bytes

    body = create_and_upload(alice_client, jpeg_bytes(), name="Harbour lights")
    post_json(alice_client, f"/api/media/{body['id']}/complete")
    assert rows(str(alice.pk)) == []
    process_until_ready(MediaItem.get(body["id"]).object_key)
    assert f"harbour#{body['id']}" in rows(str(alice.pk))


def test_processing_records_camera_and_date_taken_in_the_item_and_its_rows(alice_client, alice):
    item = ready_item(alice_client, "Beach", make="Canon", model="Canon EOS R5", taken="2024:07:14 18:30:00")
    assert item.camera == "Canon EOS R5"
    assert item.shot_at.isoformat() == "2024-07-14T18:30:00+00:00"
    row = SearchTerm.get(str(alice.pk), f"beach#{item.id}")
    assert (row.family, row.camera, row.shot_at) == ("image", "Canon EOS R5", item.shot_at)
    assert index.cameras(str(alice.pk)) == ["Canon EOS R5"]


def test_without_exif_the_date_taken_is_the_upload_date(alice_client):
    item = ready_item(alice_client, "Plain")
    assert item.shot_at == item.created_at and item.camera is None


def test_an_edit_removes_only_the_stale_words(alice_client, alice, local_aws):
    item = ready_item(alice_client, "Sunset beach", caption="summer")
    owner = str(alice.pk)
    response = post_json(alice_client, f"/api/media/{item.id}", {"name": "Sunrise beach"}, method="patch")
    assert response.status_code == 200
    assert rows(owner) == sorted(f"{w}#{item.id}" for w in ("beach", "photo", "summer", "sunrise"))
    assert found(owner, "sunset") == [] and found(owner, "sunrise") == [item.id]
    assert found(owner, "beach") == [item.id]


def test_the_edit_form_keeps_the_index_true_too(alice_client, alice):
    item = ready_item(alice_client, "Old name")
    response = alice_client.post(f"/media/{item.id}/", {"name": "Fresh name", "caption": "lake"})
    assert response.status_code == 302
    assert found(str(alice.pk), "fresh", "lake") == [item.id] and found(str(alice.pk), "old") == []


def test_processing_twice_and_indexing_twice_change_nothing(alice_client, alice):
    item = ready_item(alice_client, "Twice")
    before = rows(str(alice.pk))
    assert process(item) == "duplicate"
    index.index(item)
    index.index(item)
    assert rows(str(alice.pk)) == before


@pytest.mark.parametrize("status", ["trashed", Status.UPLOADED, Status.FAILED, Status.DELETING])
def test_an_item_that_is_not_ready_is_hidden_and_comes_back_when_ready_again(alice_client, alice, status):
    """Trash and restore (contract 1): the rows stay while the item is not ready; results keep only ready ones."""
    item = ready_item(alice_client, "Holiday")
    item.update(actions=[MediaItem.status.set(status)])
    assert found(str(alice.pk), "holi") == []
    assert f"holiday#{item.id}" in rows(str(alice.pk))
    item.update(actions=[MediaItem.status.set(Status.READY)])  # restored
    assert found(str(alice.pk), "holi") == [item.id]


def test_deleting_for_good_removes_every_row_and_the_camera_once_unused(alice_client, alice):
    owner = str(alice.pk)
    first = ready_item(alice_client, "One", make="Canon", model="EOS R5")
    second = ready_item(alice_client, "Two", make="Canon", model="EOS R5")
    other = ready_item(alice_client, "Three", make="Sony", model="ILCE-7M4")
    assert index.cameras(owner) == ["Canon EOS R5", "Sony ILCE-7M4"]
    services.media_delete(owner_id=owner, media_id=first.id)
    assert index.cameras(owner) == ["Canon EOS R5", "Sony ILCE-7M4"]  # the second still has it
    services.media_delete(owner_id=owner, media_id=second.id)
    assert index.cameras(owner) == ["Sony ILCE-7M4"]
    assert all(other.id in term or term == index.CAMERAS for term in rows(owner))
    index.unindex(second)  # twice, or for an item never indexed: harmless
    index.unindex(MediaItem("f" * 32, owner_id=owner, name="Never", file_name="x.jpg"))


def test_a_run_that_loses_to_a_delete_takes_its_rows_back_out(alice_client, alice, monkeypatch):
    from uploads import lifecycle

    item = ready_item(alice_client, "Racing")
    MediaItem.get(item.id).update(actions=[MediaItem.status.set(Status.DELETING)])

    def lose(*args, **kwargs):
        raise lifecycle.Lost(item.id)

    monkeypatch.setattr(lifecycle, "finish", lose)
    assert process(MediaItem.get(item.id), force=True) in ("duplicate", "superseded")
    index.index(item)  # as the run did before it lost
    from uploads.processing import _lost_the_race

    _lost_the_race(item, {})
    assert rows(str(alice.pk)) == []
