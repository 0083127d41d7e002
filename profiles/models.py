"""Profiles in DynamoDB (PynamoDB), keyed by the Django user id; API tokens in Django's database."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import models
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


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is kept: the token itself is shown once, when it is made."""

    READ = "read"
    WRITE = "write"
    SCOPES = [(READ, "Read only"), (WRITE, "Read and write")]

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=60)
    scope = models.CharField(max_length=5, choices=SCOPES, default=READ)
    prefix = models.CharField(max_length=12)  # shown in lists, so a person can tell tokens apart
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ProfileAccess(models.Model):  # noqa: DJ008 (never instantiated, so never shown)
    """No table and no rows: profiles live in DynamoDB, so this model only carries the permissions that the staff
    pages (profiles/admin.py) check, so they can be granted in the admin."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = "profile"
        permissions = [("view_profile", "Can view profiles"), ("clear_avatar", "Can clear avatars")]
