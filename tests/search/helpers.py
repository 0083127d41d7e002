"""Items as the application makes them (API create, upload, complete, processing), for the search tests."""

from __future__ import annotations

from io import BytesIO

from PIL import Image

from tests.conftest import create_and_upload, post_json, process_until_ready
from uploads.models import MediaItem


def photo_bytes(*, make: str = "", model: str = "", taken: str = "", color: str = "teal") -> bytes:
    """A small JPEG with the EXIF camera and DateTimeOriginal ("2024:07:14 18:30:00") given."""
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    out = BytesIO()
    Image.new("RGB", (32, 24), color).save(out, "JPEG", exif=exif)
    return out.getvalue()


def ready_item(client, name: str, *, caption: str = "", file_name: str = "photo.jpg", **exif) -> MediaItem:
    body = create_and_upload(client, photo_bytes(**exif), name=name, caption=caption, fileName=file_name)
    assert post_json(client, f"/api/media/{body['id']}/complete").status_code == 202
    process_until_ready(MediaItem.get(body["id"]).object_key)  # or the session's worker does, first
    return MediaItem.get(body["id"], consistent_read=True)


def dynamo_calls(local_aws, start: int) -> list[str]:
    """The DynamoDB operations the application made since `start` (the session's recording), rate limits aside."""
    return [
        c.operation
        for c in local_aws.recorder.calls[start:]
        if c.service == "dynamodb" and c.is_app and "rate-limits" not in str(c.actions)
    ]
