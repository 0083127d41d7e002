"""The album pages: made, filled from an item's page and from a selection, trimmed, shared and revoked; every
refusal a message, never a 500 or a half-done change."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from django.test import Client

from albums import services
from albums.models import Album, AlbumLink, Membership
from mediahub.hashing import token_digest
from tests.conftest import create_and_upload, post_json, rate_limits
from tests.images import camera_jpeg
from tests.uploads.test_processing import process
from tests.uploads.test_sharing import gps_of, original_bytes
from uploads.models import MediaItem, utcnow

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def make_album(client, name: str = "Summer") -> Album:
    response = client.post("/albums/", {"name": name, "description": "", "order": "taken"})
    assert response.status_code == 302, response.content
    return Album.get(response.url.strip("/").split("/")[-1])


def rows(album: Album) -> set[str]:
    return {row.media_id for row in Membership.query(album.id, consistent_read=True)}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_the_album_list_shows_albums_with_their_cover_and_count(alice_client, alice, library):
    album = make_album(alice_client)
    services.add_items(owner_id=str(alice.pk), album_id=album.id, ids=[library(alice, "one").id])
    page = alice_client.get("/albums/").content.decode()
    assert "Summer" in page and "1 item" in page


def test_an_empty_name_is_a_message_and_makes_nothing(alice_client, alice):
    response = alice_client.post("/albums/", {"name": " ", "order": "taken"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert list(Album.by_owner.query(str(alice.pk))) == []


def test_add_from_an_items_page_to_an_album_or_a_new_one(alice_client, alice, library):
    album = make_album(alice_client)
    item = library(alice, "Beach")
    page = alice_client.get(f"/media/{item.id}/").content.decode()
    assert 'data-testid="add-to-album"' in page and f'<option value="{album.id}">Summer</option>' in page
    alice_client.post("/albums/add/", {"ids": item.id, "album": album.id})
    assert rows(album) == {item.id}
    response = alice_client.post("/albums/add/", {"ids": item.id, "album": "new", "name": "Beaches"})
    new = Album.get(response.url.strip("/").split("/")[-1])
    assert new.name == "Beaches" and rows(new) == {item.id}


def test_a_selection_is_added_in_bulk_and_a_foreign_id_refuses_all_of_it(alice_client, alice, bob, library):
    album = make_album(alice_client)
    mine = [library(alice).id for _ in range(3)]
    response = alice_client.post("/albums/add/", {"ids": mine, "album": album.id}, follow=True)
    assert "Added 3 items to the album." in messages_of(response)
    theirs = library(bob).id
    other = make_album(alice_client, "Other")
    response = alice_client.post("/albums/add/", {"ids": [*mine, theirs], "album": other.id}, follow=True)
    assert any("Nothing was changed" in m and theirs in m for m in messages_of(response))
    assert rows(other) == set()
    alice_client.post("/albums/add/", {"ids": [theirs], "album": "new", "name": "Sneaky"})
    assert sorted(a.name for a in Album.by_owner.query(str(alice.pk))) == ["Other", "Summer"]  # none made either


def test_a_bulk_add_over_the_maximum_is_a_message(alice_client, alice, library, settings):
    settings.BULK_MAX_ITEMS = 2
    album = make_album(alice_client)
    ids = [library(alice).id for _ in range(3)]
    response = alice_client.post("/albums/add/", {"ids": ids, "album": album.id}, follow=True)
    assert any("at most 2 at a time" in m for m in messages_of(response)) and rows(album) == set()


def test_the_album_page_removes_a_selection_chooses_a_cover_and_toggles_the_order(alice_client, alice, library):
    album = make_album(alice_client)
    items = [library(alice, f"item {n}") for n in range(3)]
    services.add_items(owner_id=str(alice.pk), album_id=album.id, ids=[i.id for i in items])
    page = alice_client.get(f"/albums/{album.id}/").content.decode()
    assert '<form id="selection" method="post"' in page
    assert all(f'name="ids" value="{i.id}"' in page for i in items)
    alice_client.post(f"/albums/{album.id}/cover/", {"cover": items[2].id})
    assert Album.get(album.id).cover_id == items[2].id
    alice_client.post(f"/albums/{album.id}/remove/", {"ids": [items[0].id, items[1].id]})
    assert rows(album) == {items[2].id}
    alice_client.post(f"/albums/{album.id}/order/", {"order": "added"})
    assert Album.get(album.id).order == "added"
    response = alice_client.post(f"/albums/{album.id}/order/", {"order": "sideways"}, follow=True)
    assert Album.get(album.id).order == "added" and messages_of(response)


def test_rename_with_control_characters_is_a_message_and_changes_nothing(alice_client):
    album = make_album(alice_client)
    response = alice_client.post(f"/albums/{album.id}/edit/", {"name": "bad\x1bname", "order": "taken"}, follow=True)
    assert "This contains control characters." in " ".join(messages_of(response))
    assert Album.get(album.id).name == "Summer"


def test_deleting_an_album_keeps_its_items(alice_client, alice, library):
    album = make_album(alice_client)
    item = library(alice)
    services.add_items(owner_id=str(alice.pk), album_id=album.id, ids=[item.id])
    assert alice_client.post(f"/albums/{album.id}/delete/").status_code == 302
    assert not Album.count(album.id) and MediaItem.get(item.id).status == "ready"


def test_someone_elses_album_pages_are_404_and_change_nothing(alice_client, bob, library):
    album = make_album(alice_client)
    bob_client = Client()
    bob_client.force_login(bob)
    theirs = library(bob)
    for path, data in [
        (f"/albums/{album.id}/edit/", {"name": "Mine", "order": "taken"}),
        (f"/albums/{album.id}/delete/", {}),
        (f"/albums/{album.id}/remove/", {"ids": theirs.id}),
        (f"/albums/{album.id}/cover/", {"cover": theirs.id}),
        (f"/albums/{album.id}/share/", {"expires": "1d"}),
        ("/albums/add/", {"ids": theirs.id, "album": album.id}),
    ]:
        assert bob_client.post(path, data).status_code == 404, path
    assert bob_client.get(f"/albums/{album.id}/").status_code == 404
    assert Album.get(album.id).name == "Summer" and rows(album) == set()
    assert list(AlbumLink.by_album.query(album.id)) == []


def share(client, album: Album, **form) -> str:
    response = client.post(f"/albums/{album.id}/share/", {"expires": "1d", **form})
    assert response.status_code == 200, response.content
    return "/" + re.search(r'data-testid="share-url">(http[^<]+)<', response.content.decode()).group(1).split("/", 3)[3]


def test_a_shared_album_shows_its_ready_items_to_anyone_until_revoked(alice_client, alice, library):
    album = make_album(alice_client)
    shown, trashed = library(alice, "Shown"), library(alice, "Trashed")
    services.add_items(owner_id=str(alice.pk), album_id=album.id, ids=[shown.id, trashed.id])
    trashed.update(actions=[MediaItem.status.set("trashed")])
    path = share(alice_client, album)
    link = AlbumLink.get(token_digest(path.split("/")[2]))
    assert link.downloads_allowed is False
    anonymous = Client()
    page = anonymous.get(path).content.decode()
    assert "Shown" in page and "Trashed" not in page and "Download" not in page
    assert anonymous.post(f"{path}{shown.id}/download/").status_code == 403  # the owner did not allow it
    alice_client.post(f"/albums/{album.id}/share/{link.digest}/revoke/")
    gone = anonymous.get(path)
    assert gone.status_code == 410 and "The owner revoked this link." in gone.content.decode()


def test_an_expired_or_deleted_album_link_says_why(alice_client, alice):
    album = make_album(alice_client)
    path = share(alice_client, album)
    link = AlbumLink.get(token_digest(path.split("/")[2]))
    link.update(actions=[AlbumLink.expires_at.set(utcnow() - timedelta(seconds=1))])
    assert "This link has expired." in Client().get(path).content.decode()
    other = share(alice_client, album)
    services.album_delete(owner_id=str(alice.pk), album_id=album.id)
    assert Client().get(other).status_code == 404  # its link went with it
    assert Client().get("/a/not-a-token/").status_code == 404


def test_a_link_lives_at_most_30_days(alice_client):
    album = make_album(alice_client)
    until = (utcnow() + timedelta(days=31)).strftime("%Y-%m-%dT%H:%M")
    response = alice_client.post(f"/albums/{album.id}/share/", {"expires": "custom", "until": until}, follow=True)
    assert any("within 30 days" in m for m in messages_of(response))
    assert list(AlbumLink.by_album.query(album.id)) == []


def test_downloads_from_a_shared_album_are_without_location_and_only_of_its_items(alice_client, alice, library):
    body = create_and_upload(alice_client, camera_jpeg().getvalue(), name="Holiday")
    post_json(alice_client, f"/api/media/{body['id']}/complete")
    process(MediaItem.get(body["id"]))
    album = make_album(alice_client)
    services.add_items(owner_id=str(alice.pk), album_id=album.id, ids=[body["id"]])
    path = share(alice_client, album, downloads="on")
    anonymous = Client()
    assert "Download" in anonymous.get(path).content.decode()
    response = anonymous.post(f"{path}{body['id']}/download/")
    assert response.status_code == 302
    download = requests.get(response.url, timeout=10)
    assert gps_of(original_bytes(body["id"])) and gps_of(download.content) == {}
    outsider = library(alice)  # hers, but not in the album
    assert anonymous.post(f"{path}{outsider.id}/download/").status_code == 404


def test_guessing_album_tokens_from_one_address_is_refused(alice_client, settings):
    path = share(alice_client, make_album(alice_client))
    rate_limits(settings, {"share": 3})
    anonymous = Client()
    for _ in range(3):
        assert anonymous.get(f"/a/{'A' * 32}/").status_code == 404
    assert anonymous.get(path).status_code == 429  # even a real link: the address has used up its tries
    assert anonymous.get(path, REMOTE_ADDR="198.51.100.4").status_code == 200


def test_a_forged_cursor_on_a_shared_album_is_a_page_not_a_500(alice_client):
    path = share(alice_client, make_album(alice_client))
    response = Client().get(path, {"cursor": "bm90IGEga2V5"})
    assert response.status_code == 400 and "That page link is not valid." in response.content.decode()
