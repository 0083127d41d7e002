"""Profiles in DynamoDB (PynamoDB), keyed by the Django user id."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from mediahub.dynamo import register, table_meta
from uploads.models import utcnow


@register
class Profile(Model):
    Meta = table_meta("profiles")

    user_id = UnicodeAttribute(hash_key=True)
    display_name = UnicodeAttribute(default="")
    bio = UnicodeAttribute(default="")
    avatar_key = UnicodeAttribute(null=True)  # the current avatar's original, in the uploads bucket
    avatar_renditions = JSONAttribute(null=True)  # {"64": {"width", "height", "files": {"jpg": {"key", "bytes"}}}}
    pending_avatar_key = UnicodeAttribute(null=True)  # an avatar upload that is not yet processed
    avatar_error = UnicodeAttribute(null=True)  # why the last avatar upload was refused
    updated_at = UTCDateTimeAttribute(default=utcnow)
