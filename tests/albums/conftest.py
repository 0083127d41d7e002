"""Albums' fixtures: library items written straight to the table (ready, no files), for tests of the records."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from uploads.models import MediaItem, Status, utcnow


@pytest.fixture
def library() -> Callable[..., MediaItem]:
    """`library(owner, name, taken=..., status=...)`: one item record; created a second after the previous one."""
    made: list[MediaItem] = []

    def make(owner, name: str = "A photo", *, taken: str | None = None, status: str = Status.READY) -> MediaItem:
        media_id = uuid.uuid4().hex
        item = MediaItem(
            media_id,
            owner_id=str(owner.pk),
            name=name,
            file_name=f"{name}.jpg",
            object_key=f"uploads/{owner.pk}/{media_id}/original.jpg",
            declared_type="image/jpeg",
            detected_type="image/jpeg",
            size=1000,
            status=status,
            exif={"taken_at": taken} if taken else None,
            created_at=utcnow() - timedelta(hours=1) + timedelta(seconds=len(made)),
        )
        item.save()
        made.append(item)
        return item

    return make
