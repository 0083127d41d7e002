"""The OpenAPI description stays true: a valid document, the same paths and methods as the URL patterns, the same
request limits as the forms, served to anyone. (Its answers are checked against the running API in test_api_fuzz.)
"""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from django import forms
from django.conf import settings
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from openapi_spec_validator import validate

from albums.forms import AlbumForm
from mediahub.openapi import OPENAPI
from profiles.forms import AvatarRequestForm
from uploads.forms import MediaFieldsForm, UploadRequestForm

SCHEMAS = OPENAPI["components"]["schemas"]
METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def documented() -> dict[str, set[str]]:
    """Path -> its documented methods, upper case."""
    return {path: {m.upper() for m in item if m in METHODS} for path, item in OPENAPI["paths"].items()}


def routes(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        else:
            yield route


def as_openapi(route: str) -> str:
    """`api/media/<str:media_id>` -> `/api/media/{media_id}`."""
    return "/" + re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", route)


def example_path(path: str) -> str:
    return path.replace("{media_id}", "0123456789abcdef0123456789abcdef").replace(
        "{album_id}", "fedcba9876543210fedcba9876543210"
    )


# --- (a) a valid document -----------------------------------------------------------------------------------


def test_the_document_is_valid_openapi():
    validate(OPENAPI)
    schema = schemathesis.openapi.from_dict(OPENAPI)
    schema.validate()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(methods) for methods in documented().values())
    assert json.loads(json.dumps(OPENAPI)) == OPENAPI


# --- (b) the same paths and methods as the URL patterns ---------------------------------------------------


def test_every_api_route_is_documented_and_every_documented_path_is_a_route():
    api_routes = {as_openapi(route) for route in routes(get_resolver().url_patterns) if route.startswith("api/")}
    assert api_routes == set(documented())


@pytest.mark.parametrize("path", sorted(documented()))
def test_each_documented_path_resolves_to_a_view_that_allows_exactly_its_methods(path):
    match = resolve(example_path(path))
    assert set(match.kwargs) == set(re.findall(r"{(\w+)}", path))
    # Every API view answers a method it does not handle with 405 and the methods it does in Allow.
    response = Client().options(example_path(path))
    assert response.status_code == 405 and response.json()["errors"]["method"]
    allowed = {method.strip() for method in response["Allow"].split(",")}
    assert allowed - {"HEAD"} == documented()[path]


# --- (c) the same request limits as the forms ---------------------------------------------------------------

# Request body schema -> the form that validates it, and whether the form's required fields are required in the
# body (PATCH fills in the item's current values first, so there nothing is).
BODIES = {
    "UploadRequest": (UploadRequestForm, True),
    "MediaEdit": (MediaFieldsForm, False),
    "AvatarRequest": (AvatarRequestForm, True),
    "AlbumCreate": (AlbumForm, True),
}


# Body fields the API handles itself, not through the form (PATCH's favourite: a JSON boolean, checked in the view).
API_ONLY = {"MediaEdit": {"favourite"}}


def value_for(prop: dict):
    """A value the schema allows, as small as it allows."""
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop["type"][0] if isinstance(prop["type"], list) else prop["type"]
    return "a" * max(prop.get("minLength", 0), 1) if kind == "string" else prop.get("minimum", 1)


def refusals(form_class, body: dict) -> set[str]:
    form = form_class(body)
    form.is_valid()
    return set(form.errors)


@pytest.mark.parametrize("name", BODIES)
def test_request_bodies_name_the_forms_fields_and_their_required_ones(name):
    form_class, required_as_in_form = BODIES[name]
    schema = SCHEMAS[name]
    fields = form_class.base_fields
    assert set(schema["properties"]) - API_ONLY.get(name, set()) == set(fields)
    form_required = {field for field, spec in fields.items() if spec.required}
    assert set(schema["required"]) == (form_required if required_as_in_form else set())
    for field, spec in fields.items():
        prop = schema["properties"][field]
        kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        assert kinds[0] == ("integer" if isinstance(spec, forms.IntegerField) else "string"), field
        assert ("null" in kinds) == (not spec.required and isinstance(spec, forms.IntegerField)), field
        if isinstance(spec, forms.CharField) and "enum" not in prop:
            assert prop.get("maxLength") == spec.max_length or spec.max_length is None, field
            assert prop.get("minLength", 0) == (1 if spec.required else 0), field
        if isinstance(spec, forms.IntegerField):
            assert (prop.get("minimum"), prop.get("maximum")) in {
                (spec.min_value, spec.max_value),
                (1, settings.MAX_UPLOAD_SIZE),  # size: check_size
            }, field
    assert not refusals(form_class, {field: value_for(prop) for field, prop in schema["properties"].items()})


@pytest.mark.parametrize("name", BODIES)
def test_request_body_limits_are_the_forms_limits(name):
    """At every documented limit the form accepts, one past it the form refuses; required means required."""
    form_class, required_as_in_form = BODIES[name]
    schema = SCHEMAS[name]
    valid = {field: value_for(prop) for field, prop in schema["properties"].items()}
    for field, prop in schema["properties"].items():

        def refused(value, field=field) -> bool:
            return field in refusals(form_class, {**valid, field: value})

        if "maxLength" in prop:
            assert not refused("a" * prop["maxLength"]) and refused("a" * (prop["maxLength"] + 1)), field
        if prop.get("minLength"):
            assert refused(""), field
        if "minimum" in prop:
            assert not refused(prop["minimum"]) and refused(prop["minimum"] - 1), field
        if "maximum" in prop:
            assert not refused(prop["maximum"]) and refused(prop["maximum"] + 1), field
        if "enum" in prop:
            assert not any(refused(value) for value in prop["enum"]), field
            others = [*settings.MEDIA_TYPES, "text/html", "image/svg+xml", ""]
            assert all(refused(value) for value in others if value not in prop["enum"]), field
        if "null" in prop["type"]:
            assert not refused(None), field
        if required_as_in_form:
            missing = {key: value for key, value in valid.items() if key != field}
            assert (field in refusals(form_class, missing)) == (field in schema["required"]), field


@pytest.mark.parametrize("name", ["UploadRequest", "AvatarRequest"])
def test_the_file_name_pattern_refuses_nothing_the_form_accepts(name):
    pattern = re.compile(SCHEMAS[name]["properties"]["fileName"]["pattern"])
    valid = {field: value_for(prop) for field, prop in SCHEMAS[name]["properties"].items()}
    for file_name in ["a.jpg", "holiday photo (1).JPG", "ünïcødé.png", " spaced ", "a/b.jpg", "a\\b", "<b>.jpg"]:
        accepted = "fileName" not in refusals(BODIES[name][0], {**valid, "fileName": file_name})
        assert accepted == bool(pattern.match(file_name)), file_name
    for control in ["\x00", "\x1f", "\x7f", "\x85", "\x9f"]:
        assert not pattern.match(f"a{control}b") and "fileName" in refusals(
            BODIES[name][0], {**valid, "fileName": f"a{control}b"}
        )


def test_the_security_schemes_name_the_sites_cookies_and_header():
    schemes = OPENAPI["components"]["securitySchemes"]
    assert schemes["sessionCookie"]["name"] == settings.SESSION_COOKIE_NAME
    assert schemes["csrfCookie"]["name"] == settings.CSRF_COOKIE_NAME
    assert "HTTP_" + schemes["csrfHeader"]["name"].upper().replace("-", "_") == settings.CSRF_HEADER_NAME
    assert schemes["bearerAuth"]["bearerFormat"].startswith("mh_")


# --- (d) served to anyone -----------------------------------------------------------------------------------


def test_served_at_api_openapi_json_without_signing_in():
    client = Client()
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == OPENAPI
    assert "public" in response["Cache-Control"] and "max-age" in response["Cache-Control"]
    again = client.get("/api/openapi.json", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304 and not again.content
    refused = client.post("/api/openapi.json")
    assert refused.status_code == 405 and refused["Allow"] == "GET, HEAD"


def test_the_parts_request_limits_are_the_forms_limits():
    """partNumbers and checksums: at each documented limit the form accepts, one past it the form refuses."""
    from uploads.forms import PartsRequestForm

    spec = SCHEMAS["PartsRequest"]["properties"]
    numbers, checksums = spec["partNumbers"], spec["checksums"]
    digest = "A" * 43 + "="
    assert re.fullmatch(checksums["items"]["pattern"].strip("^$"), digest)

    def refused(part_numbers: list) -> set[str]:
        return refusals(PartsRequestForm, {"partNumbers": part_numbers, "checksums": [digest] * len(part_numbers)})

    most = numbers["maxItems"]
    assert not refused(list(range(1, most + 1))) and "partNumbers" in refused(list(range(1, most + 2)))
    assert not refused([numbers["items"]["minimum"], numbers["items"]["maximum"]])
    assert "partNumbers" in refused([numbers["items"]["minimum"] - 1])
    assert "partNumbers" in refused([numbers["items"]["maximum"] + 1])
    assert "partNumbers" in refused([]) and "partNumbers" in refused([1, 1])  # minItems, uniqueItems
    assert "checksums" in refusals(PartsRequestForm, {"partNumbers": [1], "checksums": [digest[:-2]]})
    assert set(SCHEMAS["PartsRequest"]["required"]) == set(PartsRequestForm.base_fields)
