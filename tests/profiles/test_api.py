import pytest
from django.conf import settings
from PIL import Image

from mediahub.aws import client as aws_client
from profiles.models import Profile
from tests.conftest import jpeg_bytes, post_json, upload_to_s3
from tests.images import encoded, png_header

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def keys(bucket: str, prefix: str) -> list[str]:
    listing = aws_client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(obj["Key"] for obj in listing.get("Contents", []))


def change_avatar(client, data: bytes, content_type: str = "image/jpeg", file_name: str = "me.jpg"):
    """The mobile app's contract: presign, upload with the exact Content-Type, complete."""
    ticket = post_json(client, "/api/profile/avatar", {"fileName": file_name, "contentType": content_type})
    assert ticket.status_code == 200, ticket.content
    body = ticket.json()
    assert body["expiresIn"] == 60
    assert upload_to_s3({"url": body["url"], "fields": body["fields"]}, data).status_code in (200, 204)
    return body["key"], post_json(client, "/api/profile/avatar/complete", {"key": body["key"]})


def test_full_avatar_flow_points_the_profile_at_new_renditions_and_removes_the_old(alice_client, alice):
    first_key, response = change_avatar(alice_client, jpeg_bytes(400, 300, "red"))
    assert response.status_code == 200
    assert set(response.json()["avatar"]) == {"64", "256"}
    uid = str(alice.pk)
    assert first_key.startswith(f"avatars/{uid}/")
    head = aws_client("s3").head_object(Bucket=settings.UPLOADS_BUCKET, Key=first_key)
    assert head["ContentType"] == "image/jpeg"

    second_key, response = change_avatar(
        alice_client, encoded(Image.new("RGB", (90, 90), "blue"), "PNG").getvalue(), "image/png", "me.png"
    )
    assert response.status_code == 200
    profile = Profile.get(uid)
    assert profile.avatar_key == second_key
    assert (profile.avatar_renditions["64"]["width"], profile.avatar_renditions["256"]["width"]) == (64, 90)
    stem = second_key.rsplit(".", 1)[0]
    assert keys(settings.UPLOADS_BUCKET, f"avatars/{uid}/") == [second_key]
    assert keys(settings.RENDITIONS_BUCKET, f"avatars/{uid}/") == sorted(
        f"{stem}/{size}.{ext}" for size in ("64", "256") for ext in ("jpg", "webp")
    )


def test_rendition_has_no_exif_and_is_a_square(alice_client, alice):
    from tests.images import camera_jpeg

    change_avatar(alice_client, camera_jpeg().getvalue())
    key = Profile.get(str(alice.pk)).avatar_renditions["256"]["files"]["jpg"]["key"]
    body = aws_client("s3").get_object(Bucket=settings.RENDITIONS_BUCKET, Key=key)["Body"].read()
    import io

    image = Image.open(io.BytesIO(body))
    assert image.size == (256, 256)
    assert not image.getexif()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"contentType": "image/png"}, "fileName", "required"),
        ({"fileName": "me.png"}, "contentType", "required"),
        ({"fileName": "me.pdf", "contentType": "application/pdf"}, "contentType", "not an image type"),
        ({"fileName": "me.svg", "contentType": "image/svg+xml"}, "contentType", "not an image type"),
        ({"fileName": "../me.png", "contentType": "image/png"}, "fileName", "folders"),
        ({"fileName": "m\ne.png", "contentType": "image/png"}, "fileName", "control characters"),
        ({"fileName": "x" * 300, "contentType": "image/png"}, "fileName", "limit is 255"),
    ],
)
def test_avatar_api_validates_each_field(alice_client, payload, field, message):
    response = post_json(alice_client, "/api/profile/avatar", payload)
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])


def test_avatar_api_refuses_malformed_json(alice_client):
    response = alice_client.post("/api/profile/avatar", b"{", content_type="application/json")
    assert response.status_code == 400
    assert "body" in response.json()["errors"]


def test_avatar_presign_pins_content_type_and_the_avatar_size_limit(alice_client):
    import base64
    import json

    body = post_json(alice_client, "/api/profile/avatar", {"fileName": "a.webp", "contentType": "image/webp"}).json()
    policy = json.loads(base64.b64decode(body["fields"]["policy"]))
    assert {"Content-Type": "image/webp"} in policy["conditions"]
    assert ["content-length-range", 1, settings.AVATAR_MAX_SIZE] in policy["conditions"]
    assert body["key"].endswith(".webp")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (png_header(30000, 30000).getvalue(), "megapixels"),
        (b"<!doctype html><script>alert(1)</script>", "not a type mediahub accepts"),
        (b"%PDF-1.7\n" + b"\0" * 60, "its content is application/pdf"),
    ],
    ids=["bomb", "html-posing-as-image", "pdf"],
)
def test_bad_avatars_are_refused_with_a_reason_and_the_old_one_stays(alice_client, alice, data, reason):
    good_key, _ = change_avatar(alice_client, jpeg_bytes())
    bad_key, response = change_avatar(alice_client, data)
    assert response.status_code == 422
    assert reason in response.json()["errors"]["file"][0]
    profile = Profile.get(str(alice.pk))
    assert profile.avatar_key == good_key
    assert reason in profile.avatar_error
    assert keys(settings.UPLOADS_BUCKET, bad_key) == []


def test_oversized_avatar_is_refused(alice_client, settings):
    settings.AVATAR_MAX_SIZE = 500
    _, response = change_avatar(alice_client, jpeg_bytes(300, 300))
    assert response.status_code == 422
    assert "the limit is 500" in response.json()["errors"]["file"][0]


def test_one_user_cannot_complete_another_users_avatar(client, alice, bob):
    client.force_login(alice)
    ticket = post_json(client, "/api/profile/avatar", {"fileName": "a.jpg", "contentType": "image/jpeg"}).json()
    upload_to_s3(ticket, jpeg_bytes())
    client.force_login(bob)
    response = post_json(client, "/api/profile/avatar/complete", {"key": ticket["key"]})
    assert response.status_code == 400
    assert "not one of your avatar uploads" in response.json()["errors"]["__all__"][0]
    assert Profile.get(str(alice.pk)).avatar_key is None


@pytest.mark.parametrize("body", [{}, {"key": ""}, {"key": 5}])
def test_complete_requires_a_key(alice_client, body):
    response = post_json(alice_client, "/api/profile/avatar/complete", body)
    assert response.status_code == 400
    assert "key" in response.json()["errors"]


def test_a_superseded_upload_is_not_applied(alice_client, alice):
    old = post_json(alice_client, "/api/profile/avatar", {"fileName": "a.jpg", "contentType": "image/jpeg"}).json()
    upload_to_s3(old, jpeg_bytes())
    post_json(alice_client, "/api/profile/avatar", {"fileName": "b.jpg", "contentType": "image/jpeg"})
    response = post_json(alice_client, "/api/profile/avatar/complete", {"key": old["key"]})
    assert response.status_code == 409
    assert Profile.get(str(alice.pk)).avatar_key is None


def test_the_s3_event_processes_avatars_too(alice_client, alice):
    from uploads import events

    ticket = post_json(alice_client, "/api/profile/avatar", {"fileName": "a.jpg", "contentType": "image/jpeg"}).json()
    upload_to_s3(ticket, jpeg_bytes())
    record = {"s3": {"bucket": {"name": settings.UPLOADS_BUCKET}, "object": {"key": ticket["key"], "eTag": "e"}}}
    assert events.handle_s3_event({"Records": [record]}) == {"outcomes": [[ticket["key"], "ready"]]}
    assert Profile.get(str(alice.pk)).avatar_key == ticket["key"]
    # The browser's complete call that follows finds it done.
    assert post_json(alice_client, "/api/profile/avatar/complete", {"key": ticket["key"]}).status_code == 200


def test_anonymous_avatar_calls_get_401(client):
    assert post_json(client, "/api/profile/avatar", {}).status_code == 401


def test_completing_a_key_never_handed_out_is_a_conflict_not_a_crash(client, bob):
    client.force_login(bob)  # no profile yet: it is made on first read
    key = f"avatars/{bob.pk}/{'0' * 32}.jpg"
    response = post_json(client, "/api/profile/avatar/complete", {"key": key})
    assert response.status_code == 409
    assert "no longer the one in progress" in response.json()["errors"]["status"][0]
