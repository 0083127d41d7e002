"""The JSON API against its OpenAPI description, over HTTP on the live test server.

First the documented flows, each answer checked against the document; then a property-based fuzz (schemathesis)
of every operation, with a write token, then without credentials and with a read-only one. Every answer must be
documented (status, content type, body) and none may be a server error.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from unittest import mock

import pytest
import requests
import schemathesis
from django.conf import settings
from django.test import Client, override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from mediahub.errors import StorageUnavailable
from mediahub.openapi import OPENAPI
from profiles import tokens
from tests.conftest import jpeg_bytes, process_until_ready, upload_to_s3

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
OPERATIONS = [
    (method.upper(), path)
    for path, item in OPENAPI["paths"].items()
    for method in item
    if method in ("get", "post", "patch", "put", "delete")
]
ITEM_OPERATIONS = {op for op in OPERATIONS if "{media_id}" in op[1]}
UNSAFE = {"POST", "PATCH", "PUT", "DELETE"}
NEW_ITEM = {"fileName": "photo.jpg", "contentType": "image/jpeg", "size": 1, "name": "A photo"}


class Api:
    """The live server as a script sees it: a schema loaded from /api/openapi.json and a token."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = base_url
        self.schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def operation(self, method: str, path: str):
        return self.schema[path][method]

    def call(self, case, *, headers: dict | None = None, cookies: dict | None = None, checks: list = CHECKS):
        """Send the case and check its answer against the document; returns the answer."""
        sent = {**self.headers, **(headers or {})}
        response = case.call(base_url=self.base_url, headers=sent, cookies=cookies, timeout=30)
        case.validate_response(response, checks=checks, headers=sent)
        return response

    def do(self, method: str, path: str, *, expect: int, **case_data):
        extra = {key: case_data.pop(key) for key in ("headers", "cookies") if key in case_data}
        if expect >= 500:  # a documented outage: everything but "no server errors"
            extra["checks"] = CHECKS[1:]
        response = self.call(self.operation(method, path).Case(**case_data), **extra)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else None


def write_token(user) -> str:
    return tokens.token_create(user, name="fuzz", scope="write")[1]


@pytest.fixture
def api(live_server, alice) -> Api:
    return Api(live_server.url, write_token(alice))


def uploaded_item(api: Api, data: bytes | None = None, *, complete: bool = False, ready: bool = False) -> str:
    """An item of alice's, through the API: created, its bytes uploaded (unless None), completed, processed."""
    body = api.do("POST", "/api/media/", expect=201, body={**NEW_ITEM, "size": len(data or b"x")})
    if data is not None:
        assert upload_to_s3(body["upload"], data).status_code in (200, 204)
    if complete or ready:
        api.do("POST", "/api/media/{media_id}/complete", expect=202, path_parameters={"media_id": body["id"]})
    if ready:
        process_until_ready(body["upload"]["fields"]["key"])
    return body["id"]


def avatar_upload(api: Api, data: bytes) -> str:
    ticket = api.do("POST", "/api/profile/avatar", expect=200, body={"fileName": "me.jpg", "contentType": "image/jpeg"})
    assert upload_to_s3(ticket, data).status_code in (200, 204)
    return ticket["key"]


# --- the documented flows, each answer checked against the document ---------------------------------------


def test_the_documented_flows_answer_as_documented(api, alice, bob, live_server):
    media = "/api/media/{media_id}"
    ready = uploaded_item(api, jpeg_bytes(400, 300), ready=True)
    item = api.do("GET", media, expect=200, path_parameters={"media_id": ready})
    assert item["status"] == "ready" and set(item["renditions"]) == {"thumb", "medium", "large"}
    assert item["width"] == 400 and item["renditions"]["thumb"]["jpg"].startswith("http")
    api.do("PATCH", media, expect=200, path_parameters={"media_id": ready}, body={"caption": "At the beach"})
    api.do("PATCH", media, expect=400, path_parameters={"media_id": ready}, body={"name": ""})
    listing = api.do("GET", "/api/media/", expect=200)
    assert [entry["id"] for entry in listing["items"]] == [ready]
    api.do("GET", "/api/media/", expect=400, query={"cursor": "not-one-of-ours"})
    second = uploaded_item(api)
    with override_settings(MEDIA_PAGE_SIZE=1):
        first_page = api.do("GET", "/api/media/", expect=200)
        assert first_page["nextCursor"] and [entry["id"] for entry in first_page["items"]] == [second]
        cursor = {"cursor": first_page["nextCursor"]}
        assert [entry["id"] for entry in api.do("GET", "/api/media/", expect=200, query=cursor)["items"]] == [ready]
    again = api.do("POST", media + "/complete", expect=202, path_parameters={"media_id": ready})
    assert again["status"] == "ready"  # a repeated complete answers with the item as it is

    with override_settings(USER_STORAGE_QUOTA=100):
        assert api.do("POST", "/api/media/", expect=400, body={**NEW_ITEM, "size": 101})["errors"]["size"]

    never_uploaded = uploaded_item(api)
    refused = api.do("POST", media + "/complete", expect=422, path_parameters={"media_id": never_uploaded})
    assert refused["item"]["status"] == "rejected" and refused["errors"]["file"]

    avatar = api.do("POST", "/api/profile/avatar/complete", expect=200, body={"key": avatar_upload(api, jpeg_bytes())})
    assert set(avatar["avatar"]) == {"64", "256"} and avatar["avatar"]["64"]["jpg"].startswith("http")
    api.do("POST", "/api/profile/avatar/complete", expect=422, body={"key": avatar_upload(api, b"%PDF-1.4 not a pic")})
    api.do("POST", "/api/profile/avatar/complete", expect=400, body={"key": f"avatars/{bob.pk}/{'0' * 32}.jpg"})
    api.do("POST", "/api/profile/avatar/complete", expect=409, body={"key": f"avatars/{alice.pk}/{'0' * 32}.jpg"})

    # bob sees none of alice's items and can act on none of them; then alice favourites one, trashes it, restores
    # it, trashes it again and deletes it for good.
    bobs = Api(live_server.url, write_token(bob))
    bobs.do("GET", media, expect=404, path_parameters={"media_id": ready})
    bobs.do("DELETE", media, expect=404, path_parameters={"media_id": ready})
    bobs.do("POST", "/api/media/bulk", expect=404, body={"action": "trash", "ids": [ready]})
    api.do("PATCH", media, expect=200, path_parameters={"media_id": ready}, body={"favourite": True})
    assert [i["id"] for i in api.do("GET", "/api/media/", expect=200, query={"favourites": "1"})["items"]] == [ready]
    api.do("DELETE", media, expect=204, path_parameters={"media_id": ready})
    assert api.do("GET", media, expect=200, path_parameters={"media_id": ready})["status"] == "trashed"
    api.do("DELETE", media, expect=409, path_parameters={"media_id": ready})
    assert [i["id"] for i in api.do("GET", "/api/trash", expect=200)["items"]] == [ready]
    restored = api.do("POST", "/api/media/bulk", expect=200, body={"action": "restore", "ids": [ready]})
    assert restored["items"] == [{"id": ready, "ok": True, "status": "ready", "error": None}]
    api.do("POST", "/api/media/bulk", expect=400, body={"action": "restore", "ids": []})
    api.do("DELETE", media, expect=204, path_parameters={"media_id": ready})
    assert api.do("DELETE", "/api/trash", expect=200) == {"deleted": 1}
    api.do("GET", media, expect=404, path_parameters={"media_id": ready})
    api.do("GET", media, expect=404, path_parameters={"media_id": "not an id at all"})

    # Credentials: none, a read-only token, a revoked token; the session, with and without the CSRF pair.
    anonymous = Api(live_server.url, None)
    anonymous.do("GET", "/api/media/", expect=401)
    anonymous.do("GET", "/api/openapi.json", expect=200)
    reader = Api(live_server.url, tokens.token_create(alice, name="viewer", scope="read")[1])
    reader.do("GET", "/api/media/", expect=200)
    assert reader.do("POST", "/api/media/", expect=403, body=NEW_ITEM)["errors"]["auth"]
    record, revoked = tokens.token_create(alice, name="old", scope="write")
    tokens.token_revoke(alice, record.pk)
    Api(live_server.url, revoked).do("GET", "/api/media/", expect=401)
    anonymous.do("GET", "/api/openapi.json", expect=401, headers={"Authorization": f"Bearer {revoked}"})

    browser = Client()
    browser.force_login(alice)
    session = {settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value}
    anonymous.do("GET", "/api/media/", expect=200, cookies=session)
    refused = anonymous.do("POST", "/api/media/", expect=403, body=NEW_ITEM, cookies=session)
    assert refused["errors"]["csrf"]
    csrf = secrets.token_hex(16)  # Django accepts any 32-character secret as long as cookie and header agree
    anonymous.do(
        "POST",
        "/api/media/",
        expect=201,
        body=NEW_ITEM,
        cookies={**session, settings.CSRF_COOKIE_NAME: csrf},
        headers={"X-CSRFToken": csrf},
    )

    # Storage down: 503, in the documented shape.
    with mock.patch("uploads.selectors.library_page", side_effect=StorageUnavailable("down")):
        assert api.do("GET", "/api/media/", expect=503)["errors"]["storage"]


MIB = 1024**2


def part_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@override_settings(MULTIPART_THRESHOLD=5 * MIB, MULTIPART_PART_SIZE=5 * MIB)
def test_the_documented_multipart_flow_answers_as_documented(api, live_server, bob):
    """Create in parts, sign, PUT, list to resume, complete (early: 409; then 202 and again 202), cancel."""
    media, parts = "/api/media/{media_id}", "/api/media/{media_id}/parts"
    data = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + bytes(11 * MIB)
    chunks = {1: data[: 5 * MIB], 2: data[5 * MIB : 10 * MIB], 3: data[10 * MIB :]}
    ticket = api.do("POST", "/api/media/", expect=201, body={**NEW_ITEM, "contentType": "video/mp4", "size": len(data)})
    assert ticket["multipart"]["partCount"] == 3
    ids = {"media_id": ticket["id"]}

    def sign(numbers: list[int], expect: int = 200):
        body = {"partNumbers": numbers, "checksums": [part_sha256(chunks[n]) for n in numbers]}
        return api.do("POST", parts, expect=expect, path_parameters=ids, body=body)

    for signed in sign([1, 3])["parts"]:
        assert requests.put(signed["url"], data=chunks[signed["partNumber"]], headers=signed["headers"], timeout=30)
    listing = api.do("GET", parts, expect=200, path_parameters=ids)
    assert [p["partNumber"] for p in listing["parts"]] == [1, 3]
    assert api.do("POST", media + "/complete", expect=409, path_parameters=ids)["errors"]["status"]
    [signed] = sign([2])["parts"]
    assert requests.put(signed["url"], data=chunks[2], headers=signed["headers"], timeout=30).status_code == 200
    assert api.do("POST", media + "/complete", expect=202, path_parameters=ids)["status"] == "uploaded"
    assert api.do("POST", media + "/complete", expect=202, path_parameters=ids)["status"] == "uploaded"
    sign([1], expect=409)
    api.do("GET", parts, expect=409, path_parameters=ids)
    api.do("DELETE", media + "/upload", expect=409, path_parameters=ids)

    other = api.do("POST", "/api/media/", expect=201, body={**NEW_ITEM, "contentType": "video/mp4", "size": len(data)})
    other_ids = {"media_id": other["id"]}
    past_the_end = {"partNumbers": [4], "checksums": ["A" * 43 + "="]}
    api.do("POST", parts, expect=400, path_parameters=other_ids, body=past_the_end)
    Api(live_server.url, write_token(bob)).do("GET", parts, expect=404, path_parameters=other_ids)
    api.do("DELETE", media + "/upload", expect=204, path_parameters=other_ids)
    api.do("GET", media, expect=404, path_parameters=other_ids)
    small = uploaded_item(api)
    api.do("GET", parts, expect=409, path_parameters={"media_id": small})


BODY_OPERATIONS = [(m, p) for m, p in OPERATIONS if "requestBody" in OPENAPI["paths"][p][m.lower()]]


def send_raw(api: Api, body: bytes) -> list[requests.Response]:
    """The same raw body to every operation that takes one."""
    headers = {**api.headers, "Content-Type": "application/json"}
    return [
        requests.request(
            method, api.base_url + path.replace("{media_id}", uuid.uuid4().hex), data=body, headers=headers, timeout=30
        )
        for method, path in BODY_OPERATIONS
    ]


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b'"text"', b"\xff\xfe", b"[" * 100_000, b'{"name": "\\ud800", "key": "\\udfff"}'],
    ids=["empty", "not JSON", "not an object", "a string", "not UTF-8", "nested too deep", "lone surrogates"],
)
def test_bodies_that_are_not_json_objects_are_400_json(api, body):
    for response in send_raw(api, body):
        assert (response.status_code, response.headers["Content-Type"]) == (400, "application/json")
        assert list(response.json()["errors"]) == ["body"]


# --- the fuzz ----------------------------------------------------------------------------------------------

# Route segments the media id converter accepts: any non-empty text without "/".
ANY_SEGMENT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1, max_size=80)


def strategies(api: Api, method: str, path: str, *, seeds: dict, modes: tuple[GenerationMode, ...]):
    """Generated cases for one operation: schema-valid and schema-breaking, on unknown and on real ids."""
    operation = api.operation(method, path)
    variants = []
    for mode in modes:
        if mode is GenerationMode.NEGATIVE and not _negatable(operation):
            continue
        if (method, path) in ITEM_OPERATIONS:
            # The document's ids are unknown (404); the seeded ones exist; the route also takes any other text.
            ids = st.one_of(st.sampled_from(seeds["items"]), ANY_SEGMENT, st.uuids().map(lambda u: u.hex))
            variants.append(ids.flatmap(lambda i, m=mode: operation.as_strategy(m, path_parameters={"media_id": i})))
            variants.append(operation.as_strategy(mode))
        elif path == "/api/profile/avatar/complete":
            variants.append(operation.as_strategy(mode))
            if mode is GenerationMode.POSITIVE:
                variants.append(st.sampled_from(seeds["avatar_keys"]).map(lambda k: operation.Case(body={"key": k})))
        else:
            variants.append(operation.as_strategy(mode))
    return st.one_of(variants)


def _negatable(operation) -> bool:
    return any(True for _ in operation.iter_parameters()) or bool(operation.body)


def run(strategy, check, *, examples: int) -> None:
    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case) -> None:
        check(case)

    fuzz()


@pytest.fixture
def seeds(api, alice) -> dict:
    """Real ids and an avatar upload in progress, so the fuzz reaches more than 404s."""
    items = [
        uploaded_item(api, jpeg_bytes(64, 48), ready=True),
        uploaded_item(api, jpeg_bytes(32, 32)),  # completes with 202, and again 202 with the item as it is
        uploaded_item(api),  # never uploaded: 422
        # In parts, none uploaded: parts signed (200) and listed, complete 409, cancelled (204, then 404).
        api.do("POST", "/api/media/", expect=201, body={**NEW_ITEM, "size": settings.MULTIPART_THRESHOLD + 1})["id"],
    ]
    avatar_keys = [avatar_upload(api, jpeg_bytes()), f"avatars/{alice.pk}/{uuid.uuid4().hex}.jpg"]  # 200; 409
    return {"items": items, "avatar_keys": avatar_keys}


def needs_seeds(method: str, path: str) -> bool:
    return (method, path) in ITEM_OPERATIONS or path == "/api/profile/avatar/complete"


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzz_with_a_write_token(request, api, method, path):
    seeds = request.getfixturevalue("seeds") if needs_seeds(method, path) else {}
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    run(strategies(api, method, path, seeds=seeds, modes=modes), api.call, examples=40)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_fuzz_without_rights(live_server, alice, method, path):
    """No credentials: 401 (or 403 from the CSRF check on unsafe methods). A read-only token: 403 on those."""
    seeds = {"items": [uuid.uuid4().hex], "avatar_keys": [f"avatars/{alice.pk}/{uuid.uuid4().hex}.jpg"]}
    reader = tokens.token_create(alice, name="viewer", scope="read")[1]
    for token, refused in ((None, {401, 403}), (reader, {403})):
        api = Api(live_server.url, token)
        must_refuse = path != "/api/openapi.json" and (token is None or method in UNSAFE)

        def check(case, api=api, must_refuse=must_refuse, refused=refused) -> None:
            response = api.call(case)
            if must_refuse:
                assert response.status_code in refused, (case, response.status_code, response.text)

        run(strategies(api, method, path, seeds=seeds, modes=(GenerationMode.POSITIVE,)), check, examples=10)
