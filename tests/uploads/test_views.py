import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tests.conftest import create_and_upload, jpeg_bytes, post_json
from tests.images import heic

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_item(client, alice):
    client.force_login(alice)
    body = create_and_upload(client, jpeg_bytes(), fileName="Été à la plage.jpg")
    assert post_json(client, f"/api/media/{body['id']}/complete").status_code == 202
    client.logout()
    return body["id"]


def test_gallery_lists_only_my_items(client, alice, bob, alice_item):
    client.force_login(bob)
    assert alice_item not in client.get("/").content.decode()
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert f"/media/{alice_item}/" in page
    assert "Processing" in page  # not yet processed


def test_no_javascript_upload_streams_through_django_then_confirms(client, alice):
    client.force_login(alice)
    data = jpeg_bytes()
    upload = SimpleUploadedFile("cat.jpg", data, content_type="image/jpeg")
    response = client.post("/upload/", {"name": "Cat", "caption": "Sleeping", "file": upload})
    assert response.status_code == 302
    confirmation = client.get(response.url)
    text = confirmation.content.decode()
    assert confirmation.status_code == 200
    for expected in ("Uploaded", "Cat", "Sleeping", "cat.jpg", "image/jpeg", f"{len(data)} bytes", "Download"):
        assert expected in text


def test_no_javascript_upload_of_a_heic_the_browser_sent_untyped_is_taken_by_its_extension(client, alice):
    client.force_login(alice)
    data = heic(Image.new("RGB", (64, 48), "teal")).getvalue()
    upload = SimpleUploadedFile("IMG_0042.HEIC", data, content_type="application/octet-stream")
    response = client.post("/upload/", {"name": "Phone", "file": upload})
    assert response.status_code == 302
    assert "image/heic" in client.get(response.url).content.decode()


def test_upload_page_lets_the_file_picker_show_heic_files_by_their_extension(client, alice):
    client.force_login(alice)
    page = client.get("/upload/").content.decode()
    [accept] = re.findall(r'<input type="file"[^>]* accept="([^"]*)"', page)
    assert {"image/heic", "image/heif", ".heic", ".heif", ".jpg"} <= set(accept.split(","))
    assert "HEIC" in page


def test_no_javascript_upload_refuses_an_unknown_type_with_a_message(client, alice):
    client.force_login(alice)
    upload = SimpleUploadedFile("page.html", b"<html></html>", content_type="text/html")
    response = client.post("/upload/", {"name": "x", "file": upload})
    assert response.status_code == 200
    assert "text/html are not accepted" in response.content.decode()


def test_no_javascript_upload_rejects_content_posing_as_an_image(client, alice):
    client.force_login(alice)
    upload = SimpleUploadedFile("x.jpg", b"PK\x03\x04 a zip file", content_type="image/jpeg")
    response = client.post("/upload/", {"name": "x", "file": upload}, follow=True)
    assert "Not accepted" in response.content.decode()
    assert "This file is not a type mediahub accepts" in response.content.decode()


@pytest.fixture
def on_lambda(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "mediahub-production")  # what the Lambda runtime sets


def test_no_javascript_upload_on_lambda_refuses_a_file_too_large_for_a_request_without_reading_it(alice, on_lambda):
    client = Client(enforce_csrf_checks=True)  # CsrfViewMiddleware, which reads a form's body for its token, too
    client.force_login(alice)
    upload = SimpleUploadedFile("big.jpg", jpeg_bytes() + bytes(5 * 1024 * 1024), content_type="image/jpeg")
    response = client.post("/upload/", {"name": "Big", "file": upload}, HTTP_REFERER="http://testserver/upload/")
    assert response.status_code == 302 and response.url == "http://testserver/upload/"
    assert response.wsgi_request._read_started is False
    page = client.get(response.url).content.decode()
    assert "Without JavaScript, an upload here can be at most 4.3 MB, and this one is 5.0 MB." in page
    assert "Turn JavaScript on to use the uploader: it sends files of up to 64.0 MB straight to storage." in page
    assert "big.jpg" not in client.get("/").content.decode()


def test_no_javascript_upload_on_lambda_still_takes_a_file_within_the_limit(client, alice, on_lambda):
    client.force_login(alice)
    upload = SimpleUploadedFile("cat.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = client.post("/upload/", {"name": "Cat", "file": upload})
    assert response.status_code == 302 and "/uploaded/" in response.url


def test_no_javascript_upload_is_still_csrf_protected(alice, on_lambda):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    upload = SimpleUploadedFile("cat.jpg", jpeg_bytes(), content_type="image/jpeg")
    assert client.post("/upload/", {"name": "Cat", "file": upload}).status_code == 403


def test_upload_page_states_the_no_javascript_limit_on_lambda_only(client, alice, monkeypatch):
    client.force_login(alice)
    hint = "Without JavaScript, at most 4.3\xa0MB per upload here."  # filesizeformat: a no-break space
    assert hint not in client.get("/upload/").content.decode()
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "mediahub-production")
    assert hint in client.get("/upload/").content.decode()


def test_download_counts_and_redirects_to_a_short_lived_attachment_link(client, alice, alice_item):
    client.force_login(alice)
    response = client.get(f"/media/{alice_item}/download/")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.url).query)
    assert query["X-Amz-Expires"] == ["60"]
    disposition = query["response-content-disposition"][0]
    assert disposition.startswith('attachment; filename="t  la plage.jpg"')
    assert "filename*=UTF-8''%C3%89t%C3%A9%20%C3%A0%20la%20plage.jpg" in disposition
    fetched = requests.get(response.url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.headers["Content-Disposition"] == disposition
    assert '<dd data-testid="downloads">1</dd>' in client.get(f"/media/{alice_item}/").content.decode()


def test_detail_page_edits_name_and_caption(client, alice, alice_item):
    client.force_login(alice)
    response = client.post(f"/media/{alice_item}/", {"name": "Renamed", "caption": "New words"}, follow=True)
    text = response.content.decode()
    assert "Saved." in text
    assert "Renamed" in text
    assert "New words" in text


def test_detail_page_shows_field_errors(client, alice, alice_item):
    client.force_login(alice)
    response = client.post(f"/media/{alice_item}/", {"name": "", "caption": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_delete_from_the_page_moves_the_item_to_the_trash_and_the_trash_deletes_it_for_good(client, alice, alice_item):
    client.force_login(alice)
    response = client.post(f"/media/{alice_item}/delete/", follow=True)
    assert "Moved to the trash" in response.content.decode()
    assert f"/media/{alice_item}/" not in response.content.decode()  # the gallery no longer shows it
    assert 'data-testid="in-trash"' in client.get(f"/media/{alice_item}/").content.decode()
    response = client.post(f"/trash/{alice_item}/delete/", follow=True)
    assert "Deleted for good" in response.content.decode()
    assert client.get(f"/media/{alice_item}/").status_code == 404


def test_pages_send_nosniff(client, alice):
    client.force_login(alice)
    assert client.get("/").headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/media/{id}/"),
        ("post", "/media/{id}/"),
        ("get", "/media/{id}/uploaded/"),
        ("get", "/media/{id}/download/"),
        ("post", "/media/{id}/delete/"),
        ("post", "/media/{id}/favourite/"),
        ("post", "/trash/{id}/restore/"),
        ("post", "/trash/{id}/delete/"),
    ],
)
def test_someone_elses_item_is_a_404_on_every_page(client, bob, alice_item, method, url):
    client.force_login(bob)
    response = getattr(client, method)(url.format(id=alice_item), {"name": "mine now"} if method == "post" else None)
    assert response.status_code == 404
    assert client.get("/media/00000000000000000000000000000000/").status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", ""), ("patch", ""), ("delete", ""), ("post", "/complete")],
)
def test_someone_elses_item_is_a_404_in_the_api(client, bob, alice_item, method, url):
    client.force_login(bob)
    path = f"/api/media/{alice_item}{url}"
    response = client.get(path) if method == "get" else post_json(client, path, {"name": "mine"}, method=method)
    assert response.status_code == 404
    assert response.json() == {"errors": {"id": ["No such media item."]}}


def test_owner_still_has_the_item_after_others_tried(client, alice, bob, alice_item):
    client.force_login(bob)
    client.post(f"/media/{alice_item}/delete/")
    client.force_login(alice)
    assert client.get(f"/api/media/{alice_item}").json()["name"] == "A photo"


def test_storage_outage_is_a_message_not_a_500(client, alice, settings):
    from mediahub import aws

    client.force_login(alice)
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.DYNAMODB_TABLE_PREFIX = "unreachable-"  # a new table name makes PynamoDB reconnect
    try:
        response = post_json(
            client, "/api/media/", {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 3, "name": "n"}
        )
        assert response.status_code == 503
        assert "try again" in response.json()["errors"]["storage"][0]
    finally:
        aws._client.cache_clear()


def test_gallery_shows_a_refused_item_with_its_reason(client, alice):
    client.force_login(alice)
    payload = {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 10, "name": "Never sent"}
    media_id = post_json(client, "/api/media/", payload).json()["id"]
    post_json(client, f"/api/media/{media_id}/complete")  # nothing was uploaded: refused
    page = client.get("/").content.decode()
    assert 'data-testid="status">Rejected<' in page
    assert "The file never arrived" in page


# --- Gallery paging both ways; the facts of when and with what a picture was taken ------------------------------


def gallery_ids(client, query: str = "") -> tuple[list[str], str | None, str | None]:
    """The ids a gallery page shows, newest first, and its Older and Newer links."""
    page = client.get(f"/{query}").content.decode()
    ids = re.findall(r'href="/media/([0-9a-f]{32})/" data-live-preview', page)
    older = re.search(r'href="(\?cursor=[^"]+)" data-testid="next-page"', page)
    newer = re.search(r'href="(\?before=[^"]+)" data-testid="newer-page"', page)
    return ids, older and older[1], newer and newer[1]


@pytest.mark.parametrize("count", [5, 4])  # a page left over, and pages that come out even
def test_the_gallery_pages_down_to_older_items_and_back_up_to_newer_ones(client, alice, settings, count):
    settings.MEDIA_PAGE_SIZE = 2
    client.force_login(alice)
    made = [create_and_upload(client, jpeg_bytes(), name=f"Item {i}")["id"] for i in range(count)]
    newest_first = made[::-1]

    pages, query, newer_links = [], "", []
    while query is not None:
        ids, query, newer = gallery_ids(client, query)
        pages.append(ids)
        newer_links.append(newer)
    assert [i for page in pages for i in page] == newest_first
    assert all(len(page) == 2 for page in pages[:-1]) and newer_links[0] is None and all(newer_links[1:])

    climbed = [pages[-1]]
    newer = newer_links[-1]
    while newer is not None:
        ids, _, newer = gallery_ids(client, newer)
        climbed.append(ids)
    assert climbed[-1] == newest_first[:2]  # back at the top: a full first page, with no Newer link
    assert [i for page in climbed[::-1][:-1] for i in page] == newest_first[: len(made) - len(pages[-1])]


def test_a_newer_link_of_someone_else_is_refused_with_a_message(client, alice, bob, settings):
    settings.MEDIA_PAGE_SIZE = 1
    client.force_login(alice)
    for _ in range(2):
        create_and_upload(client, jpeg_bytes())
    _, older, _ = gallery_ids(client)
    _, _, newer = gallery_ids(client, older)
    client.force_login(bob)
    response = client.get(f"/{newer}", follow=True)
    assert "That page link is not valid." in response.content.decode()


def test_the_detail_page_says_when_and_with_what_the_picture_was_taken(client, alice):
    from tests.images import camera_exif, encoded, photo
    from tests.uploads.test_processing import process
    from uploads.models import MediaItem, Status

    client.force_login(alice)
    from PIL import ExifTags
    from PIL.TiffImagePlugin import IFDRational

    exif = camera_exif(model="Canon EOS R5")
    exif.get_ifd(ExifTags.IFD.Exif).update(
        {
            ExifTags.Base.ExposureTime: IFDRational(1, 250),
            ExifTags.Base.FNumber: IFDRational(28, 10),
            ExifTags.Base.ISOSpeedRatings: 400,
            ExifTags.Base.FocalLength: IFDRational(50, 1),
        }
    )
    body = create_and_upload(client, encoded(photo((600, 400)), "JPEG", exif=exif.tobytes()).getvalue())
    assert process(MediaItem.get(body["id"])) == Status.READY
    page = client.get(f"/media/{body['id']}/").content.decode()
    facts = dict(re.findall(r'<dd data-testid="exif-(\w+)">([^<]*)</dd>', page))
    assert facts == {
        "taken": "2024-05-01 12:34 (camera&#x27;s clock)",
        "camera": "Canon EOS R5",
        "lens": "RF24-70mm F2.8 L IS USM",
        "exposure": "1/250 s · f/2.8 · ISO 400 · 50 mm",
    }
