import pytest
from django.test import override_settings

from mediahub import middleware

pytestmark = pytest.mark.django_db


def directives(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


def test_no_csp_while_csp_is_off(client, settings):
    settings.CSP_ENABLED = False
    assert "Content-Security-Policy" not in client.get("/accounts/login/")


def test_the_csp_allows_only_own_scripts_and_styles_and_the_s3_endpoint_for_media(client, settings):
    settings.CSP_ENABLED = True
    policy = directives(client.get("/accounts/login/")["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert not any("unsafe" in value or value == "*" for values in policy.values() for value in values)
    endpoint = settings.AWS_ENDPOINT_URL  # the emulator: path-style URLs on its own origin
    for name in ("img-src", "media-src", "connect-src", "form-action"):
        assert policy[name] == (["'self'", "blob:", endpoint] if name == "img-src" else ["'self'", endpoint])
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]


def test_on_real_aws_the_csp_names_each_buckets_own_origins():
    names = {"UPLOADS_BUCKET": "media-up", "RENDITIONS_BUCKET": "media-re"}
    with override_settings(AWS_ENDPOINT_URL="", AWS_REGION="eu-west-1", **names):
        policy = directives(middleware.content_security_policy())
    assert policy["connect-src"] == [
        "'self'",
        "https://media-re.s3.amazonaws.com",
        "https://media-re.s3.eu-west-1.amazonaws.com",
        "https://media-up.s3.amazonaws.com",  # where boto3's presigned POST sends the browser
        "https://media-up.s3.eu-west-1.amazonaws.com",  # where our signed GET links point
    ]


def test_every_answer_carries_a_restrictive_permissions_policy(client):
    policy = client.get("/accounts/login/")["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()", "fullscreen=(self)"):
        assert feature in policy
    assert client.get("/api/openapi.json")["Permissions-Policy"] == policy


def test_api_answers_are_never_stored_but_the_openapi_document_keeps_its_caching(client, alice):
    assert client.get("/api/media/")["Cache-Control"] == "no-store"  # 401
    client.force_login(alice)
    assert client.get("/api/media/")["Cache-Control"] == "no-store"
    assert client.get("/api/no-such-thing")["Cache-Control"] == "no-store"
    assert client.get("/api/openapi.json")["Cache-Control"] == "public, max-age=300"
    assert "no-store" not in client.get("/accounts/signup/").get("Cache-Control", "")
