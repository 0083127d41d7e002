import io
import re
import struct
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from PIL import ExifTags, Image

from mediahub import aws
from mediahub.errors import Conflict
from mediahub.hashing import token_digest
from tests import media
from tests.conftest import create_and_upload, post_json, rate_limits
from tests.images import camera_exif, camera_jpeg, progressive_jpeg
from tests.uploads.test_locationfree import box, mp4
from tests.uploads.test_processing import process
from uploads import sharing, storage
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


def test_trashing_the_item_makes_its_links_410_and_deleting_it_removes_them(client, ready_id):
    url = share(client, ready_id)
    client.post(f"/media/{ready_id}/delete/")  # to the trash: the link says so
    gone = client.get(path_of(url))
    assert gone.status_code == 410 and "moved the shared item to the trash" in gone.content.decode()
    client.post(f"/trash/{ready_id}/delete/")  # for good: the link goes with it
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


# --- Sharing without location ----------------------------------------------------------------------------------------


def gps_of(data: bytes) -> dict:
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo))


def original_bytes(media_id: str) -> bytes:
    item = MediaItem.get(media_id)
    return aws.client("s3").get_object(Bucket=settings.UPLOADS_BUCKET, Key=item.object_key)["Body"].read()


def shared_download(client, url: str) -> requests.Response:
    response = client.post(path_of(url) + "download/")
    assert response.status_code == 302, response.content
    return requests.get(response.url, timeout=10)


def test_a_share_link_downloads_the_photo_without_its_gps_and_says_so(client, ready_id):
    url = share(client, ready_id)
    link = ShareLink.by_media.query(ready_id).next()
    assert (link.original, link.serves) == (False, "copy")
    assert link.copy_key.startswith(storage.rendition_prefix(link.owner_id, ready_id))
    client.logout()
    assert "shares a copy without location data" in client.get(path_of(url)).content.decode()
    download = shared_download(client, url)
    original = original_bytes(ready_id)
    assert gps_of(original) and gps_of(download.content) == {}
    assert Image.open(io.BytesIO(download.content)).getexif()[ExifTags.Base.Model].startswith("EOS R5")
    assert download.content[-20000:] == original[-20000:]  # the picture's bytes are the original's
    assert 'filename="photo.jpg"' in download.headers["Content-Disposition"]
    assert MediaItem.get(ready_id).downloads == 1 and ShareLink.get(link.digest).downloads == 1


def test_the_owner_may_share_the_original_as_it_is(client, ready_id):
    url = share(client, ready_id, original="on")
    link = ShareLink.by_media.query(ready_id).next()
    assert (link.original, link.serves, link.copy_key) == (True, "original", None)
    assert "Original" in client.get(f"/media/{ready_id}/").content.decode()
    client.logout()
    page = client.get(path_of(url)).content.decode()
    assert "shares the original, as it is (with its location, if it has one)" in page
    assert shared_download(client, url).content == original_bytes(ready_id)


def test_the_owners_own_download_stays_the_original(client, ready_id):
    share(client, ready_id)
    response = client.get(f"/media/{ready_id}/download/")
    downloaded = requests.get(response.url, timeout=10).content
    assert downloaded == original_bytes(ready_id) and gps_of(downloaded)


def test_the_detail_page_offers_the_choice_and_lists_what_each_link_shares(client, ready_id):
    page = client.get(f"/media/{ready_id}/").content.decode()
    assert "Share the original as it is (with its location, if it has one)" in page
    assert 'name="original"' in page and 'name="original" checked' not in page
    share(client, ready_id)
    share(client, ready_id, original="on")
    cells = re.findall(r'data-testid="share-serves">([^<]+)<', client.get(f"/media/{ready_id}/").content.decode())
    assert sorted(cells) == ["Copy without location", "Original"]


def test_a_jpeg_that_cannot_be_cleaned_safely_is_shared_as_its_large_rendition(client, alice):
    # EXIF between two scans: decoders read it, so the stripper refuses rather than guess.
    data = progressive_jpeg((900, 600))
    second_scan = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    exif = camera_exif().tobytes()
    data = data[:second_scan] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + data[second_scan:]
    client.force_login(alice)
    media_id = create_and_upload(client, data, name="Odd")["id"]
    post_json(client, f"/api/media/{media_id}/complete")
    process(MediaItem.get(media_id))
    url = share(client, media_id)
    link = ShareLink.by_media.query(media_id).next()
    assert link.serves == "large" and link.copy_key.endswith("/large.jpg")
    assert "metadata between its scans" in client.get(f"/media/{media_id}/").content.decode()
    client.logout()
    assert "a JPEG of the picture, at most 2048 pixels" in client.get(path_of(url)).content.decode()
    download = shared_download(client, url)
    assert download.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(download.content)).getexif() == {}  # renditions carry no metadata at all


def test_deleting_the_item_deletes_its_location_free_copy(client, ready_id):
    share(client, ready_id)
    link = ShareLink.by_media.query(ready_id).next()
    bucket = settings.RENDITIONS_BUCKET
    assert [obj["Key"] for obj in storage.list_prefix(bucket, link.copy_key)] == [link.copy_key]
    client.post(f"/media/{ready_id}/delete/")
    assert [obj["Key"] for obj in storage.list_prefix(bucket, link.copy_key)] == [link.copy_key]  # in the trash
    client.post(f"/trash/{ready_id}/delete/")
    assert list(storage.list_prefix(bucket, storage.rendition_prefix(link.owner_id, ready_id))) == []


@pytest.mark.parametrize(
    ("content_type", "serves", "note"),
    [
        ("video/webm", "original", "cannot look for location data in this kind of video"),
        ("application/pdf", "original", "Documents are shared as they are."),
        ("image/avif", "large", "cannot take location data out of image/avif files"),
    ],
)
def test_kinds_without_a_copy_get_the_large_rendition_or_the_original_with_a_note(content_type, serves, note):
    large = {"large": {"width": 2048, "height": 1536, "files": {"jpg": {"key": "renditions/o/i/large.jpg"}}}}
    item = MediaItem("i", owner_id="o", detected_type=content_type, declared_type=content_type, size=10)
    item.renditions = large if content_type.startswith("image/") else None
    served = sharing.location_free(item)
    assert served.serves == serves and note in served.note


def test_an_image_with_neither_copy_nor_rendition_cannot_be_shared_without_location():
    item = MediaItem("i", owner_id="o", detected_type="image/avif", declared_type="image/avif", size=10)
    with pytest.raises(Conflict, match="Share the original instead"):
        sharing.location_free(item)


def test_the_page_of_a_new_link_has_a_copy_button(client, ready_id):
    page = client.post(f"/media/{ready_id}/share/", {"expires": "1d"}).content.decode()
    assert 'data-copy="share-url"' in page and 'aria-live="polite"' in page and "js/copy.js" in page


def stored_video(data: bytes) -> MediaItem:
    """A ready video item whose original is in the uploads bucket (processing is not what this is about)."""
    item = MediaItem("0" * 32, owner_id="o", detected_type="video/mp4", declared_type="video/mp4", size=len(data))
    item.object_key = "uploads/o/" + "0" * 32 + "/original.mp4"
    aws.client("s3").put_object(Bucket=settings.UPLOADS_BUCKET, Key=item.object_key, Body=data)
    return item


def test_a_video_that_records_a_place_is_shared_only_as_the_original_by_choice():
    placed = stored_video(mp4(box(b"udta", box(b"\xa9xyz", b"\x00\x12\x15\xc7+52.3702+004.8952/"))))
    with pytest.raises(Conflict, match="tick “Share the original as it is”"):
        sharing.location_free(placed)


def test_a_video_that_records_no_place_is_shared_as_it_is():
    served = sharing.location_free(stored_video(mp4()))
    assert served.serves == "original" and "records no location" in served.note


@pytest.fixture
def ready_video_id(client, alice):
    client.force_login(alice)
    body = create_and_upload(client, media.video(seconds=1), content_type="video/mp4", fileName="clip.mp4", name="Clip")
    post_json(client, f"/api/media/{body['id']}/complete")
    process(MediaItem.get(body["id"]))
    return body["id"]


def test_a_video_plays_at_once_on_a_link_without_a_download_limit(client, ready_video_id):
    url = share(client, ready_video_id)
    client.logout()
    text = client.get(path_of(url)).content.decode()
    assert 'data-testid="player"' in text and 'data-testid="shared-play"' not in text
    assert ShareLink.by_media.query(ready_video_id).next().downloads == 0


def test_on_a_link_with_a_download_limit_each_play_counts_as_a_download(client, ready_video_id):
    url = share(client, ready_video_id, max_downloads=1)
    client.logout()
    page = client.get(path_of(url)).content.decode()
    assert 'data-testid="player"' not in page  # no streaming link handed out before it is counted
    assert MediaItem.get(ready_video_id).object_key not in page
    assert "Playing counts as a download" in page

    played = client.post(path_of(url) + "play/")
    assert played.status_code == 200
    src = re.search(r'<video[^>]* src="([^"]+)"', played.content.decode()).group(1)
    assert requests.get(src.replace("&amp;", "&"), headers={"Range": "bytes=0-99"}, timeout=10).status_code == 206
    assert ShareLink.by_media.query(ready_video_id).next().downloads == 1
    assert MediaItem.get(ready_video_id).downloads == 1

    again = client.post(path_of(url) + "play/")  # the limit is reached: neither a play nor a download is left
    assert again.status_code == 410 and "download limit" in again.content.decode()
    assert client.post(path_of(url) + "download/").status_code == 410
