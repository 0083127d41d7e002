"""ZIP download fixtures: ready items made straight in storage (processing is not what these tests are about)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.conf import settings

from exports import services
from mediahub.aws import client
from uploads.models import MediaItem, Status


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """Builds are recorded, not sent: the tests run the core themselves (a session's worker may be up)."""
    jobs: list[tuple] = []
    monkeypatch.setattr(services.dispatch, "run_job", lambda *args: jobs.append(args))
    return jobs


def put_original(item: MediaItem, data: bytes) -> str:
    """A new version of the item's original; returns its version id."""
    answer = client("s3").put_object(Bucket=settings.UPLOADS_BUCKET, Key=item.object_key, Body=data)
    return answer["VersionId"]


@pytest.fixture
def ready_item() -> Callable[..., MediaItem]:
    """`ready_item(user, data, file_name="a.jpg")`: a ready item whose pinned version holds `data`."""

    def make(user, data: bytes, file_name: str = "photo.jpg", *, status: str = Status.READY) -> MediaItem:
        media_id = uuid.uuid4().hex
        item = MediaItem(
            media_id,
            owner_id=str(user.pk),
            name=file_name.rsplit(".", 1)[0] or "item",
            file_name=file_name,
            object_key=f"uploads/{user.pk}/{media_id}/original.jpg",
            declared_type="image/jpeg",
            detected_type="image/jpeg",
            size=len(data),
            status=status,
            counted=True,
        )
        item.version_id = put_original(item, data)
        item.save()
        return item

    return make
