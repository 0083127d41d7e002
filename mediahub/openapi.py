"""The JSON API's OpenAPI 3.1 description, built once at import and served at /api/openapi.json.

Written by hand from the views and forms; tests/mediahub/test_openapi.py checks it against the URL patterns and the
forms, and tests/mediahub/test_api_fuzz.py checks every answer of the running API against it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control

from albums.models import Order
from albums.services import bulk_max
from mediahub.api import errors
from search.forms import CAMERA_MAX, FAMILIES, MAX_WORDS, QUERY_MAX
from search.index import MIN_PREFIX
from search.query import ROWS_PER_WORD
from uploads.filetypes import is_image
from uploads.forms import (
    CAPTION_MAX,
    CHECKSUMS_PER_LOOKUP,
    FILE_NAME_MAX,
    MAX_KEEP_DAYS,
    NAME_MAX,
    SHA256_BASE64,
    STATUS_IDS_PER_CALL,
)
from uploads.models import Status
from uploads.multipart import MAX_PARTS, PART_URL_SECONDS, PARTS_PER_CALL

Schema = dict[str, Any]

MEDIA_ID = r"^[0-9a-f]{32}$"
AVATAR_KEY = r"^avatars/[0-9]+/[0-9a-f]{32}\.[a-z0-9]+$"
AVATAR_SIZES = ("64", "256")  # what profiles.api.complete answers with
# What check_file_name refuses that a pattern can say: folders, markup, C0 and C1 control characters.
# (Unicode format characters, and "." and "..", are refused too; the description says so.)
FILE_NAME_PATTERN = "^[^/\\\\<>\\u0000-\\u001f\\u007f-\\u009f]+$"


# --- small helpers ------------------------------------------------------------------------------------------


def ref(kind: str, name: str) -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


def schema(name: str) -> Schema:
    return ref("schemas", name)


def nullable(type_: str, **keywords: Any) -> Schema:
    return {"type": [type_, "null"], **keywords}


def obj(properties: dict[str, Schema], *, required: tuple[str, ...] | None = None, **keywords: Any) -> Schema:
    """An object schema; every property is required unless `required` names fewer."""
    names = list(properties) if required is None else list(required)
    return {"type": "object", "properties": properties, "required": names, **keywords}


def json_content(body: Schema) -> dict:
    return {"application/json": {"schema": body}}


def answer(description: str, body: Schema | None = None) -> dict:
    response: dict = {"description": description}
    if body is not None:
        response["content"] = json_content(body)
    return response


RETRY_AFTER = {
    "Retry-After": {"description": "Seconds until the window ends.", "schema": {"type": "integer", "minimum": 1}}
}


def error_answer(code: int) -> dict:
    """The shared answer for one refusal status: the Errors body, and for 429 the Retry-After header."""
    response = answer(ERROR_ANSWERS[code][1], schema("Errors"))
    if code == 429:
        response["headers"] = RETRY_AFTER
    return response


def json_request(body: Schema) -> dict:
    return {"required": True, "content": json_content(body)}


def refusals(*codes: int) -> dict[str, Schema]:
    """The shared error answers, by status code (see ERROR_ANSWERS)."""
    return {str(code): ref("responses", ERROR_ANSWERS[code][0]) for code in codes}


# --- the pieces ---------------------------------------------------------------------------------------------

# status -> (component name, description); every one has the Errors body.
ERROR_ANSWERS: dict[int, tuple[str, str]] = {
    400: (
        "BadRequest",
        "Bad input: the body is not a JSON object or is larger than the server reads (errors.body), or a field is "
        "missing, invalid or not of its type (named in errors: text fields take JSON strings only).",
    ),
    401: (
        "Unauthorized",
        "Not signed in, or the Authorization header's token is missing, malformed, unknown or revoked (errors.auth).",
    ),
    403: (
        "Forbidden",
        "A read-only token on a method that changes something (errors.auth), or, with a session, a failed CSRF check "
        "(errors.csrf).",
    ),
    404: (
        "NotFound",
        "No such media item (or album, or ZIP download), or someone else's: the two are indistinguishable "
        "(errors.id). In a bulk request or an album add, any id that is not one of the caller's items refuses the "
        "whole request, nothing changed (errors.ids lists them).",
    ),
    409: (
        "Conflict",
        "The upload was already completed (by this or another request); for the parts calls, the item is not "
        "uploaded in parts or its upload is over; at complete, parts are still missing (errors.status names them: "
        "upload them and complete again); for an avatar, a newer upload took its place or another request is "
        "still processing it (errors.status); for a delete, the item is already in the trash; for a ZIP, none of "
        "the selected items is ready, or too many of the caller's ZIPs are still being built (errors.status).",
    ),
    422: ("Refused", "The uploaded file was refused (errors.file says why); the previous state is kept."),
    429: (
        "RateLimited",
        "Too many requests of one kind in a while (errors.rate says which and the limit): every caller has a limit "
        "on API calls, and on uploads started (media and avatar presigns). Retry-After says when to try again.",
    ),
    503: ("StorageUnavailable", "Storage (S3 or DynamoDB) failed in a way that may pass: try again (errors.storage)."),
}

FILE_NAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": FILE_NAME_MAX,
    "pattern": FILE_NAME_PATTERN,
    "description": "A plain file name, kept for display and downloads: no folders (/ or \\), no < or >, no control or "
    'Unicode format characters, not "." or "..".',
    "examples": ["beach.jpg"],
}

RENDITIONS = {
    "type": "object",
    "description": "Rendition name (thumb, medium, large) to its size and a short-lived link per format.",
    "additionalProperties": obj(
        {"width": {"type": "integer"}, "height": {"type": "integer"}},
        additionalProperties={"type": "string", "format": "uri"},
    ),
}
THUMBHASH = nullable(
    "string",
    description="A ThumbHash (https://evanw.github.io/thumbhash/) of the picture, base64: a blurred preview to show "
    "while a rendition loads; null for items without renditions (or processed before placeholders existed).",
)
COLOR = nullable("string", pattern="^#[0-9a-f]{6}$", description="The picture's average colour, with the ThumbHash.")

SCHEMAS: dict[str, Schema] = {
    "Errors": obj(
        {
            "errors": {
                "type": "object",
                "description": "Field name (or __all__, auth, csrf, body, storage …) to messages for a person.",
                "minProperties": 1,
                "additionalProperties": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            }
        },
        examples=[{"errors": {"name": ["This field is required."]}}],
    ),
    "MediaItem": obj(
        {
            "id": {"type": "string", "pattern": MEDIA_ID},
            "name": {"type": "string"},
            "caption": {"type": "string"},
            "fileName": {"type": "string"},
            "contentType": {"type": "string", "description": "Detected from the bytes once uploaded, else declared."},
            "size": {"type": "integer", "minimum": 0, "description": "Bytes."},
            "status": {"type": "string", "enum": list(Status.ALL)},
            "reason": nullable("string", description="Why the item was rejected or failed."),
            "createdAt": {"type": "string", "format": "date-time"},
            "uploadedAt": nullable("string", format="date-time"),
            "width": nullable("integer", minimum=0),
            "height": nullable("integer", minimum=0),
            "animated": nullable("boolean"),
            "duration": nullable("number", minimum=0, description="A video's length in seconds."),
            "videoCodec": nullable("string", description="A video's picture codec, as FFmpeg names it (h264, vp9 …)."),
            "audioCodec": nullable("string", description="A video's sound codec (aac, opus …); null without sound."),
            "frameRate": nullable("number", minimum=0, description="A video's frames per second."),
            "rotation": nullable(
                "integer",
                enum=[0, 90, 180, -90, None],
                description="Degrees counterclockwise the video's frames are turned to be shown; width and height "
                "are as shown.",
            ),
            "pages": nullable("integer", minimum=1, description="A PDF's page count."),
            "downloads": {"type": "integer", "minimum": 0},
            "sha256": nullable(
                "string",
                pattern="^[0-9a-f]{64}$",
                description="SHA-256 of the file (hex), once processing has read it; null before.",
            ),
            "deleteAt": nullable(
                "string",
                format="date-time",
                description="When the item will be deleted for good, if ever (in the trash: when the trash is).",
            ),
            "favourite": {"type": "boolean"},
            "trashedAt": nullable("string", format="date-time", description="When it was moved to the trash."),
            "renditions": RENDITIONS,
            "thumbhash": THUMBHASH,
            "color": COLOR,
            "downloadUrl": {
                "type": "string",
                "format": "uri-reference",
                "description": "The site's download link (with a session): counts the download and redirects.",
            },
        }
    ),
    "MediaStatuses": obj(
        {
            "items": {
                "type": "array",
                "items": obj(
                    {
                        "id": {"type": "string", "pattern": MEDIA_ID},
                        "status": {"type": "string", "enum": [*Status.ALL, "unknown"]},
                        "reason": nullable("string", description="Why the item was rejected or failed."),
                        "renditions": RENDITIONS,
                        "thumbhash": THUMBHASH,
                        "color": COLOR,
                    }
                ),
                "description": "One per id asked, in the order asked (repeats once). `unknown`: no such item of "
                "the caller's (never one, deleted, or someone else's: the three look alike).",
            }
        }
    ),
    "MediaPage": obj(
        {
            "items": {"type": "array", "items": schema("MediaItem")},
            "nextCursor": nullable("string", description="Pass as ?cursor= for the next page; null on the last."),
        }
    ),
    "SearchPage": obj(
        {
            "items": {"type": "array", "items": schema("MediaItem")},
            "nextCursor": nullable("string", description="Pass as ?cursor= (with the same search) for the next page."),
            "tooBroad": nullable(
                "string",
                description=f"A word that matched more than {ROWS_PER_WORD} rows: only those were read, so results "
                "may be missing (add a word or type more of it); null when the search was complete.",
            ),
            "ignored": {
                "type": "array",
                "items": {"type": "string"},
                "description": f"Words left out: shorter than {MIN_PREFIX} letters or digits.",
            },
        }
    ),
    "PresignedPost": obj(
        {
            "url": {"type": "string", "format": "uri"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        description="POST these fields, then the file (last, as `file`), as multipart/form-data to `url`.",
    ),
    "UploadTicket": obj(
        {
            "id": {"type": "string", "pattern": MEDIA_ID},
            "upload": schema("PresignedPost"),
            "expiresIn": {"type": "integer", "minimum": 1, "description": "Seconds the upload link lasts."},
        }
    ),
    "MultipartTicket": obj(
        {
            "id": {"type": "string", "pattern": MEDIA_ID},
            "multipart": obj(
                {
                    "uploadId": {"type": "string", "minLength": 1, "description": "S3's id, for the record only."},
                    "partSize": {
                        "type": "integer",
                        "minimum": 5 * 1024**2,
                        "description": "Bytes in every part but the last, which holds the rest.",
                    },
                    "partCount": {"type": "integer", "minimum": 1, "maximum": MAX_PARTS},
                },
                description="The file goes in parts: ask /parts for each part's URL, PUT the bytes, then complete.",
            ),
            "expiresIn": {
                "type": "integer",
                "minimum": 1,
                "description": "Seconds the upload may take before it is aborted and the item removed.",
            },
        },
        description="A file above the multipart threshold: its upload in parts has started.",
    ),
    "PartsRequest": obj(
        {
            "partNumbers": {
                "type": "array",
                "minItems": 1,
                "maxItems": PARTS_PER_CALL,
                "uniqueItems": True,
                "items": {"type": "integer", "minimum": 1, "maximum": MAX_PARTS},
                "description": "Parts to sign, 1 to partCount (a number past partCount is 400).",
            },
            "checksums": {
                "type": "array",
                "minItems": 1,
                "maxItems": PARTS_PER_CALL,
                "items": {"type": "string", "pattern": f"^{SHA256_BASE64.pattern}$"},
                "description": "Each part's SHA-256, base64, in the order of partNumbers: S3 refuses other bytes.",
            },
        }
    ),
    "SignedParts": obj(
        {
            "parts": {
                "type": "array",
                "items": obj(
                    {
                        "partNumber": {"type": "integer", "minimum": 1},
                        "url": {"type": "string", "format": "uri"},
                        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                    description="PUT exactly this part's bytes to url with these headers; keep the answer's ETag.",
                ),
            },
            "expiresIn": {"type": "integer", "minimum": 1, "description": "Seconds each URL lasts."},
        }
    ),
    "PartsListing": obj(
        {
            "partSize": {"type": "integer", "minimum": 1},
            "partCount": {"type": "integer", "minimum": 1},
            "parts": {
                "type": "array",
                "items": obj(
                    {
                        "partNumber": {"type": "integer", "minimum": 1},
                        "size": {"type": "integer", "minimum": 0},
                        "etag": {"type": "string"},
                    }
                ),
                "description": "The parts S3 holds, in order: upload the others, then complete.",
            },
        }
    ),
    "RejectedUpload": {
        "allOf": [schema("Errors"), obj({"item": schema("MediaItem")})],
        "description": "errors.file says why; the item is now rejected.",
    },
    "UploadRequest": obj(
        {
            "fileName": FILE_NAME,
            "contentType": {"type": "string", "enum": sorted(settings.MEDIA_TYPES)},
            "size": {"type": "integer", "minimum": 1, "maximum": settings.MAX_UPLOAD_SIZE, "description": "Bytes."},
            "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
            "caption": {"type": "string", "maxLength": CAPTION_MAX},
            "deleteAfterDays": nullable(
                "integer", minimum=1, maximum=MAX_KEEP_DAYS, description="Delete the item this many days from now."
            ),
        },
        required=("fileName", "contentType", "size", "name"),
    ),
    "MediaEdit": obj(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
            "caption": {"type": "string", "maxLength": CAPTION_MAX},
            "favourite": {"type": "boolean", "description": "Mark or unmark the item as a favourite."},
        },
        required=(),
        description="Fields left out keep their value.",
    ),
    # --- Trash, favourites, bulk (docs/trash.md)
    "BulkRequest": obj(
        {
            "action": {"type": "string", "enum": ["trash", "restore", "favourite", "unfavourite"]},
            "ids": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "maxItems": settings.BULK_MAX_ITEMS,
                "description": f"The caller's item ids, at most {settings.BULK_MAX_ITEMS} (BULK_MAX_ITEMS; repeats "
                "count once). More is 400 (errors.ids); any id that is not the caller's item is 404 (errors.ids "
                "names them): nothing is changed either way.",
            },
        }
    ),
    "BulkResult": obj(
        {
            "action": {"type": "string"},
            "done": {"type": "integer", "minimum": 0},
            "failed": {"type": "integer", "minimum": 0},
            "items": {
                "type": "array",
                "description": "One per id, in the order asked: `ok`, the item's status after it (`deleted`: a "
                "pending upload, trashed, goes for good), or `error`: why this one was not done (restoring an item "
                "not in the trash, trashing one already there).",
                "items": obj(
                    {
                        "id": {"type": "string", "pattern": MEDIA_ID},
                        "ok": {"type": "boolean"},
                        "status": nullable("string", enum=[*Status.ALL, "deleted", None]),
                        "error": nullable("string"),
                    }
                ),
            },
        }
    ),
    "TrashEmptied": obj({"deleted": {"type": "integer", "minimum": 0, "description": "Items deleted for good."}}),
    "AvatarRequest": obj(
        {
            "fileName": FILE_NAME,
            "contentType": {
                "type": "string",
                "enum": sorted(ctype for ctype in settings.MEDIA_TYPES if is_image(ctype)),
            },
        }
    ),
    "AvatarTicket": {
        "allOf": [
            schema("PresignedPost"),
            obj({"key": {"type": "string", "pattern": AVATAR_KEY}, "expiresIn": {"type": "integer", "minimum": 1}}),
        ],
        "description": "Upload the image with exactly this Content-Type, then complete with `key`.",
    },
    "AvatarComplete": obj(
        {"key": {"type": "string", "minLength": 1, "pattern": AVATAR_KEY, "description": "From the avatar ticket."}}
    ),
    "Avatar": obj(
        {
            "key": {"type": "string"},
            "avatar": obj(
                {
                    size: nullable("object", additionalProperties={"type": "string", "format": "uri"})
                    for size in AVATAR_SIZES
                },
                description="Square size in pixels to a short-lived link per format (jpg, webp).",
            ),
        }
    ),
}

# --- Albums (issue 13) ---------------------------------------------------------------------------------------
ALBUM_FIELDS: dict[str, Schema] = {
    "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX, "description": "No control characters."},
    "description": {
        "type": "string",
        "maxLength": CAPTION_MAX,
        "description": "Line breaks allowed; no other control characters.",
    },
    "order": {
        "type": "string",
        "enum": list(Order.ALL),
        "description": "Items by date taken (EXIF, else the upload) "
        "or by when they were added; newest first. Default taken.",
    },
}
ITEM_IDS = {
    "type": "array",
    "minItems": 1,
    "maxItems": bulk_max(),
    "items": {"type": "string", "pattern": MEDIA_ID},
    "description": f"Item ids, at most {bulk_max()} (BULK_MAX_ITEMS); more, or anything not an id, is 400 (errors.ids) "
    "and changes nothing. Repeats count once.",
}
SCHEMAS.update(
    {
        "Album": obj(
            {
                "id": {"type": "string", "pattern": MEDIA_ID},
                "name": {"type": "string"},
                "description": {"type": "string"},
                "order": {"type": "string", "enum": list(Order.ALL)},
                "coverId": nullable(
                    "string", pattern=MEDIA_ID, description="The cover item (first added, until chosen)."
                ),
                "itemCount": {"type": "integer", "minimum": 0, "description": "Members, whatever their state."},
                "createdAt": {"type": "string", "format": "date-time"},
                "updatedAt": {"type": "string", "format": "date-time"},
            }
        ),
        "AlbumList": obj({"albums": {"type": "array", "items": schema("Album")}}),
        "AlbumCreate": obj(ALBUM_FIELDS, required=("name",)),
        "AlbumEdit": obj(
            {**ALBUM_FIELDS, "coverId": {"type": "string", "pattern": MEDIA_ID, "description": "One of its items."}},
            required=(),
            description="Fields left out keep their value. A coverId that is not an item of the album is 404.",
        ),
        "ItemIds": obj({"ids": ITEM_IDS}),
        "AlbumAdded": obj(
            {
                "added": {"type": "array", "items": {"type": "string"}, "description": "Added now."},
                "already": {"type": "array", "items": {"type": "string"}, "description": "Already in the album."},
            }
        ),
        "AlbumRemoved": obj(
            {
                "removed": {"type": "array", "items": {"type": "string"}, "description": "Taken out of the album."},
                "absent": {"type": "array", "items": {"type": "string"}, "description": "Were not in it (harmless)."},
            }
        ),
    }
)
ALBUM_ID_PARAMETER = {
    "name": "album_id",
    "in": "path",
    "required": True,
    "description": "The album's id (32 lowercase hex digits); another's album, or any other string, is 404.",
    "schema": {"type": "string", "pattern": MEDIA_ID},
}


MEDIA_ID_PARAMETER = {
    "name": "media_id",
    "in": "path",
    "required": True,
    "description": "The item's id, as the API gave it (32 lowercase hex digits). Any other string is an unknown "
    "id: 404.",
    "schema": {"type": "string", "pattern": MEDIA_ID},
}

CURSOR_PARAMETER = {
    "name": "cursor",
    "in": "query",
    "required": False,
    "description": "The previous page's nextCursor; a cursor not handed out is 400 (errors.cursor).",
    "schema": {"type": "string"},
}

IDS_PARAMETER = {
    "name": "ids",
    "in": "query",
    "required": True,
    "description": f"Up to {STATUS_IDS_PER_CALL} item ids (32 lowercase hex digits each), separated by commas. More, "
    "or anything that is not an id, is 400 (errors.ids).",
    "schema": {"type": "string"},
    "examples": {"two": {"value": "0123456789abcdef0123456789abcdef,fedcba9876543210fedcba9876543210"}},
}

SHA256_PARAMETER = {
    "name": "sha256",
    "in": "query",
    "required": False,
    "description": f"Up to {CHECKSUMS_PER_LOOKUP} SHA-256 digests (64 hex digits each), separated by commas: the "
    "answer is then the caller's items in the library (uploaded or ready; not refused, failed or being deleted) "
    "whose file has one of them, in one page (nextCursor null; no cursor with it). Items are found once "
    "processing has read their file. One DynamoDB Query per checksum. More checksums, or anything that is not "
    "one, is 400 (errors.sha256).",
    "schema": {"type": "string"},
    "examples": {"one": {"value": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
}

FOREVER_PARAMETER = {
    "name": "forever",
    "in": "query",
    "required": False,
    "description": "1: delete for good at once instead of moving to the trash.",
    "schema": {"type": "string", "enum": ["1"]},
}

FAVOURITES_PARAMETER = {
    "name": "favourites",
    "in": "query",
    "required": False,
    "description": "1: only the caller's favourites (one DynamoDB Query per page, on a sparse index).",
    "schema": {"type": "string", "enum": ["1"]},
}

# --- search (search/: GET /api/search) ---
DATE_PARAMETER = {"type": "string", "format": "date", "examples": ["2026-12-31"]}
SEARCH_PARAMETERS = [
    {
        "name": "q",
        "in": "query",
        "required": False,
        "description": f"Words of the name, caption or file name (prefixes: sun finds Sunset), at most {MAX_WORDS} "
        f"and {QUERY_MAX} characters; case and accents do not matter. Words shorter than {MIN_PREFIX} letters are "
        "left out (listed in `ignored`); a q of only such words, or with no letter or digit, is 400 (errors.q).",
        "schema": {"type": "string"},
        "examples": {"prefix": {"value": "sun"}},
    },
    {
        "name": "type",
        "in": "query",
        "required": False,
        "description": "Only photos (image), videos (video) or PDFs (document).",
        "schema": {"type": "string", "enum": ["", *(value for value, _ in FAMILIES)]},
    },
    {
        "name": "camera",
        "in": "query",
        "required": False,
        "description": 'Only items taken with this camera ("make model", exactly as the search page lists them).',
        "schema": {"type": "string", "maxLength": CAMERA_MAX},
    },
    {
        "name": "from",
        "in": "query",
        "required": False,
        "description": "Taken on or after this day (UTC; the upload date for items without EXIF). Not a date, or "
        "outside 1800-2200: 400 (errors.from).",
        "schema": DATE_PARAMETER,
    },
    {
        "name": "to",
        "in": "query",
        "required": False,
        "description": "Taken on or before this day (the whole day). Before `from`: 400 (errors.to).",
        "schema": DATE_PARAMETER,
    },
    CURSOR_PARAMETER,
]

READ = [{"bearerAuth": []}, {"sessionCookie": []}]
WRITE = [{"bearerAuth": []}, {"sessionCookie": [], "csrfCookie": [], "csrfHeader": []}]


def operation(
    operation_id: str,
    summary: str,
    ok: dict,
    *codes: int,
    security: list = WRITE,
    body: str | None = None,
    parameters: list | None = None,
    description: str | None = None,
) -> dict:
    """One operation: its success answers (`ok`, by status) and the shared refusals it can give."""
    spec = {
        "operationId": operation_id,
        "summary": summary,
        "security": security,
        "responses": {**ok, **refusals(*codes, 429)},
    }
    if description:
        spec["description"] = description
    if body:
        spec["requestBody"] = json_request(schema(body))
    if parameters:
        spec["parameters"] = parameters
    return spec


# Every caller can get 401 and 429 (the per-caller limit on API calls, added by `operation`); every call that
# changes something can get 403; everything that touches storage, 503.
PATHS = {
    "/api/media/": {
        "get": operation(
            "listMedia",
            "The caller's items out of the trash, newest first, a page at a time (only favourites, with "
            "favourites=1); or, with sha256, those holding given files.",
            {"200": answer("A page of items.", schema("MediaPage"))},
            400,
            401,
            503,
            security=READ,
            parameters=[CURSOR_PARAMETER, SHA256_PARAMETER, FAVOURITES_PARAMETER],
        ),
        "post": operation(
            "createMedia",
            "Record a pending item and presign the upload of its file (in parts, for a large file).",
            {
                "201": answer(
                    "The item's id and a presigned POST for its bytes, or, above the multipart threshold, its upload "
                    "in parts.",
                    {"oneOf": [schema("UploadTicket"), schema("MultipartTicket")]},
                )
            },
            400,
            401,
            403,
            503,
            body="UploadRequest",
            description="A size that would take the caller past their storage quota is 400 (errors.size). A file "
            f"above {settings.MULTIPART_THRESHOLD} bytes (MULTIPART_THRESHOLD) is uploaded in parts: the answer "
            "has `multipart` instead of `upload`.",
        ),
    },
    "/api/media/status": {
        "get": {
            **operation(
                "getMediaStatuses",
                f"Where up to {STATUS_IDS_PER_CALL} of the caller's items are now: status, reason, rendition links.",
                {
                    "200": answer("One entry per id.", schema("MediaStatuses")),
                    "304": answer("Not modified: the same answer as the one whose ETag was sent in If-None-Match."),
                },
                400,
                401,
                503,
                security=READ,
                parameters=[IDS_PARAMETER],
                description="The pages poll this for items still pending or uploaded. One DynamoDB BatchGetItem "
                "per call. The answer has an ETag over what it says (not over its links, which are re-signed every "
                "few minutes): sent back as If-None-Match, an unchanged answer is 304 without a body.",
            ),
        },
    },
    "/api/media/bulk": {
        "post": operation(
            "bulkMedia",
            "One action (trash, restore, favourite, unfavourite) on many of the caller's items.",
            {"200": answer("What happened to each item.", schema("BulkResult"))},
            400,
            401,
            403,
            404,
            503,
            body="BulkRequest",
            description="Refused whole, before anything changes, when the body names no ids, more than "
            "BULK_MAX_ITEMS, an unknown action (400) or any id that is not the caller's item (404, listing them). "
            "Otherwise each item is done or reported with why not: never skipped silently.",
        ),
    },
    "/api/trash": {
        "get": operation(
            "listTrash",
            "The caller's trash, most recently trashed first, a page at a time (deleteAt: when each goes for good).",
            {"200": answer("A page of trashed items.", schema("MediaPage"))},
            400,
            401,
            503,
            security=READ,
            parameters=[CURSOR_PARAMETER],
        ),
        "delete": operation(
            "emptyTrash",
            "Empty the trash: every trashed item deleted for good (files, share links, record).",
            {"200": answer("How many items went.", schema("TrashEmptied"))},
            401,
            403,
            503,
        ),
    },
    "/api/media/{media_id}": {
        "parameters": [MEDIA_ID_PARAMETER],
        "get": operation(
            "getMedia",
            "One item: status, reason, size, type, dimensions, rendition links, download count.",
            {"200": answer("The item.", schema("MediaItem"))},
            401,
            404,
            503,
            security=READ,
        ),
        "patch": operation(
            "updateMedia",
            "Change the item's name, caption and/or favourite mark.",
            {"200": answer("The edited item.", schema("MediaItem"))},
            400,
            401,
            403,
            404,
            503,
            body="MediaEdit",
        ),
        "delete": operation(
            "deleteMedia",
            "Move the item to the trash (restorable for TRASH_DAYS); with forever=1, delete it for good.",
            {"204": answer("In the trash (a pending upload: deleted), or with forever=1 deleted for good.")},
            401,
            403,
            404,
            409,
            503,
            parameters=[FOREVER_PARAMETER],
            description=f"An item in the trash is deleted for good {settings.TRASH_DAYS} days after (TRASH_DAYS), "
            "and counts against the quota until then. Already in the trash: 409 (errors.status). forever=1 deletes "
            "the files in both buckets, the share links, then the record, whatever the state.",
        ),
    },
    "/api/media/{media_id}/complete": {
        "parameters": [MEDIA_ID_PARAMETER],
        "post": operation(
            "completeMedia",
            "Say the upload is done: the file is checked once (by this call or the S3 event, whichever comes first)"
            " and handed to processing. Safe to repeat: a later call answers with the item as it is.",
            {
                "202": answer(
                    "The item: status uploaded, or further along if it had already arrived.", schema("MediaItem")
                ),
                "422": answer(
                    "The file never arrived, is not what was declared, would pass the storage quota, or (in parts) "
                    "its parts do not make the declared size (the upload is aborted).",
                    schema("RejectedUpload"),
                ),
            },
            401,
            403,
            404,
            409,
            503,
            description="For a file in parts, the server lists the parts S3 holds, checks that every part but the "
            "last has partSize bytes and that they add up to the declared size, and joins them, before the check "
            "every upload gets. Parts never count against the quota; the file counts once it arrives.",
        ),
    },
    "/api/media/{media_id}/parts": {
        "parameters": [MEDIA_ID_PARAMETER],
        "get": operation(
            "listMediaParts",
            "The parts S3 already holds for a pending upload in parts, so a client resumes with the others.",
            {"200": answer("The part size and count, and the parts uploaded so far.", schema("PartsListing"))},
            401,
            404,
            409,
            503,
            security=READ,
        ),
        "post": operation(
            "signMediaParts",
            f"Presigned PUT URLs for parts of the item's own upload (at most {PARTS_PER_CALL} a call), valid "
            f"{PART_URL_SECONDS // 60} minutes, each part's length and SHA-256 signed.",
            {"200": answer("A URL and headers per part.", schema("SignedParts"))},
            400,
            401,
            403,
            404,
            409,
            503,
            body="PartsRequest",
        ),
    },
    "/api/media/{media_id}/upload": {
        "parameters": [MEDIA_ID_PARAMETER],
        "delete": operation(
            "cancelMediaUpload",
            "Give up a pending upload in parts: S3 drops its parts and the item goes.",
            {"204": answer("Cancelled: no item, no parts.")},
            401,
            403,
            404,
            409,
            503,
        ),
    },
    "/api/search": {
        "get": operation(
            "searchMedia",
            "The caller's ready items matching words, a type, a camera and/or a range of dates taken, newest taken "
            "first, a page at a time.",
            {"200": answer("A page of matching items.", schema("SearchPage"))},
            400,
            401,
            503,
            security=READ,
            parameters=SEARCH_PARAMETERS,
            description="At least one of q, type, camera, from or to, else 400 (errors.__all__). With words: one "
            "DynamoDB Query per word and a BatchGetItem per page (never a Scan); without: Queries of the date-taken "
            "index. Only ready items are found (not those processing, refused or in the trash).",
        ),
    },
    "/api/profile/avatar": {
        "post": operation(
            "createAvatarUpload",
            "Presign the upload of a new avatar image.",
            {"200": answer("A presigned POST and the key to complete with.", schema("AvatarTicket"))},
            400,
            401,
            403,
            503,
            body="AvatarRequest",
        ),
    },
    "/api/profile/avatar/complete": {
        "post": operation(
            "completeAvatar",
            "Process the uploaded avatar now; a refused file keeps the previous avatar.",
            {"200": answer("The new (or unchanged, if completed before) avatar.", schema("Avatar"))},
            400,
            401,
            403,
            409,
            422,
            503,
            body="AvatarComplete",
        ),
    },
    # --- Albums (issue 13) -------------------------------------------------------------------------------------
    "/api/albums/": {
        "get": operation(
            "listAlbums",
            "The caller's albums, newest first (one Query).",
            {"200": answer("Every album.", schema("AlbumList"))},
            401,
            503,
            security=READ,
        ),
        "post": operation(
            "createAlbum",
            "Make an album.",
            {"201": answer("The new album.", schema("Album"))},
            400,
            401,
            403,
            503,
            body="AlbumCreate",
        ),
    },
    "/api/albums/{album_id}": {
        "parameters": [ALBUM_ID_PARAMETER],
        "get": operation(
            "getAlbum", "One album.", {"200": answer("The album.", schema("Album"))}, 401, 404, 503, security=READ
        ),
        "patch": operation(
            "updateAlbum",
            "Rename, describe, reorder the album or choose its cover.",
            {"200": answer("The edited album.", schema("Album"))},
            400,
            401,
            403,
            404,
            503,
            body="AlbumEdit",
        ),
        "delete": operation(
            "deleteAlbum",
            "Delete the album, its memberships and links; its items stay in the library.",
            {"204": answer("Deleted.")},
            401,
            403,
            404,
            503,
        ),
    },
    "/api/albums/{album_id}/items": {
        "parameters": [ALBUM_ID_PARAMETER],
        "get": operation(
            "listAlbumItems",
            "A page of the album's ready items in its order: one Query and one BatchGetItem per page.",
            {"200": answer("A page of items (trashed or processing items are left out).", schema("MediaPage"))},
            400,
            401,
            404,
            503,
            security=READ,
            parameters=[CURSOR_PARAMETER],
        ),
        "post": operation(
            "addAlbumItems",
            "Add items to the album; all of them must be the caller's, or nothing is added.",
            {"200": answer("What was added, and what was in the album already.", schema("AlbumAdded"))},
            400,
            401,
            403,
            404,
            503,
            body="ItemIds",
        ),
    },
    "/api/albums/{album_id}/items/remove": {
        "parameters": [ALBUM_ID_PARAMETER],
        "post": operation(
            "removeAlbumItems",
            "Take items out of the album (never out of the library).",
            {"200": answer("What was removed, and what was not in the album.", schema("AlbumRemoved"))},
            400,
            401,
            403,
            404,
            503,
            body="ItemIds",
        ),
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document.",
            "security": [],
            "responses": {
                "200": answer("The OpenAPI description of the JSON API.", {"type": "object", "required": ["openapi"]}),
                "304": answer("Not modified (If-None-Match)."),
                **refusals(401),
            },
        }
    },
}

# --- ZIP downloads (exports/api.py) ----------------------------------------------------------------------------
EXPORT_ID_PARAMETER = {
    "name": "export_id",
    "in": "path",
    "required": True,
    "description": "The ZIP download's id, as the API gave it (32 lowercase hex digits). Any other string: 404.",
    "schema": {"type": "string", "pattern": MEDIA_ID},
}
LEFT_OUT = {
    "type": "array",
    "items": obj({"id": {"type": "string"}, "name": {"type": "string"}, "reason": {"type": "string"}}),
}
SCHEMAS.update(
    {
        "ExportRequest": obj(
            {
                "ids": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "The items to put in one ZIP, in order (at most BULK_MAX_ITEMS, 500 by default; "
                    "the same id twice is one entry). Every one must be the caller's, or the whole request is "
                    "refused (404, `unknown` lists them) and nothing is started. Items not ready (processing, in "
                    "the trash) are left out and listed in `leftOut`; none ready is 409; more than ZIP_MAX_BYTES "
                    "(1 GiB by default) of originals in all is 400, saying the size and the limit.",
                }
            }
        ),
        "Export": obj(
            {
                "id": {"type": "string", "pattern": MEDIA_ID},
                "state": {"enum": ["queued", "building", "ready", "failed", "expired"]},
                "itemsTotal": {"type": "integer", "minimum": 0},
                "itemsDone": {"type": "integer", "minimum": 0},
                "bytesTotal": {"type": "integer", "minimum": 0},
                "bytesDone": {"type": "integer", "minimum": 0},
                "percent": {"type": "integer", "minimum": 0, "maximum": 100},
                "fileName": {"type": "string"},
                "zipSize": nullable("integer", minimum=0),
                "reason": nullable("string", description="Why it failed, for a person."),
                "skipped": {**LEFT_OUT, "description": "Items left out (not ready, or deleted during the build)."},
                "createdAt": {"type": "string", "format": "date-time"},
                "expiresAt": nullable("string", format="date-time", description="Ready: the link works until then."),
                "page": {"type": "string", "description": "The ZIP's page on the site, with its live progress."},
                "link": nullable(
                    "string", format="uri", description="Ready: a link that saves the ZIP, valid linkExpiresIn s."
                ),
                "linkExpiresIn": nullable("integer", minimum=1),
            },
            description="A ZIP download: poll it until state is ready (take the link), failed (reason) or expired.",
        ),
        "ExportStarted": {
            "allOf": [schema("Export"), obj({"leftOut": LEFT_OUT})],
            "description": "The new job, queued, and the selected items left out because they are not ready.",
        },
        "UnknownItems": {
            "allOf": [schema("Errors"), obj({"unknown": {"type": "array", "items": {"type": "string"}}})],
            "description": "errors.ids says how many; unknown lists every id that is not the caller's item.",
        },
    }
)
PATHS.update(
    {
        "/api/exports": {
            "post": operation(
                "createExport",
                "Start building one ZIP of the caller's items (their originals, as uploaded); poll its Location.",
                {
                    "202": answer("Queued.", schema("ExportStarted")),
                    "404": answer("Some ids are not the caller's items: nothing started.", schema("UnknownItems")),
                },
                400,
                401,
                403,
                409,
                503,
                body="ExportRequest",
            ),
        },
        "/api/exports/{export_id}": {
            "parameters": [EXPORT_ID_PARAMETER],
            "get": operation(
                "getExport",
                "Where a ZIP download is now: progress, then a short-lived link (or why it failed).",
                {"200": answer("The job.", schema("Export"))},
                401,
                404,
                503,
                security=READ,
            ),
        },
    }
)

OPENAPI: dict = {
    "openapi": "3.1.0",
    "info": {
        "title": "mediahub JSON API",
        "version": "1",
        "description": (
            "Media uploads straight to S3, their metadata, and the caller's avatar. Authenticate with a personal API "
            "token (`Authorization: Bearer mh_…`, made on the profile page; read-only tokens get 403 on methods that "
            "change something) or with the site's session cookie plus Django's CSRF header on unsafe methods. "
            'Every refusal is JSON: `{"errors": {"field": ["message"]}}`. A method a path does not list is 405 '
            "with an Allow header."
        ),
    },
    "servers": [{"url": "/"}],
    "security": READ,
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": {name: error_answer(code) for code, (name, _) in ERROR_ANSWERS.items()},
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "mh_…",
                "description": "A personal API token from the profile page; no CSRF header needed.",
            },
            "sessionCookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": settings.SESSION_COOKIE_NAME,
                "description": "The site's session, as a signed-in browser has it.",
            },
            "csrfCookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": settings.CSRF_COOKIE_NAME,
                "description": "With the session, on POST, PATCH and DELETE: Django's CSRF cookie …",
            },
            "csrfHeader": {
                "type": "apiKey",
                "in": "header",
                "name": "X-CSRFToken",
                "description": "… and its value in this header (over HTTPS, a same-origin Referer too).",
            },
        },
    },
}

BODY = json.dumps(OPENAPI, separators=(",", ":")).encode()
ETAG = f'"{hashlib.sha256(BODY).hexdigest()[:32]}"'


def openapi_json(request: HttpRequest) -> HttpResponse:
    """The document: public, the same for everyone, cacheable (and revalidated by its ETag)."""
    if request.method not in ("GET", "HEAD"):
        response = errors(405, method=f"{request.method} is not allowed here.")
        response["Allow"] = "GET, HEAD"
        return response
    response = get_conditional_response(request, etag=ETAG) or HttpResponse(BODY, content_type="application/json")
    response["ETag"] = ETAG
    patch_cache_control(response, public=True, max_age=300)
    return response
