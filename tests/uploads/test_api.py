import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.conf import settings

from mediahub.aws import client as aws_client
from tests.conftest import create_and_upload, jpeg_bytes, post_json, process_until_ready, rate_limits, upload_to_s3
from tests.uploads.test_processing import process
from uploads import quota, storage
from uploads.models import MediaItem, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_presign_upload_complete_then_listed(alice_client):
    data = jpeg_bytes()
    body = create_and_upload(alice_client, data, caption="At the beach")
    assert body["expiresIn"] == 60
    assert (
        body["upload"]["fields"]["key"] == f"uploads/{alice_client.session['_auth_user_id']}/{body['id']}/original.jpg"
    )

    response = post_json(alice_client, f"/api/media/{body['id']}/complete")
    assert response.status_code == 202
    assert response.json()["status"] == "uploaded"

    listing = alice_client.get("/api/media/").json()
    assert [item["id"] for item in listing["items"]] == [body["id"]]
    item = listing["items"][0]
    assert (item["name"], item["caption"], item["size"], item["contentType"]) == (
        "A photo",
        "At the beach",
        len(data),
        "image/jpeg",
    )


def test_presigned_post_pins_type_and_exact_size(alice_client):
    response = post_json(
        alice_client, "/api/media/", {"fileName": "a.png", "contentType": "image/png", "size": 1234, "name": "n"}
    )
    policy_fields = response.json()["upload"]["fields"]
    assert policy_fields["Content-Type"] == "image/png"
    policy = json.loads(base64.b64decode(policy_fields["policy"]))
    assert ["content-length-range", 1234, 1234] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({}, "fileName", "required"),
        ({"contentType": "text/html"}, "contentType", "not accepted"),
        ({"contentType": "image/svg+xml"}, "contentType", "not accepted"),
        ({"size": 0}, "size", "empty"),
        ({"size": "lots"}, "size", "whole number"),
        ({"fileName": "../../etc/passwd"}, "fileName", "folders"),
        ({"fileName": "a\\b.jpg"}, "fileName", "folders"),
        ({"fileName": "bad\x07name.jpg"}, "fileName", "control characters"),
        ({"fileName": "<img src=x onerror=alert(1)>.jpg"}, "fileName", "< or >"),
        ({"fileName": "a" * 300 + ".jpg"}, "fileName", "limit is 255"),
        ({"name": ""}, "name", "required"),
        ({"name": "x" * 201}, "name", "at most 200"),
    ],
)
def test_create_rejects_bad_fields_with_a_message_per_field(alice_client, payload, field, message):
    valid = {"fileName": "photo.jpg", "contentType": "image/jpeg", "size": 10, "name": "n"}
    body = {**valid, **payload} if payload else {}
    response = post_json(alice_client, "/api/media/", body)
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])


def test_create_rejects_a_size_over_the_limit(alice_client, settings):
    settings.MAX_UPLOAD_SIZE = 1000
    response = post_json(
        alice_client, "/api/media/", {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 1001, "name": "n"}
    )
    assert response.status_code == 400
    assert "the limit is 1000" in response.json()["errors"]["size"][0]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b"\xff\xfe", b"[" * 100_000, b'{"fileName": "a.jpg", "name": "\\ud800"}'],
    ids=["not-json", "not-an-object", "not-utf8", "nested-too-deep", "lone-surrogate"],
)
def test_malformed_json_gets_a_400_saying_so(alice_client, body):
    response = alice_client.post("/api/media/", body, content_type="application/json")
    assert response.status_code == 400
    assert "body" in response.json()["errors"]


def test_complete_for_an_upload_that_never_arrived_rejects_it(alice_client):
    response = post_json(
        alice_client, "/api/media/", {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 10, "name": "n"}
    )
    media_id = response.json()["id"]
    response = post_json(alice_client, f"/api/media/{media_id}/complete")
    assert response.status_code == 422
    assert "never arrived" in response.json()["errors"]["file"][0]
    assert alice_client.get(f"/api/media/{media_id}").json()["status"] == "rejected"


def test_complete_rejects_a_file_larger_than_declared_and_deletes_it(alice_client):
    # The emulator does not enforce the policy's content-length-range, so the server must check.
    data = jpeg_bytes()
    body = create_and_upload(alice_client, data, size=len(data) - 10)
    response = post_json(alice_client, f"/api/media/{body['id']}/complete")
    assert response.status_code == 422
    assert "were declared" in response.json()["errors"]["file"][0]
    key = body["upload"]["fields"]["key"]
    assert "Contents" not in aws_client("s3").list_objects_v2(Bucket=settings.UPLOADS_BUCKET, Prefix=key)


def test_complete_rejects_content_that_is_not_the_declared_family(alice_client):
    html = b"<!doctype html><script>alert(1)</script>"
    body = create_and_upload(alice_client, html, content_type="image/jpeg")
    response = post_json(alice_client, f"/api/media/{body['id']}/complete")
    assert response.status_code == 422
    assert "not a type mediahub accepts" in response.json()["errors"]["file"][0]


def test_a_repeated_complete_answers_the_item_as_it_is_and_counts_once(alice_client, alice):
    data = jpeg_bytes()
    body = create_and_upload(alice_client, data)
    assert post_json(alice_client, f"/api/media/{body['id']}/complete").status_code == 202
    again = post_json(alice_client, f"/api/media/{body['id']}/complete")
    assert again.status_code == 202
    assert again.json()["status"] in ("uploaded", "ready")
    assert quota.bytes_stored(str(alice.pk)) == len(data)


def test_presigned_post_policy_expires_after_60_seconds(alice_client):
    # The emulator does not enforce a policy's expiry (real S3 answers 403); an upload refused that way never
    # arrives, which test_complete_for_an_upload_that_never_arrived_rejects_it covers.
    before = datetime.now(UTC)
    response = post_json(
        alice_client, "/api/media/", {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 10, "name": "n"}
    )
    policy = json.loads(base64.b64decode(response.json()["upload"]["fields"]["policy"]))
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(seconds=58) <= expires - before <= timedelta(seconds=62)


def test_patch_edits_name_and_caption_and_validates(alice_client):
    body = create_and_upload(alice_client, jpeg_bytes())
    url = f"/api/media/{body['id']}"
    response = post_json(alice_client, url, {"caption": "New caption"}, method="patch")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["caption"]) == ("A photo", "New caption")
    response = post_json(alice_client, url, {"name": ""}, method="patch")
    assert response.status_code == 400
    assert "name" in response.json()["errors"]


def test_delete_removes_the_record_and_every_object(alice_client):
    body = create_and_upload(alice_client, jpeg_bytes())
    key = body["upload"]["fields"]["key"]
    s3 = aws_client("s3")
    rendition_key = key.replace("uploads/", "renditions/", 1).replace("original.jpg", "thumb.jpg")
    s3.put_object(Bucket=settings.RENDITIONS_BUCKET, Key=rendition_key, Body=b"x")
    assert alice_client.delete(f"/api/media/{body['id']}").status_code == 204
    assert alice_client.get(f"/api/media/{body['id']}").status_code == 404
    assert "Contents" not in s3.list_objects_v2(Bucket=settings.UPLOADS_BUCKET, Prefix=key)
    assert "Contents" not in s3.list_objects_v2(Bucket=settings.RENDITIONS_BUCKET, Prefix=rendition_key)


def test_anonymous_api_calls_get_401_json(client):
    response = client.get("/api/media/")
    assert response.status_code == 401
    assert "auth" in response.json()["errors"]


def test_unsupported_method_gets_405_json(alice_client):
    response = alice_client.put("/api/media/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST, HEAD"


def test_session_api_requires_csrf(alice, settings):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    response = post_json(strict, "/api/media/", {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 1})
    assert response.status_code == 403
    assert "csrf" in response.json()["errors"]


def test_pagination_spans_pages_newest_first(alice_client, settings):
    settings.MEDIA_PAGE_SIZE = 2
    ids = [
        post_json(
            alice_client, "/api/media/", {"fileName": "a.jpg", "contentType": "image/jpeg", "size": 5, "name": f"{n}"}
        ).json()["id"]
        for n in range(5)
    ]
    seen, cursor = [], None
    while True:
        page = alice_client.get("/api/media/", {"cursor": cursor} if cursor else {}).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))


def test_a_forged_cursor_is_refused(alice_client):
    response = alice_client.get("/api/media/", {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


def test_delete_that_fails_half_way_keeps_the_record_so_a_retry_finishes(alice_client, monkeypatch):
    from uploads import storage

    body = create_and_upload(alice_client, jpeg_bytes())
    key = body["upload"]["fields"]["key"]
    real_delete_prefix = storage.delete_prefix

    def fail_on_renditions(bucket, prefix):
        if bucket == settings.RENDITIONS_BUCKET:
            raise storage.ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "DeleteObjects")
        real_delete_prefix(bucket, prefix)

    monkeypatch.setattr(storage, "delete_prefix", fail_on_renditions)
    assert alice_client.delete(f"/api/media/{body['id']}").status_code == 503
    assert alice_client.get(f"/api/media/{body['id']}").status_code == 200  # the record stays: nothing orphaned

    monkeypatch.setattr(storage, "delete_prefix", real_delete_prefix)
    assert alice_client.delete(f"/api/media/{body['id']}").status_code == 204
    assert alice_client.get(f"/api/media/{body['id']}").status_code == 404
    assert "Contents" not in aws_client("s3").list_objects_v2(Bucket=settings.UPLOADS_BUCKET, Prefix=key)


def test_unknown_api_paths_answer_json_404(alice_client):
    for path in ("/api/nothing", "/api/media/abc/extra/"):
        response = alice_client.get(path)
        assert response.status_code == 404
        assert response.json() == {"errors": {"path": ["There is no such API endpoint."]}}


def test_ids_that_cannot_be_ours_are_404_without_a_lookup(alice_client):
    for media_id in ("x" * 3000, "ABCDEF0123456789ABCDEF0123456789", "1"):
        assert alice_client.get(f"/api/media/{media_id}").status_code == 404


@pytest.mark.parametrize(
    "key",
    [
        {},
        {"id": {"S": "x"}, "created_at": {"N": "1"}},
        {"id": {"S": "x"}, "created_at": {"S": "t"}, "extra": {"S": "y"}},
    ],
    ids=["owner-only", "number-where-text", "extra-part"],
)
def test_cursors_missing_or_adding_key_parts_are_refused(alice_client, key):
    from uploads.selectors import encode_cursor

    owner = {"owner_id": {"S": alice_client.session["_auth_user_id"]}}
    response = alice_client.get("/api/media/", {"cursor": encode_cursor({**owner, **key})})
    assert response.status_code == 400


def test_head_works_where_get_does(alice_client):
    assert alice_client.head("/api/media/").status_code == 200


def test_reposting_the_presigned_fields_after_complete_never_replaces_what_is_served(alice_client):
    """The attack: the presigned POST stays valid 60 s after complete; same-size HTML posted again replaces
    the current object. Downloads and processing use the version pinned at arrival, and the new version's
    S3 event (Lambda mode) deletes it."""
    photo = jpeg_bytes(200, 150)
    body = create_and_upload(alice_client, photo)
    assert post_json(alice_client, f"/api/media/{body['id']}/complete").status_code == 202
    item = MediaItem.get(body["id"])
    process_until_ready(item.object_key)
    html = b"<html><script>alert(document.cookie)</script>" + b" " * (len(photo) - 46) + b"\n"
    assert len(html) == len(photo)
    assert upload_to_s3(body["upload"], html).status_code in (200, 204)
    swapped = storage.head_original(item.object_key)["VersionId"]
    assert swapped != MediaItem.get(body["id"]).version_id

    link = alice_client.get(f"/media/{body['id']}/download/")["Location"]
    assert requests.get(link, timeout=10).content == photo
    assert process(item, version_id=swapped) == "stray-version"
    listed = aws_client("s3").list_object_versions(Bucket=settings.UPLOADS_BUCKET, Prefix=item.object_key)
    assert [v["VersionId"] for v in listed["Versions"]] == [MediaItem.get(body["id"]).version_id]
    assert alice_client.get(f"/api/media/{body['id']}").json()["status"] == "ready"


# --- Hardening: body size, field types, rate limits -----------------------------------------------------------

UPLOAD = {"fileName": "photo.jpg", "contentType": "image/jpeg", "size": 10, "name": "A photo"}


def test_a_10_mb_json_body_is_a_json_400_saying_it_is_too_large(alice_client):
    body = json.dumps({**UPLOAD, "caption": "x" * (10 * 1024 * 1024)}).encode()
    for url in ("/api/media/", "/api/profile/avatar"):
        response = alice_client.post(url, body, content_type="application/json")
        assert (response.status_code, response["Content-Type"]) == (400, "application/json")
        assert response.json()["errors"]["body"] == ["The body is larger than 2.5 MB, the most this API reads."]


@pytest.mark.parametrize("value", [{"x": [1]}, ["a"], 5, 1.5, True], ids=["object", "list", "int", "float", "bool"])
@pytest.mark.parametrize("field", ["name", "caption", "fileName", "contentType"])
def test_text_fields_refuse_json_that_is_not_a_string(alice_client, field, value):
    response = post_json(alice_client, "/api/media/", {**UPLOAD, field: value})
    assert response.status_code == 400
    assert response.json()["errors"][field][0].startswith("This must be text, not ")


def test_a_dict_name_is_refused_on_patch_and_never_stored(alice_client):
    media_id = post_json(alice_client, "/api/media/", UPLOAD).json()["id"]
    response = post_json(alice_client, f"/api/media/{media_id}", {"name": {"x": [1]}}, method="patch")
    assert response.json() == {"errors": {"name": ["This must be text, not an object."]}}
    response = post_json(alice_client, f"/api/media/{media_id}", {"caption": [1]}, method="patch")
    assert response.json() == {"errors": {"caption": ["This must be text, not a list."]}}
    assert alice_client.get(f"/api/media/{media_id}").json()["name"] == "A photo"


def test_the_avatar_request_refuses_non_string_fields(alice_client):
    response = post_json(alice_client, "/api/profile/avatar", {"fileName": {"a": 1}, "contentType": 7})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"fileName", "contentType"}


def test_presigns_past_the_limit_are_429_with_retry_after(alice_client, settings):
    rate_limits(settings, {"upload": 5})
    for _ in range(3):
        assert post_json(alice_client, "/api/media/", UPLOAD).status_code == 201
    for _ in range(2):  # avatars count toward the same limit
        avatar = {"fileName": "me.jpg", "contentType": "image/jpeg"}
        assert post_json(alice_client, "/api/profile/avatar", avatar).status_code == 200
    for url, payload in (("/api/media/", UPLOAD), ("/api/profile/avatar", avatar)):
        response = post_json(alice_client, url, payload)
        assert (response.status_code, response["Content-Type"]) == (429, "application/json")
        assert int(response["Retry-After"]) > 0
        assert response.json()["errors"]["rate"][0].startswith("Too many uploads started: the limit is 5 per ")
    assert len(alice_client.get("/api/media/").json()["items"]) == 3


def test_api_calls_past_the_per_caller_limit_are_429(alice_client, bob, client, settings):
    rate_limits(settings, {"api": 3})
    for _ in range(3):
        assert alice_client.get("/api/media/").status_code == 200
    response = alice_client.get("/api/media/")
    assert response.status_code == 429 and "Too many API calls" in response.json()["errors"]["rate"][0]
    alice_client.force_login(bob)
    assert alice_client.get("/api/media/").status_code == 200  # per caller


# --- Lookup by checksum: GET /api/media/?sha256=… (the bulk uploader's dedup) -------------------------------------


def ready_photo(client, color: str = "teal") -> dict:
    """A photo uploaded, completed and processed (so its SHA-256 is recorded); the item as the API shows it."""
    body = create_and_upload(client, jpeg_bytes(color=color))
    post_json(client, f"/api/media/{body['id']}/complete")
    process_until_ready(MediaItem.get(body["id"]).object_key)
    return client.get(f"/api/media/{body['id']}").json()


def lookup(client, *checksums: str):
    return client.get("/api/media/", {"sha256": ",".join(checksums)})


def test_lookup_finds_the_callers_items_by_checksum_one_query_each(alice_client, local_aws):
    import hashlib

    first, second = ready_photo(alice_client, "teal"), ready_photo(alice_client, "red")
    assert first["sha256"] == hashlib.sha256(jpeg_bytes(color="teal")).hexdigest()
    unknown = "0" * 64
    start = len(local_aws.recorder.calls)
    response = lookup(alice_client, second["sha256"].upper(), unknown, first["sha256"], first["sha256"])
    calls = [(c.service, c.operation) for c in local_aws.recorder.calls[start:] if c.service == "dynamodb"]
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [second["id"], first["id"]]
    assert response.json()["nextCursor"] is None
    assert calls.count(("dynamodb", "Query")) == 3  # one per distinct checksum
    assert ("dynamodb", "Scan") not in calls


def test_lookup_never_reports_another_users_files(alice_client, bob):
    from django.test import Client

    mine = ready_photo(alice_client)
    bob_client = Client()
    bob_client.force_login(bob)
    assert lookup(bob_client, mine["sha256"]).json()["items"] == []
    theirs = ready_photo(bob_client)  # the same bytes, bob's own copy
    assert [item["id"] for item in lookup(bob_client, mine["sha256"]).json()["items"]] == [theirs["id"]]
    assert [item["id"] for item in lookup(alice_client, mine["sha256"]).json()["items"]] == [mine["id"]]


@pytest.mark.parametrize("status", [Status.REJECTED, Status.FAILED, Status.DELETING])
def test_lookup_leaves_out_files_refused_failed_or_being_deleted(alice_client, status):
    photo = ready_photo(alice_client)
    MediaItem.get(photo["id"]).update(actions=[MediaItem.status.set(status)])
    assert lookup(alice_client, photo["sha256"]).json()["items"] == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"sha256": "abc"}, "Checksum 1 is not a SHA-256 digest"),
        ({"sha256": "a" * 64 + ",zz"}, "Checksum 2 is not a SHA-256 digest"),
        ({"sha256": "a" * 64 + ","}, "Checksum 2 is not a SHA-256 digest"),
        ({"sha256": ",".join(["a" * 64] * 51)}, "At most 50 checksums at a time (51 given)"),
        ({"sha256": ""}, "This field is required."),
        ({"sha256": "a" * 64, "cursor": "x"}, "A checksum lookup is answered in one page"),
    ],
)
def test_lookup_refuses_what_is_not_a_list_of_checksums(alice_client, query, message):
    response = alice_client.get("/api/media/", query)
    assert response.status_code == 400
    [[error]] = response.json()["errors"].values()
    assert error.startswith(message)


# --- Live status: GET /api/media/status?ids=… (the pages follow items still processing) --------------------------


def statuses(client, *ids: str, **headers):
    return client.get("/api/media/status", {"ids": ",".join(ids)}, **headers)


def test_status_answers_many_ids_at_once_with_one_batch_get(alice_client, local_aws):
    ready = ready_photo(alice_client)
    waiting = create_and_upload(alice_client, jpeg_bytes())
    post_json(alice_client, f"/api/media/{waiting['id']}/complete")
    unknown = "0" * 32
    start = len(local_aws.recorder.calls)
    response = statuses(alice_client, waiting["id"], ready["id"], unknown, ready["id"])
    calls = [(c.service, c.operation) for c in local_aws.recorder.calls[start:] if c.service == "dynamodb"]
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["id"], i["status"]) for i in items] == [
        (waiting["id"], "uploaded"),
        (ready["id"], "ready"),
        (unknown, "unknown"),
    ]
    assert set(items[1]["renditions"]) == {"thumb", "medium", "large"}
    assert items[1]["renditions"]["thumb"]["jpg"].startswith("http")
    assert items[0]["renditions"] == {} and items[2]["reason"] is None
    reads = [op for _, op in calls if op in ("BatchGetItem", "GetItem", "Query", "Scan")]  # (the rate limit writes)
    assert reads == ["BatchGetItem"]


def test_status_of_someone_elses_item_is_unknown_and_says_nothing_of_it(alice_client, bob):
    from django.test import Client

    mine = ready_photo(alice_client)
    bob_client = Client()
    bob_client.force_login(bob)
    [item] = statuses(bob_client, mine["id"]).json()["items"]
    assert item == {
        "id": mine["id"],
        "status": "unknown",
        "reason": None,
        "renditions": {},
        "thumbhash": None,
        "color": None,
    }


def test_an_unchanged_status_answer_is_a_304_and_a_change_a_new_etag(alice_client):
    body = create_and_upload(alice_client, jpeg_bytes())
    post_json(alice_client, f"/api/media/{body['id']}/complete")
    first = statuses(alice_client, body["id"])
    etag = first["ETag"]
    again = statuses(alice_client, body["id"], HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", etag)

    assert process(MediaItem.get(body["id"])) == Status.READY
    changed = statuses(alice_client, body["id"], HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["items"][0]["status"] == "ready"


def test_a_rejected_item_answers_with_its_reason(alice_client):
    body = create_and_upload(alice_client, jpeg_bytes()[:300])  # a JPEG's start, then nothing: truncated
    post_json(alice_client, f"/api/media/{body['id']}/complete")
    assert process(MediaItem.get(body["id"])) == Status.REJECTED
    [item] = statuses(alice_client, body["id"]).json()["items"]
    assert item["status"] == "rejected" and "not a valid image" in item["reason"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"ids": "abc"}, "Id 1 is not an item id"),
        ({"ids": "a" * 32 + ",A" + "a" * 31}, "Id 2 is not an item id"),
        ({"ids": "a" * 32 + ","}, "Id 2 is not an item id"),
        ({"ids": ",".join(["a" * 32] * 101)}, "At most 100 ids at a time (101 given)"),
        ({}, "This field is required."),
    ],
)
def test_status_refuses_what_is_not_a_list_of_ids(alice_client, query, message):
    response = alice_client.get("/api/media/status", query)
    assert response.status_code == 400
    [error] = response.json()["errors"]["ids"]
    assert error.startswith(message)
