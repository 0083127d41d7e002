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
    # The avatar upload's state (profiles/lifecycle.py): idle, pending or processing. Missing means idle.
    avatar_state = UnicodeAttribute(null=True)
    avatar_claim = UnicodeAttribute(null=True)  # the run processing pending_avatar_key, while processing
    avatar_claimed_at = UTCDateTimeAttribute(null=True)  # when it claimed it: a stale claim may be retaken
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


class AccountDeletion(models.Model):
    """An account its owner asked to delete: deactivated at once, its data deleted by a background job.

    Goes with the user row (CASCADE), which the job deletes last, so "no row" means the deletion is finished.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="deletion")
    requested_at = models.DateTimeField(auto_now_add=True)
    total = models.PositiveIntegerField()  # media items when it was asked for, for "n of N deleted"
    touched_at = models.DateTimeField()  # the last time a job worked on it: the sweep resumes stalled ones

    def __str__(self) -> str:
        return f"deletion of user {self.user_id}"
