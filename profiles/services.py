"""Profiles: reading and editing them, avatars (presign, process, clear) and deleting a whole account."""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.cache import cache
from pynamodb.exceptions import DoesNotExist, PutError

import albums.services
from exports import services as exports_services
from mediahub.dynamo import condition_failed
from mediahub.errors import STORAGE_ERRORS, Conflict, NotFound, Refusal
from profiles import lifecycle
from profiles.models import AccountDeletion, Profile
from uploads import dispatch, imaging, processing, quota, storage
from uploads.filetypes import allowed_types, is_image
from uploads.models import MediaItem, utcnow
from uploads.services import UPLOAD_URL_SECONDS, delete_item

log = logging.getLogger(__name__)

AVATAR_KEY = re.compile(r"^avatars/(?P<user>\d+)/(?P<token>[0-9a-f]{32})\.[a-z0-9]+$")
# An avatar's original (avatars/<user>/<token>.<ext>) or one of its renditions (avatars/<user>/<token>/<size>.<ext>).
AVATAR_STEM = re.compile(r"^(?P<stem>avatars/(?P<user>\d+)/[0-9a-f]{32})[./]")
BUSY, SUPERSEDED = "busy", "superseded"
# A complete that finds another run processing its upload waits this long for the outcome (API Gateway stops a
# request at 29 s), reading the profile every AVATAR_POLL_SECONDS.
AVATAR_WAIT_SECONDS = 20
AVATAR_POLL_SECONDS = 0.25
SWEEP_AGE = timedelta(days=1)

DELETE_TASK = "profiles.delete_account"  # the Celery task (profiles/tasks.py)
DELETE_LAMBDA_TASK = "profiles.events.delete_account"  # what the asynchronous invocation runs
PROGRESS_SALT = "profiles.account-deletion"
PROGRESS_MAX_AGE = 7 * 24 * 3600
# One job run deletes media items for this long, then queues the next run: well inside Lambda's 60 s timeout and
# Celery's soft time limit.
JOB_SECONDS = 40
# The user row goes no sooner than this after the request: a presigned upload (60 s) or a processing run already
# under way (Celery's 300 s time limit) may still write until then, and the last pass deletes what they wrote.
DELETION_SETTLE = timedelta(minutes=5)
# A deletion no job has touched for this long is queued again by the sweep.
DELETION_STALL = timedelta(minutes=2)


class AvatarRefused(Refusal):
    http_status = 422
    field = "file"


def get_profile(user_id: str, *, default_name: str = "") -> Profile:
    """The user's profile, made on first read: every user has one."""
    try:
        return Profile.get(user_id)
    except DoesNotExist:
        profile = Profile(user_id, display_name=default_name)
        try:
            profile.save(condition=Profile.user_id.does_not_exist())
        except PutError as exc:  # made meanwhile by another request: read that one
            if not condition_failed(exc):
                raise
            return Profile.get(user_id, consistent_read=True)
        return profile


def profile_update(user_id: str, *, display_name: str, bio: str) -> Profile:
    profile = get_profile(user_id)
    profile.update(
        actions=[Profile.display_name.set(display_name), Profile.bio.set(bio), Profile.updated_at.set(utcnow())]
    )
    forget_navigation(user_id)
    return profile


def avatar_presign(user_id: str, *, content_type: str) -> dict:
    """A 60-second POST for a new avatar under a server-chosen key, with that exact Content-Type."""
    key = f"avatars/{user_id}/{secrets.token_hex(16)}.{allowed_types()[content_type]}"
    get_profile(user_id)
    if not lifecycle.presign(user_id, key):
        raise Conflict("This account is being deleted.")
    post = storage.presigned_post(
        key, content_type=content_type, size_range=(1, settings.AVATAR_MAX_SIZE), expires=UPLOAD_URL_SECONDS
    )
    return {"url": post["url"], "fields": post["fields"], "key": key, "expiresIn": UPLOAD_URL_SECONDS}


def avatar_complete(user_id: str, *, key: str) -> Profile:
    """Process the uploaded avatar now, so the person sees it at once. Refusals keep the previous avatar.

    If another run (the S3 event, a second complete) claimed the upload first, wait for its outcome instead of
    decoding the same file again.
    """
    match = AVATAR_KEY.match(key)
    if not match or match["user"] != user_id:
        raise Refusal("That is not one of your avatar uploads.")
    get_profile(user_id)  # made on first read, so the consistent reads below find one even for a made-up key
    outcome, reason = process_avatar(key)
    profile = _await_outcome(user_id, key) if outcome == BUSY else Profile.get(user_id, consistent_read=True)
    if profile.avatar_key == key:
        return profile
    if outcome == "rejected":
        raise AvatarRefused(reason)
    if profile.pending_avatar_key == key:
        raise Conflict("Your picture is still being processed; it shows on your profile in a moment.")
    if outcome == BUSY and profile.pending_avatar_key is None and profile.avatar_error:
        raise AvatarRefused(profile.avatar_error)  # the run that won refused it
    raise Conflict("That upload is no longer the one in progress; please upload again.")


def _await_outcome(user_id: str, key: str) -> Profile:
    """The profile once the run that claimed `key` is done with it, or as it is after AVATAR_WAIT_SECONDS."""
    deadline = time.monotonic() + AVATAR_WAIT_SECONDS
    while True:
        profile = Profile.get(user_id, consistent_read=True)
        if profile.pending_avatar_key != key or time.monotonic() > deadline:
            return profile
        time.sleep(AVATAR_POLL_SECONDS)


def process_avatar(key: str) -> tuple[str, str | None]:
    """The processing core for avatars: the same checks and renditions as media, with the avatar settings.

    The S3 event (in production) and the complete call may both arrive, and completes may be repeated: only the
    run that claims the upload decodes it; the others answer "busy" (or "duplicate" once it is live).
    """
    run = processing.Run(key)
    try:
        run.outcome = processing.transient_safe(lambda: _process_avatar(run, key))
    finally:
        run.log()
    return run.outcome, run.reason


def _process_avatar(run: processing.Run, key: str) -> str:
    match = AVATAR_KEY.match(key)
    if not match:
        return "ignored"
    user_id = run.item_id = match["user"]
    claimer = uuid.uuid4().hex
    claimed = lifecycle.claim(user_id, key, claimer)
    if claimed is None:
        return _why_not_claimed(user_id, key)
    try:
        return _render_claimed(run, claimed, key, claimer)
    except STORAGE_ERRORS:
        lifecycle.release(user_id, key, claimer)  # best effort: a retry may claim it again at once
        raise


def _why_not_claimed(user_id: str, key: str) -> str:
    try:
        profile = Profile.get(user_id, consistent_read=True)
    except DoesNotExist:
        return "ignored"
    if profile.avatar_key == key:
        return "duplicate"
    if profile.pending_avatar_key == key and profile.avatar_state == lifecycle.PROCESSING:
        return BUSY
    return "ignored"  # a superseded upload, one already refused, or one we never handed out


def _render_claimed(run: processing.Run, claimed: Profile, key: str, claimer: str) -> str:
    user_id = claimed.user_id
    try:
        fetched = processing.fetch_and_render(
            run,
            key,
            declared_type=_declared_type(key),
            max_size=settings.AVATAR_MAX_SIZE,
            renditions=settings.AVATAR_RENDITIONS,
        )
        if fetched.image is None:
            raise imaging.BadMedia(f"An avatar must be a picture; this file is {fetched.detected}.")
    except imaging.BadMedia as exc:
        run.reason = str(exc)
        if lifecycle.refuse(user_id, key, claimer, run.reason):
            storage.delete_original(key)
            return "rejected"
        _discard_if_dead(user_id, key, None)
        return SUPERSEDED
    with run.stage("store"):
        renditions = processing.store_renditions(f"{key.rsplit('.', 1)[0]}/", fetched.image.renditions)
        if not lifecycle.apply(user_id, key, claimer, renditions):
            _discard_if_dead(user_id, key, renditions)
            return SUPERSEDED
        # The claim held from the read to this write, so `claimed` still shows the avatar this one replaced.
        _delete_avatar_objects(claimed.avatar_key, claimed.avatar_renditions)
    forget_navigation(user_id)
    return "ready"


def _discard_if_dead(user_id: str, key: str, renditions: dict | None) -> None:
    """A run that lost deletes what it wrote, unless its key is live or pending again (another run retook the
    claim and writes the same objects). A key that is neither can never become either: keys are never reused."""
    try:
        profile = Profile.get(user_id, consistent_read=True)
    except DoesNotExist:
        profile = None
    if profile is None or key not in (profile.avatar_key, profile.pending_avatar_key):
        _delete_avatar_objects(key, renditions)


def _declared_type(key: str) -> str:
    """The Content-Type the avatar was presigned for, from the extension the server chose for it."""
    ext = key.rsplit(".", 1)[-1]
    return next(ctype for ctype, known in allowed_types().items() if known == ext)


def _delete_avatar_objects(key: str | None, renditions: dict | None) -> None:
    if key:
        storage.delete_original(key)
    for rendition in (renditions or {}).values():
        for file in rendition["files"].values():
            storage.delete_rendition(file["key"])


def avatar_clear(user_id: str) -> None:
    """Staff remove the avatar: the placeholder shows again. Refused while an upload is being processed."""
    profile = get_profile(user_id)
    if not lifecycle.clear(user_id, profile.avatar_key):
        raise Conflict("A new picture is being processed right now; try again in a moment.")
    _delete_avatar_objects(profile.avatar_key, profile.avatar_renditions)
    forget_navigation(user_id)


def sweep_avatars(*, older_than: timedelta = SWEEP_AGE) -> int:
    """Delete avatar objects in both buckets that are neither a profile's live avatar nor its pending upload and
    are older than `older_than`: uploads never completed, superseded, or of deleted accounts. Returns how many.

    Safe against races: objects are listed before profiles are read, and a key is pending from its presign on,
    so a key neither live nor pending when read can never become either (keys are never reused). `older_than`
    is a grace period: runs still cleaning up after themselves are left to do it.
    """
    cutoff = utcnow() - older_than
    old: dict[str, list[tuple[str, str, str]]] = {}
    for bucket in (settings.UPLOADS_BUCKET, settings.RENDITIONS_BUCKET):
        for obj in storage.list_prefix(bucket, "avatars/"):
            match = AVATAR_STEM.match(obj["Key"])
            if match and obj["LastModified"] < cutoff:
                old.setdefault(match["user"], []).append((bucket, obj["Key"], match["stem"]))
    profiles = {profile.user_id: profile for profile in Profile.batch_get(list(old))}
    delete = {settings.UPLOADS_BUCKET: storage.delete_original, settings.RENDITIONS_BUCKET: storage.delete_rendition}
    count = 0
    for user_id, objects in old.items():
        profile = profiles.get(user_id)
        keep = {_stem(profile.avatar_key), _stem(profile.pending_avatar_key)} if profile else set()
        for bucket, key, stem in objects:
            if stem not in keep:
                delete[bucket](key)
                count += 1
    log.info("deleted %d superseded avatar object(s)", count)
    return count


def _stem(key: str | None) -> str | None:
    match = AVATAR_STEM.match(key or "")
    return match["stem"] if match else None


# --- Deleting an account ------------------------------------------------------------------------------------


def account_prefixes(user_id: str) -> list[tuple[str, str]]:
    """(bucket, prefix) of everything an account may own in storage."""
    return [
        (settings.UPLOADS_BUCKET, f"uploads/{user_id}/"),
        (settings.UPLOADS_BUCKET, f"avatars/{user_id}/"),
        (settings.UPLOADS_BUCKET, f"quarantine/uploads/{user_id}/"),
        (settings.RENDITIONS_BUCKET, f"renditions/{user_id}/"),
        (settings.RENDITIONS_BUCKET, f"avatars/{user_id}/"),
        (settings.RENDITIONS_BUCKET, f"exports/{user_id}/"),  # ZIP downloads
    ]


def _purge(bucket: str, prefix: str, *, deadline: float | None = None) -> bool:
    """Everything under `prefix`, for good: every version in the (versioned) uploads bucket; the renditions bucket
    keeps no versions, so plain deletes do. Whether it is all gone (False: the deadline came first)."""
    if bucket == settings.UPLOADS_BUCKET:
        return storage.delete_versions(bucket, prefix, deadline=deadline)
    storage.delete_prefix(bucket, prefix)
    return True


def delete_account_data(user_id: str) -> None:
    """Everything a user owns outside Django's database: media (records, objects, share links), albums, every object
    version under the account's prefixes, the usage row, the profile.

    Runs before the user row goes (the pre_delete receiver), so a failure leaves the account in place and deleting
    again finishes the job. The account deletion job calls it last, when the media items are already gone.
    """
    for item in MediaItem.by_owner.query(user_id):
        delete_item(item)
    albums.services.forget_owner(user_id)  # issue 13: the account's albums and their links
    for bucket, prefix in account_prefixes(user_id):
        _purge(bucket, prefix)
    quota.forget(user_id)
    exports_services.forget_owner(user_id)
    Profile(user_id).delete()
    forget_navigation(user_id)


def account_delete_request(user: User) -> str:
    """Deactivate the account now (signed out everywhere, tokens refused) and queue the deletion of its data;
    returns the token of its progress page."""
    user_id = str(user.pk)
    lifecycle.request_deletion(user.pk, total=MediaItem.by_owner.count(user_id))
    try:
        dispatch.run_job(DELETE_TASK, DELETE_LAMBDA_TASK, user.pk)
    except Exception:  # the deletion is recorded: the sweep resumes it within minutes
        log.exception("could not queue the deletion of account %s", user_id)
    return signing.dumps(user.pk, salt=PROGRESS_SALT)


@dataclass(frozen=True)
class DeletionProgress:
    done: int
    total: int
    finished: bool


def account_delete_progress(token: str) -> DeletionProgress:
    """How far the deletion behind a progress token has got. NotFound for a bad token or an active account."""
    try:
        user_id = signing.loads(token, salt=PROGRESS_SALT, max_age=PROGRESS_MAX_AGE)
    except signing.BadSignature:
        raise NotFound("No such account deletion.") from None
    deletion = AccountDeletion.objects.filter(user_id=user_id).first()
    if deletion is None:
        if User.objects.filter(pk=user_id).exists():
            raise NotFound("No such account deletion.")
        return DeletionProgress(done=0, total=0, finished=True)
    left = MediaItem.by_owner.count(str(user_id))
    return DeletionProgress(done=max(0, deletion.total - left), total=max(deletion.total, left), finished=False)


def account_delete_run(user_id: int) -> str:
    """One run of the deletion job, bounded by JOB_SECONDS: "deleted", "more" (queue another run at once),
    "settling" (the sweep finishes it) or "gone" (nothing to do). Safe to repeat or to run twice at once."""
    deletion = AccountDeletion.objects.filter(user_id=user_id).first()
    if deletion is None:
        return "gone"
    _touch(deletion)
    outcome = _delete_some(str(user_id), deletion.requested_at)
    if outcome == "done":
        lifecycle.finish_deletion(user_id)  # the pre_delete receiver's last pass deletes the rest, then the row
        return "deleted"
    _touch(deletion)
    return outcome


def _delete_some(user_id: str, requested_at: datetime) -> str:
    """Media items, then (after the settling time) every object version under the account's prefixes, until the
    budget is spent. Old versions may be many: purged here in budgeted runs, so the last pass finds none."""
    deadline = time.monotonic() + JOB_SECONDS
    for item in MediaItem.by_owner.query(user_id):
        delete_item(item)
        if time.monotonic() > deadline:  # checked after a deletion, so every run makes progress
            return "more"
    if utcnow() < requested_at + DELETION_SETTLE:
        return "settling"
    for bucket, prefix in account_prefixes(user_id):
        if not _purge(bucket, prefix, deadline=deadline):
            return "more"
    return "done"


def _touch(deletion: AccountDeletion) -> None:
    AccountDeletion.objects.filter(pk=deletion.pk).update(touched_at=utcnow())


def account_delete_job(user_id: int) -> str:
    """What the background job runs: one run, and another queued at once if there is more to delete."""
    outcome = account_delete_run(user_id)
    if outcome == "more":
        dispatch.run_job(DELETE_TASK, DELETE_LAMBDA_TASK, user_id)
    return outcome


def resume_account_deletions() -> int:
    """Queue again every deletion no job has worked on for DELETION_STALL: a job that crashed, ran out of
    retries, or left the final pass for after the settling time. Returns how many."""
    stalled = AccountDeletion.objects.filter(touched_at__lt=utcnow() - DELETION_STALL)
    count = 0
    for user_id in stalled.values_list("user_id", flat=True):
        dispatch.run_job(DELETE_TASK, DELETE_LAMBDA_TASK, user_id)
        count += 1
    log.info("resumed %d account deletion(s)", count)
    return count


def avatar_urls(profile: Profile, size: str) -> dict[str, str] | None:
    rendition = (profile.avatar_renditions or {}).get(size)
    if not rendition:
        return None
    return {ext: storage.rendition_url(file["key"]) for ext, file in rendition["files"].items()}


def initials(name: str) -> str:
    words = [w for w in re.split(r"[\s._-]+", name) if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def navigation(user: User) -> dict:
    """What the navigation bar shows for a user, cached briefly so a page costs no DynamoDB call most times."""
    key = f"nav:{user.pk}"
    cached = cache.get(key)
    if cached is None:
        profile = get_profile(str(user.pk), default_name=user.username)
        name = profile.display_name or user.username
        cached = {"name": name, "initials": initials(name), "avatar": avatar_urls(profile, "64")}
        cache.set(key, cached, timeout=60)
    return cached


def forget_navigation(user_id: str) -> None:
    cache.delete(f"nav:{user_id}")


def accepts_as_avatar(content_type: str) -> bool:
    return content_type in allowed_types() and is_image(content_type)
