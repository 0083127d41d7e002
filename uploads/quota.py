"""The per-user storage quota: bytes of originals, charged when an upload arrives and given back when it goes.

The count is one DynamoDB item per owner, changed only inside the transactions of uploads/lifecycle.py (`arrive`
charges, `reject` and `start_delete` give back), so checking the quota costs one read and two uploads racing for the
last bytes cannot both get in. `reconcile` recomputes each owner's count from their items, for drift.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from pynamodb.exceptions import DoesNotExist

from mediahub.errors import Refusal
from uploads import lifecycle
from uploads.filetypes import human_size
from uploads.models import MediaItem, StorageUsage, utcnow

log = logging.getLogger(__name__)


class QuotaExceeded(Refusal):
    field = "size"


def _usage(owner_id: str) -> StorageUsage | None:
    try:
        return StorageUsage.get(owner_id, consistent_read=True)
    except DoesNotExist:
        return None


def bytes_stored(owner_id: str) -> int:
    usage = _usage(owner_id)
    return int(usage.bytes) if usage else 0


def check(owner_id: str, size: int) -> None:
    """Refuse, with the figures, an upload that would take its owner over the quota."""
    used = bytes_stored(owner_id)
    if used + size > settings.USER_STORAGE_QUOTA:
        raise QuotaExceeded(_message(size, used))


def exceeded_message(owner_id: str, size: int) -> str:
    return _message(size, bytes_stored(owner_id))


def forget(owner_id: str) -> None:
    lifecycle.forget_usage(owner_id)


def _message(size: int, used: int) -> str:
    return (
        f"This file ({human_size(size)}) would take you over your storage quota: "
        f"{human_size(used)} of {human_size(settings.USER_STORAGE_QUOTA)} used."
    )


@dataclass(frozen=True)
class Drift:
    owner_id: str
    recorded: int
    actual: int
    fixed: bool


def counted_bytes(owner_id: str) -> int:
    """The sum of the owner's counted items: one Query on the owner index."""
    query = MediaItem.by_owner.query(owner_id, attributes_to_get=["size", "counted"])
    return sum(int(item.size) for item in query if item.counted)


# A count changed this recently is left for the next run: the owner index may not show the item that changed it.
SETTLE = timedelta(minutes=5)


def reconcile(owner_ids: Iterable[str], *, fix: bool) -> list[Drift]:
    """Each owner whose recorded usage differs from their counted items; with `fix`, set it right (conditionally)."""
    drifts = []
    for owner_id in owner_ids:
        usage = _usage(owner_id)
        if usage is not None and usage.changed_at and utcnow() - usage.changed_at < SETTLE:
            continue
        recorded = int(usage.bytes) if usage else 0
        actual = counted_bytes(owner_id)
        if recorded == actual:
            continue
        fixed = fix and lifecycle.reconcile(owner_id, observed=int(usage.bytes) if usage else None, actual=actual)
        log.warning("usage drift for owner %s: recorded %d, counted %d (fixed: %s)", owner_id, recorded, actual, fixed)
        drifts.append(Drift(owner_id, recorded, actual, fixed))
    return drifts
