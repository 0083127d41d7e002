"""Media metadata in DynamoDB (PynamoDB), not the Django ORM."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from mediahub.dynamo import register, table_meta
from uploads.filetypes import family


class Status:
    PENDING = "pending"
    UPLOADED = "uploaded"
    READY = "ready"
    REJECTED = "rejected"
    FAILED = "failed"
    DELETING = "deleting"
    TRASHED = "trashed"  # the owner's delete: restorable until purged (docs/trash.md)
    ALL = (PENDING, UPLOADED, READY, REJECTED, FAILED, DELETING, TRASHED)


def utcnow() -> datetime:
    return datetime.now(UTC)


class ByOwner(GlobalSecondaryIndex):
    """Each user's gallery, newest first: one Query per page."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ByStatus(GlobalSecondaryIndex):
    """The admin's moderation lists, newest first per status."""

    class Meta:
        index_name = "by-status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ByChecksum(GlobalSecondaryIndex):
    """Whether an owner already has a file, by its SHA-256 (the bulk uploader skips those): one Query per checksum.

    Sparse: only items processing has read carry `sha256`. The owner is the hash key, so a Query can never see
    another owner's files.
    """

    class Meta:
        index_name = "by-checksum"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    sha256 = UnicodeAttribute(range_key=True)


DELETION_DUE = "due"  # the one key of the by-deletion index


class ByShot(GlobalSecondaryIndex):
    """Each user's items by when they were taken (`shot_at`), for the gallery's "date taken" order and date-range
    searches: one Query per page, the range a KeyCondition. Sparse until `manage.py search-backfill` has given
    items made before `shot_at` existed theirs."""

    class Meta:
        index_name = "by-shot"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    shot_at = UTCDateTimeAttribute(range_key=True)


class ByDeletion(GlobalSecondaryIndex):
    """Items their owner chose to have deleted, by when: sparse, only those items carry `deletion_due`."""

    class Meta:
        index_name = "by-deletion"
        projection = AllProjection()

    deletion_due = UnicodeAttribute(hash_key=True)
    delete_at = UTCDateTimeAttribute(range_key=True)


# --- Trash and favourites (docs/trash.md) ---------------------------------------------------------------------------


class ByTrash(GlobalSecondaryIndex):
    """Each owner's trash, most recently trashed first: one Query per page of the trash page.

    Sparse: only trashed items carry `trash_owner` (their owner's id, removed on restore)."""

    class Meta:
        index_name = "by-trash"
        projection = AllProjection()

    trash_owner = UnicodeAttribute(hash_key=True)
    trashed_at = UTCDateTimeAttribute(range_key=True)


class ByFavourite(GlobalSecondaryIndex):
    """Each owner's favourites, newest first: one Query per page of the gallery's favourites filter.

    Sparse: only favourite items carry `favourite_owner` (their owner's id)."""

    class Meta:
        index_name = "by-favourite"
        projection = AllProjection()

    favourite_owner = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


@register
class MediaItem(Model):
    Meta = table_meta("media")

    id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    name = UnicodeAttribute()
    caption = UnicodeAttribute(default="")
    file_name = UnicodeAttribute()  # the uploader's name for the file: display and downloads only
    object_key = UnicodeAttribute()  # chosen by the server, never by the client
    declared_type = UnicodeAttribute()
    detected_type = UnicodeAttribute(null=True)
    size = NumberAttribute()
    status = UnicodeAttribute(default=Status.PENDING)
    reason = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default_for_new=utcnow)
    uploaded_at = UTCDateTimeAttribute(null=True)
    processed_at = UTCDateTimeAttribute(null=True)
    etag = UnicodeAttribute(null=True)
    # The object version checked at arrival: processing reads it and downloads serve it, so bytes swapped in later
    # (a re-POST of the presigned fields) are never processed or served.
    version_id = UnicodeAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)  # hex, of the bytes processing read: set when the item becomes ready
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    animated = BooleanAttribute(null=True)
    exif = JSONAttribute(null=True)
    # A video's (width and height above are as shown, after rotation); None where processing found no such stream.
    duration = NumberAttribute(null=True)  # seconds
    video_codec = UnicodeAttribute(null=True)  # FFmpeg's names: h264, hevc, vp9, av1, prores ...
    audio_codec = UnicodeAttribute(null=True)  # aac, opus, mp3 ...
    frame_rate = NumberAttribute(null=True)  # frames a second
    rotation = NumberAttribute(null=True)  # degrees counterclockwise the container turns the frames to show them
    pages = NumberAttribute(null=True)  # a PDF's
    renditions = JSONAttribute(null=True)  # {"thumb.jpg": {"key": ..., "width": .., "height": .., "bytes": ..}, ...}
    # What the pages show until a rendition has loaded (uploads/placeholders.py): a ThumbHash of the picture
    # (base64, ~25 bytes) and its average colour (#rrggbb). Set with the renditions, by whatever made them.
    thumbhash = UnicodeAttribute(null=True)
    color = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    downloads = NumberAttribute(default=0)
    # A file above MULTIPART_THRESHOLD goes to S3 in parts: the multipart upload S3 started for this item (the
    # client never names one) and the size of every part but the last. Both are kept after arrival, for the record.
    upload_id = UnicodeAttribute(null=True)
    part_size = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)  # set while pending, so abandoned uploads vanish on their own
    counted = BooleanAttribute(null=True)  # its bytes are in the owner's StorageUsage
    delete_at = UTCDateTimeAttribute(null=True)  # the owner's "delete after N days"
    deletion_due = UnicodeAttribute(null=True)  # "due" whenever delete_at is set: the key of the sparse index
    # --- Trash and favourites (docs/trash.md): set and removed only by uploads/lifecycle.py
    trashed_at = UTCDateTimeAttribute(null=True)
    trashed_from = UnicodeAttribute(null=True)  # the state a restore returns to (processing may move it on)
    trash_owner = UnicodeAttribute(null=True)  # = owner_id while trashed: the by-trash index's key
    kept_delete_at = UTCDateTimeAttribute(null=True)  # the owner's own "delete after N days", back on restore
    favourite_owner = UnicodeAttribute(null=True)  # = owner_id while a favourite: the by-favourite index's key
    # --- search (search/): when it was taken (EXIF taken_at, else the upload's created_at; set at create, moved by
    # processing) and with what ("make model" from EXIF), top-level so an index key and a filter can use them.
    shot_at = UTCDateTimeAttribute(null=True)
    camera = UnicodeAttribute(null=True)

    by_owner = ByOwner()
    by_status = ByStatus()
    by_deletion = ByDeletion()
    by_checksum = ByChecksum()
    by_trash = ByTrash()
    by_favourite = ByFavourite()

    @property
    def favourite(self) -> bool:
        return self.favourite_owner is not None

    by_shot = ByShot()

    @property
    def family(self) -> str:
        """image, video or document: decides how the item is shown."""
        return family(self.detected_type or self.declared_type)

    @property
    def sort_date(self) -> datetime:
        """When it was taken, as far as we know: the date-taken order's key (created_at until backfilled)."""
        return self.shot_at or self.created_at


class ByMedia(GlobalSecondaryIndex):
    """An item's share links, newest first."""

    class Meta:
        index_name = "by-media"
        projection = AllProjection()

    media_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class LinkState:
    """A link's state from its fields (never written): shared by item links and album links (albums/models.py)."""

    max_downloads = None  # links without a download limit (ShareLink's attribute takes its place)

    def state(self, now: datetime) -> str:
        """active, revoked, expired or exhausted."""
        if self.revoked_at:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        if self.max_downloads is not None and self.downloads >= self.max_downloads:
            return "exhausted"
        return "active"


@register
class ShareLink(LinkState, Model):
    """A link that lets anyone holding its token see and download one item, until it expires, is used up or revoked.

    Only the token's SHA-256 is stored: a leaked table does not leak working links.
    """

    Meta = table_meta("share-links")

    digest = UnicodeAttribute(hash_key=True)
    media_id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    expires_at = UTCDateTimeAttribute()
    max_downloads = NumberAttribute(null=True)
    downloads = NumberAttribute(default=0)
    revoked_at = UTCDateTimeAttribute(null=True)
    # The owner's choice: share the original as it is (with its location, if it has one). Without it the link serves
    # `serves`: "copy" (the original without its location, at `copy_key` in the renditions bucket), "large" (the
    # large rendition at `copy_key`, which carries no metadata) or "original" (kinds mediahub cannot clean; `note`
    # says why it is not a copy). Links made before the choice existed have neither and serve the original.
    original = BooleanAttribute(default=False)
    serves = UnicodeAttribute(null=True)
    copy_key = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    # Kept a while after expiry so the page can still say "expired" rather than "unknown", then DynamoDB drops it.
    forget_at = TTLAttribute()

    by_media = ByMedia()


@register
class StorageUsage(Model):
    """Bytes of originals each owner stores, kept by atomic ADDs so the quota check is one read."""

    Meta = table_meta("usage")

    owner_id = UnicodeAttribute(hash_key=True)
    bytes = NumberAttribute(default=0)
    changed_at = UTCDateTimeAttribute(null=True)  # the last charge or give-back: reconcile lets fresh counts settle


# --- Staff permissions ---------------------------------------------------------------------------------------------
# Media items live in DynamoDB, so Django makes no permissions for them. This ORM model has no table and no rows: it
# only carries the permissions the staff pages (uploads/admin.py) check, so they can be granted in the admin.
from django.db import models as orm  # noqa: E402 (kept apart from the DynamoDB models above)


class MediaAccess(orm.Model):  # noqa: DJ008 (never instantiated, so never shown)
    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = "media item"
        permissions = [
            ("view_media", "Can view media items"),
            ("change_media", "Can re-queue media processing"),
            ("delete_media", "Can delete media items"),
        ]
