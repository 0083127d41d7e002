"""Bringing items made before search existed into it: their date taken, their camera, their words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from search import index
from uploads import lifecycle
from uploads.models import MediaItem


@dataclass
class Backfilled:
    owner_id: str
    dated: int = 0  # items given a shot_at
    indexed: int = 0  # processed items whose rows were written


def backfill(owners: Iterable[str]) -> list[Backfilled]:
    """Per owner, one Query on their by-owner partition (never a Scan): items without `shot_at` get it (EXIF
    taken_at, else created_at), and every processed item's rows are written again (idempotent puts, so running
    it twice, or while uploads go on, is harmless)."""
    done = []
    for owner_id in owners:
        report = Backfilled(owner_id)
        for item in MediaItem.by_owner.query(owner_id):
            if item.shot_at is None:
                shot_at = index.taken_at(item.exif) or item.created_at
                report.dated += lifecycle.date(item, shot_at=shot_at, camera=index.camera_of(item.exif))
            if item.processed_at and item.shot_at:
                index.index(item)
                report.indexed += 1
        done.append(report)
    return done
