"""ZIP jobs in DynamoDB: one record per "download these items as one ZIP"."""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from mediahub.dynamo import register, table_meta
from uploads.models import utcnow


class State:
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"
    FINAL = (READY, FAILED, EXPIRED)  # nothing moves a job on from these but expiry (ready) and TTL
    ALL = (QUEUED, BUILDING, READY, FAILED, EXPIRED)


class ByOwner(GlobalSecondaryIndex):
    """Each owner's jobs, newest first: the downloads page is one Query."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ByState(GlobalSecondaryIndex):
    """The sweep's lists: jobs still building (a run that died) and ready ones (past their expiry), oldest first.

    Keys only: the sweep reads the few it acts on with GetItem. Few jobs are ever in one state at once (a job
    lives minutes in queued/building, a day in ready), so the state as hash key makes no hot partition that
    matters at this scale."""

    class Meta:
        index_name = "by-state"
        projection = KeysOnlyProjection()

    state = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


@register
class ZipJob(Model):
    Meta = table_meta("zip-jobs")

    id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    # The selection as the owner made it, in order (at most BULK_MAX_ITEMS ids of 32 hex digits: 17 KB at 500).
    media_ids = ListAttribute(of=UnicodeAttribute)
    state = UnicodeAttribute(default=State.QUEUED)
    items_total = NumberAttribute()
    bytes_total = NumberAttribute()  # the originals' sizes, as counted when the job was made
    items_done = NumberAttribute(default=0)
    bytes_done = NumberAttribute(default=0)  # bytes of originals written into the ZIP so far
    # Which run holds the job (a fresh id per start), so that of two deliveries of one task exactly one writes.
    runner = UnicodeAttribute(null=True)
    heartbeat_at = UTCDateTimeAttribute(null=True)  # the holder's last write: a run silent past the lease is dead
    object_key = UnicodeAttribute(null=True)  # in the renditions bucket, under exports/<owner>/<job>/
    zip_size = NumberAttribute(null=True)
    file_name = UnicodeAttribute()  # what the browser saves the ZIP as
    reason = UnicodeAttribute(null=True)  # why it failed, for a person
    # Items left out during the build: [{"id", "name", "reason"}], shown with the link.
    skipped = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default_for_new=utcnow)
    ready_at = UTCDateTimeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)  # ready: the link is offered until then
    forget_at = TTLAttribute()  # DynamoDB drops the record after this (a week after it was made or became ready)

    by_owner = ByOwner()
    by_state = ByState()
