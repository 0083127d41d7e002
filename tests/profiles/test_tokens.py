import pytest
from django.test import Client

from mediahub.hashing import token_digest
from profiles import tokens
from profiles.models import ApiToken
from tests.conftest import jpeg_bytes, upload_to_s3

pytestmark = pytest.mark.django_db


def bearer(token: str) -> Client:
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})


NEW_ITEM = {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 5, "name": "scripted"}


def test_profile_page_creates_a_token_shown_once_and_stored_hashed(client, alice):
    client.force_login(alice)
    response = client.post("/profile/tokens/", {"name": "backup", "scope": "write"})
    token = response.context["token"]
    assert token.startswith("mh_") and len(token) > 40
    record = ApiToken.objects.get(user=alice)
    assert record.digest == token_digest(token) and token not in (record.digest, record.prefix)
    page = client.get("/profile/").content.decode()
    assert "backup" in page and record.prefix in page and token not in page


def test_a_write_token_uploads_without_csrf(alice):
    _, token = tokens.token_create(alice, name="script", scope="write")
    api = bearer(token)
    response = api.post("/api/media/", NEW_ITEM, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert upload_to_s3(body["upload"], b"\xff\xd8\xff\xe0x").status_code in (200, 204)
    assert api.post(f"/api/media/{body['id']}/complete").status_code == 202
    assert ApiToken.objects.get(user=alice).last_used_at is not None


def test_a_read_only_token_can_list_but_not_upload_or_delete(alice):
    _, token = tokens.token_create(alice, name="viewer", scope="read")
    api = bearer(token)
    assert api.get("/api/media/").status_code == 200
    for response in (
        api.post("/api/media/", NEW_ITEM, content_type="application/json"),
        api.delete("/api/media/0123456789abcdef0123456789abcdef"),
        api.patch("/api/media/0123456789abcdef0123456789abcdef", {}, content_type="application/json"),
        api.post("/api/profile/avatar", {}, content_type="application/json"),
    ):
        assert response.status_code == 403
        assert response.json() == {"errors": {"auth": ["This token is read-only."]}}


@pytest.mark.parametrize("header", ["Bearer mh_not-a-real-token", "Bearer", "Basic dXNlcjpwYXNz", "mh_abc", "Bearer x"])
def test_unknown_or_malformed_tokens_get_401_json(header):
    response = Client(headers={"Authorization": header}).get("/api/media/")
    assert response.status_code == 401
    assert "auth" in response.json()["errors"]


def test_a_revoked_token_gets_401(client, alice):
    record, token = tokens.token_create(alice, name="old", scope="write")
    assert bearer(token).get("/api/media/").status_code == 200
    client.force_login(alice)
    response = client.post(f"/profile/tokens/{record.pk}/revoke/", follow=True)
    assert "Token revoked" in response.content.decode()
    assert bearer(token).get("/api/media/").status_code == 401


def test_nobody_revokes_someone_elses_token(client, alice, bob):
    record, token = tokens.token_create(alice, name="mine", scope="read")
    client.force_login(bob)
    client.post(f"/profile/tokens/{record.pk}/revoke/")
    assert bearer(token).get("/api/media/").status_code == 200


def test_a_token_sees_only_its_owners_items(alice, bob):
    _, alices = tokens.token_create(alice, name="a", scope="write")
    _, bobs = tokens.token_create(bob, name="b", scope="write")
    media_id = bearer(alices).post("/api/media/", NEW_ITEM, content_type="application/json").json()["id"]
    assert bearer(bobs).get(f"/api/media/{media_id}").status_code == 404
    assert bearer(bobs).get("/api/media/").json()["items"] == []


def test_a_token_uploads_an_avatar(alice):
    _, token = tokens.token_create(alice, name="app", scope="write")
    api = bearer(token)
    ticket = api.post(
        "/api/profile/avatar", {"fileName": "me.jpg", "contentType": "image/jpeg"}, content_type="application/json"
    ).json()
    upload_to_s3(ticket, jpeg_bytes())
    response = api.post("/api/profile/avatar/complete", {"key": ticket["key"]}, content_type="application/json")
    assert response.status_code == 200


def test_tokens_do_not_open_the_pages(alice):
    _, token = tokens.token_create(alice, name="a", scope="write")
    assert bearer(token).get("/").status_code == 302  # pages still want a signed-in session
