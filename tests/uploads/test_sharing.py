import re
from datetime import timedelta

import pytest
import requests

from mediahub.hashing import token_digest
from tests.conftest import create_and_upload, post_json, rate_limits
from tests.images import camera_jpeg
from tests.uploads.test_processing import process
from uploads.models import MediaItem, ShareLink, utcnow

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready_id(client, alice):
    client.force_login(alice)
    body = create_and_upload(client, camera_jpeg().getvalue(), name="Holiday", caption="Sunny")
    post_json(client, f"/api/media/{body['id']}/complete")
    process(MediaItem.get(body["id"]))
    return body["id"]


def share(client, media_id: str, **form) -> str:
    response = client.post(f"/media/{media_id}/share/", {"expires": "1d", **form})
    assert response.status_code == 200, response.content
    return re.search(r'data-testid="share-url">(http[^<]+)<', response.content.decode()).group(1)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_share_link_shows_the_item_to_anyone_and_counts_downloads(client, ready_id):
    url = share(client, ready_id)
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 32  # 192 random bits, URL-safe
    link = ShareLink.by_media.query(ready_id).next()
    assert token not in link.digest  # only the hash is stored

    client.logout()
    page = client.get(path_of(url))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Holiday" in text and "Sunny" in text and "medium.jpg" in text

    response = client.post(path_of(url) + "download/")
    assert response.status_code == 302
    assert "X-Amz-Expires=60" in response.url
    assert requests.get(response.url, timeout=10).status_code == 200
    assert ShareLink.get(link.digest).downloads == 1
    assert MediaItem.get(ready_id).downloads == 1


def test_the_download_limit_is_enforced_and_then_the_link_says_so(client, ready_id):
    url = share(client, ready_id, max_downloads=2)
    client.logout()
    for _ in range(2):
        assert client.post(path_of(url) + "download/").status_code == 302
    response = client.post(path_of(url) + "download/")
    assert response.status_code == 410
    assert "download limit" in response.content.decode()
    page = client.get(path_of(url))
    assert page.status_code == 410
    assert "Holiday" not in page.content.decode()  # a dead link reveals nothing of the item


def test_an_expired_link_answers_410_saying_it_expired(client, ready_id):
    url = share(client, ready_id)
    link = ShareLink.by_media.query(ready_id).next()
    link.update(actions=[ShareLink.expires_at.set(utcnow() - timedelta(seconds=1))])
    client.logout()
    for response in (client.get(path_of(url)), client.post(path_of(url) + "download/")):
        assert response.status_code == 410
        assert "This link has expired." in response.content.decode()


def test_the_owner_lists_and_revokes_links(client, ready_id):
    url = share(client, ready_id)
    share(client, ready_id, expires="7d", max_downloads=3)
    page = client.get(f"/media/{ready_id}/").content.decode()
    assert page.count('data-testid="share-link"') == 2
    assert "0 / 3" in page
    digest = token_digest(url.rstrip("/").rsplit("/", 1)[1])
    response = client.post(f"/media/{ready_id}/share/{digest}/revoke/", follow=True)
    assert "Link revoked" in response.content.decode()
    client.logout()
    response = client.get(path_of(url))
    assert response.status_code == 410
    assert "The owner revoked this link." in response.content.decode()


def test_nobody_revokes_someone_elses_link(client, bob, ready_id):
    url = share(client, ready_id)
    digest = token_digest(url.rstrip("/").rsplit("/", 1)[1])
    client.force_login(bob)
    assert client.post(f"/media/{ready_id}/share/{digest}/revoke/").status_code == 404
    assert ShareLink.get(digest).revoked_at is None


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"expires": "custom"}, "Choose when the link expires."),
        ({"expires": "custom", "until": "2000-01-01T00:00"}, "within 30 days"),
        ({"expires": "custom", "until": "2999-01-01T00:00"}, "within 30 days"),
        ({"expires": "1d", "max_downloads": "0"}, "greater than or equal to 1"),
    ],
)
def test_bad_share_requests_get_a_message(client, ready_id, form, message):
    response = client.post(f"/media/{ready_id}/share/", form, follow=True)
    assert message in response.content.decode()
    assert list(ShareLink.by_media.query(ready_id)) == []


def test_a_custom_expiry_within_30_days_works(client, ready_id):
    until = (utcnow() + timedelta(days=29)).strftime("%Y-%m-%dT%H:%M")
    share(client, ready_id, expires="custom", until=until)
    link = ShareLink.by_media.query(ready_id).next()
    assert link.expires_at.strftime("%Y-%m-%dT%H:%M") == until


def test_nobody_shares_someone_elses_item(client, bob, ready_id):
    client.force_login(bob)
    assert client.post(f"/media/{ready_id}/share/", {"expires": "1d"}).status_code == 404
    assert list(ShareLink.by_media.query(ready_id)) == []


def test_unknown_tokens_are_404(client):
    assert client.get("/s/not-a-token/").status_code == 404
    assert client.post("/s/not-a-token/download/").status_code == 404


def test_deleting_the_item_removes_its_links(client, ready_id):
    url = share(client, ready_id)
    client.post(f"/media/{ready_id}/delete/")
    client.logout()
    assert client.get(path_of(url)).status_code == 404


def test_guessing_share_tokens_from_one_address_is_refused(client, ready_id, settings):
    url = share(client, ready_id)
    rate_limits(settings, {"share": 5})
    client.logout()
    for _ in range(5):
        assert client.get(f"/s/{'A' * 32}/").status_code == 404
    guessed = client.get(path_of(url))  # even a real link: the address has used up its tries
    assert guessed.status_code == 429 and int(guessed["Retry-After"]) > 0
    assert "Too many visits to shared links from your address" in guessed.content.decode()
    assert client.post(path_of(url) + "download/").status_code == 429
    assert client.get(path_of(url), REMOTE_ADDR="198.51.100.4").status_code == 200


def test_the_page_showing_a_new_share_link_is_never_stored(client, ready_id):
    response = client.post(f"/media/{ready_id}/share/", {"expires": "1d"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
