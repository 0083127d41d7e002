"""The albums JSON API: CRUD, adds and removes of many ids, pages with a cursor, and the attacks on each."""

from __future__ import annotations

import pytest
from django.test import Client

from albums.models import Album, Membership
from profiles import tokens
from tests.conftest import post_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def make_album(client, **fields) -> dict:
    response = post_json(client, "/api/albums/", {"name": "Summer", **fields})
    assert response.status_code == 201, response.content
    return response.json()


def test_create_read_list_edit_and_delete_an_album(alice_client, alice, library):
    album = make_album(alice_client, description="Beach days", order="added")
    assert (album["name"], album["description"], album["order"], album["itemCount"]) == (
        "Summer",
        "Beach days",
        "added",
        0,
    )
    assert alice_client.get(f"/api/albums/{album['id']}").json() == album
    assert [a["id"] for a in alice_client.get("/api/albums/").json()["albums"]] == [album["id"]]
    edited = post_json(alice_client, f"/api/albums/{album['id']}", {"name": "Summer 2024"}, method="patch").json()
    assert (edited["name"], edited["description"], edited["order"]) == ("Summer 2024", "Beach days", "added")
    item = library(alice)
    post_json(alice_client, f"/api/albums/{album['id']}/items", {"ids": [item.id]})
    response = alice_client.delete(f"/api/albums/{album['id']}")
    assert response.status_code == 204
    assert alice_client.get(f"/api/albums/{album['id']}").status_code == 404
    assert alice_client.get(f"/api/media/{item.id}").status_code == 200  # the item stays


def test_add_remove_and_page_items_with_a_cursor(alice_client, alice, library, settings):
    settings.MEDIA_PAGE_SIZE = 2
    album = make_album(alice_client)
    items = [library(alice, f"item {n}") for n in range(5)]
    url = f"/api/albums/{album['id']}/items"
    added = post_json(alice_client, url, {"ids": [i.id for i in items]}).json()
    assert added == {"added": [i.id for i in items], "already": []}
    assert post_json(alice_client, url, {"ids": [items[0].id]}).json() == {"added": [], "already": [items[0].id]}
    seen, cursor = [], None
    while True:
        page = alice_client.get(url, {"cursor": cursor} if cursor else {}).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(i.id for i in items)
    removed = post_json(alice_client, f"{url}/remove", {"ids": [items[0].id, items[0].id, items[1].id]}).json()
    assert removed == {"removed": [items[0].id, items[1].id], "absent": []}
    assert alice_client.get(f"/api/albums/{album['id']}").json()["itemCount"] == 3


def test_choosing_a_cover_by_patch(alice_client, alice, library):
    album = make_album(alice_client)
    first, second = library(alice), library(alice)
    post_json(alice_client, f"/api/albums/{album['id']}/items", {"ids": [first.id, second.id]})
    url = f"/api/albums/{album['id']}"
    assert post_json(alice_client, url, {"coverId": second.id}, method="patch").json()["coverId"] == second.id
    outsider = library(alice)
    response = post_json(alice_client, url, {"coverId": outsider.id, "name": "Renamed"}, method="patch")
    assert response.status_code == 404
    assert Album.get(album["id"]).name == "Summer"  # refused whole: the name did not change either


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "bell\x07"}, "name"),
        ({"name": "right-to-left\u202eoverride"}, "name"),
        ({"name": "two\nlines"}, "name"),
        ({"name": ["a list"]}, "name"),
        ({"name": "ok", "description": "x" * 2001}, "description"),
        ({"name": "ok", "description": "nul\x00"}, "description"),
        ({"name": "ok", "order": "random"}, "order"),
        ({"name": "ok", "order": ""}, "order"),
    ],
)
def test_bad_names_descriptions_and_orders_are_refused_and_nothing_is_made(alice_client, alice, fields, field):
    response = post_json(alice_client, "/api/albums/", fields)
    assert response.status_code == 400 and field in response.json()["errors"]
    assert list(Album.by_owner.query(str(alice.pk))) == []


def test_a_description_may_have_several_lines(alice_client):
    assert make_album(alice_client, description="one\ntwo\r\nthree\tfour")["description"] == "one\ntwo\r\nthree\tfour"


def test_another_users_album_is_404_to_every_call_and_nothing_changes(alice_client, bob, library):
    album = make_album(alice_client)
    bob_client = Client()
    bob_client.force_login(bob)
    theirs = library(bob)
    url = f"/api/albums/{album['id']}"
    assert bob_client.get(url).status_code == 404
    assert bob_client.get(f"{url}/items").status_code == 404
    assert post_json(bob_client, url, {"name": "Mine now"}, method="patch").status_code == 404
    assert post_json(bob_client, f"{url}/items", {"ids": [theirs.id]}).status_code == 404
    assert post_json(bob_client, f"{url}/items/remove", {"ids": [theirs.id]}).status_code == 404
    assert bob_client.delete(url).status_code == 404
    current = Album.get(album["id"])
    assert (current.name, current.item_count) == ("Summer", 0)


def test_a_foreign_item_id_refuses_the_whole_add_and_names_it(alice_client, alice, bob, library):
    album = make_album(alice_client)
    mine, theirs = library(alice), library(bob)
    unknown = "0" * 32
    response = post_json(alice_client, f"/api/albums/{album['id']}/items", {"ids": [mine.id, theirs.id, unknown]})
    assert response.status_code == 404
    message = response.json()["errors"]["ids"][0]
    assert theirs.id in message and unknown in message and mine.id not in message
    assert list(Membership.query(album["id"])) == [] and Album.get(album["id"]).item_count == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": "0" * 32},
        {"ids": []},
        {"ids": [1, 2]},
        {"ids": ["../../etc"]},
        {"ids": [None]},
        {"ids": [{"S": "x"}]},
    ],
)
def test_malformed_id_lists_are_400(alice_client, body):
    album = make_album(alice_client)
    response = post_json(alice_client, f"/api/albums/{album['id']}/items", body)
    assert response.status_code == 400 and "ids" in response.json()["errors"]


def test_more_than_the_bulk_maximum_is_400_and_adds_nothing(alice_client, alice, library, settings):
    settings.BULK_MAX_ITEMS = 3
    album = make_album(alice_client)
    ids = [library(alice).id for _ in range(4)]
    response = post_json(alice_client, f"/api/albums/{album['id']}/items", {"ids": ids})
    assert response.status_code == 400 and "at most 3" in response.json()["errors"]["ids"][0]
    assert Album.get(album["id"]).item_count == 0


@pytest.mark.parametrize("cursor", ["not-base64!", "eyJhIjogMX0=", "W10="])
def test_a_forged_cursor_is_400(alice_client, cursor):
    album = make_album(alice_client)
    response = alice_client.get(f"/api/albums/{album['id']}/items", {"cursor": cursor})
    assert response.status_code == 400 and "cursor" in response.json()["errors"]


def test_a_cursor_of_another_album_is_400(alice_client, alice, library, settings):
    """A cursor names its album: replayed against another album it would read that album's partition."""
    settings.MEDIA_PAGE_SIZE = 1
    first, second = make_album(alice_client), make_album(alice_client, name="Other")
    post_json(alice_client, f"/api/albums/{first['id']}/items", {"ids": [library(alice).id, library(alice).id]})
    cursor = alice_client.get(f"/api/albums/{first['id']}/items").json()["nextCursor"]
    assert alice_client.get(f"/api/albums/{second['id']}/items", {"cursor": cursor}).status_code == 400


def test_a_read_only_token_can_read_but_not_change(alice, library):
    _, secret = tokens.token_create(alice, name="reader", scope="read")
    reader = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert reader.get("/api/albums/").status_code == 200
    assert post_json(reader, "/api/albums/", {"name": "Nope"}).status_code == 403
    assert list(Album.by_owner.query(str(alice.pk))) == []


def test_signed_out_callers_get_401(client):
    assert client.get("/api/albums/").status_code == 401
    assert post_json(client, "/api/albums/", {"name": "x"}).status_code == 401
