"""Albums in DynamoDB: the album, its membership rows, and its share links (docs/albums.md has the key design)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model

from mediahub.dynamo import register, table_meta
from uploads.models import LinkState, utcnow


class AlbumState:
    ACTIVE = "active"
    DELETING = "deleting"


class Order:
    TAKEN = "taken"  # by the date the picture was taken (EXIF), else its upload
    ADDED = "added"  # by when it was put in the album
    ALL = (TAKEN, ADDED)


class AlbumsByOwner(GlobalSecondaryIndex):
    """Each user's albums, newest first: the album list is one Query."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


@register
class Album(Model):
    Meta = table_meta("albums")

    id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    cover_id = UnicodeAttribute(null=True)  # a member's media id; the first item added until the owner picks one
    order = UnicodeAttribute(default=Order.TAKEN)
    item_count = NumberAttribute(default=0)  # membership rows, kept by ADDs in the same transaction as each row
    state = UnicodeAttribute(default=AlbumState.ACTIVE)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default_for_new=utcnow)

    by_owner = AlbumsByOwner()


class ByTaken(LocalSecondaryIndex):
    """An album's items by the date taken: one Query per page (keys only: the page's items come by BatchGet)."""

    class Meta:
        index_name = "by-taken"
        projection = KeysOnlyProjection()

    album_id = UnicodeAttribute(hash_key=True)
    taken = UnicodeAttribute(range_key=True)


class ByAdded(LocalSecondaryIndex):
    """An album's items by when they were added."""

    class Meta:
        index_name = "by-added"
        projection = KeysOnlyProjection()

    album_id = UnicodeAttribute(hash_key=True)
    added_at = UTCDateTimeAttribute(range_key=True)


class AlbumsOfMedia(GlobalSecondaryIndex):
    """The albums an item is in: deleting it for good removes its rows (one Query)."""

    class Meta:
        index_name = "by-media"
        projection = KeysOnlyProjection()

    media_id = UnicodeAttribute(hash_key=True)
    album_id = UnicodeAttribute(range_key=True)


@register
class Membership(Model):
    """One item in one album. An item may be in many albums: one row each."""

    Meta = table_meta("album-members")

    album_id = UnicodeAttribute(hash_key=True)
    media_id = UnicodeAttribute(range_key=True)
    # When the picture was taken (EXIF, the camera's clock, "YYYY-MM-DDTHH:MM:SS"), else when it was uploaded (UTC),
    # fixed when it was added; the media id is appended so equal times keep a stable order.
    taken = UnicodeAttribute()
    added_at = UTCDateTimeAttribute(default_for_new=utcnow)

    by_taken = ByTaken()
    by_added = ByAdded()
    by_media = AlbumsOfMedia()


class LinksOfAlbum(GlobalSecondaryIndex):
    """An album's share links, newest first."""

    class Meta:
        index_name = "by-album"
        projection = AllProjection()

    album_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


@register
class AlbumLink(LinkState, Model):
    """A link that lets anyone holding its token see an album's ready items until it expires or is revoked.

    The rules of an item's ShareLink: only the token's SHA-256 is stored, kept a while after expiry so the page can
    say why it no longer works. Downloads, if the owner allows them, are without location (uploads/sharing.py)."""

    Meta = table_meta("album-links")

    digest = UnicodeAttribute(hash_key=True)
    album_id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    expires_at = UTCDateTimeAttribute()
    downloads_allowed = BooleanAttribute(default=False)
    revoked_at = UTCDateTimeAttribute(null=True)
    forget_at = TTLAttribute()

    by_album = LinksOfAlbum()
