"""Profiles: reading and editing them, avatars (presign, process, clear) and deleting a whole account."""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from mediahub.dynamo import condition_failed
from mediahub.errors import Conflict, Refusal
from profiles.models import Profile
from uploads import imaging, processing, quota, storage
from uploads.filetypes import allowed_types, is_image
from uploads.models import MediaItem, utcnow
from uploads.services import UPLOAD_URL_SECONDS, delete_item

AVATAR_KEY = re.compile(r"^avatars/(?P<user>\d+)/(?P<token>[0-9a-f]{32})\.[a-z0-9]+$")


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
    get_profile(user_id).update(actions=[Profile.pending_avatar_key.set(key), Profile.avatar_error.remove()])
    post = storage.presigned_post(
        key, content_type=content_type, size_range=(1, settings.AVATAR_MAX_SIZE), expires=UPLOAD_URL_SECONDS
    )
    return {"url": post["url"], "fields": post["fields"], "key": key, "expiresIn": UPLOAD_URL_SECONDS}


def avatar_complete(user_id: str, *, key: str) -> Profile:
    """Process the uploaded avatar now, so the person sees it at once. Refusals keep the previous avatar."""
    match = AVATAR_KEY.match(key)
    if not match or match["user"] != user_id:
        raise Refusal("That is not one of your avatar uploads.")
    outcome, reason = process_avatar(key)
    profile = get_profile(user_id)
    if outcome == "rejected":
        raise AvatarRefused(reason)
    if profile.avatar_key != key:
        raise Conflict("That upload is no longer the one in progress; please upload again.")
    return profile


def process_avatar(key: str) -> tuple[str, str | None]:
    """The processing core for avatars: the same checks and renditions as media, with the avatar settings.

    Idempotent: the S3 event (in production) and the complete call may both arrive.
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
    profile = get_profile(user_id)
    if profile.avatar_key == key:
        return "duplicate"
    if profile.pending_avatar_key != key:
        return "ignored"  # a superseded upload, or one we never handed out
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
        storage.delete_original(key)
        _set_pending_result(profile, key, [Profile.avatar_error.set(run.reason)])
        return "rejected"
    with run.stage("store"):
        renditions = processing.store_renditions(f"{key.rsplit('.', 1)[0]}/", fetched.image.renditions)
        previous = (profile.avatar_key, profile.avatar_renditions)
        _set_pending_result(profile, key, [Profile.avatar_key.set(key), Profile.avatar_renditions.set(renditions)])
        _delete_avatar_objects(*previous)
    forget_navigation(user_id)
    return "ready"


def _declared_type(key: str) -> str:
    """The Content-Type the avatar was presigned for, from the extension the server chose for it."""
    ext = key.rsplit(".", 1)[-1]
    return next(ctype for ctype, known in allowed_types().items() if known == ext)


def _set_pending_result(profile: Profile, key: str, actions: list) -> None:
    """Record an outcome only if this upload is still the one in progress: a newer upload wins."""
    actions += [Profile.pending_avatar_key.remove(), Profile.updated_at.set(utcnow())]
    try:
        profile.update(actions=actions, condition=Profile.pending_avatar_key == key)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def _delete_avatar_objects(key: str | None, renditions: dict | None) -> None:
    if key:
        storage.delete_original(key)
    for rendition in (renditions or {}).values():
        for file in rendition["files"].values():
            storage.delete_rendition(file["key"])


def avatar_clear(user_id: str) -> None:
    """Staff or the owner remove the avatar: the placeholder shows again."""
    profile = get_profile(user_id)
    _delete_avatar_objects(profile.avatar_key, profile.avatar_renditions)
    profile.update(actions=[Profile.avatar_key.remove(), Profile.avatar_renditions.remove()])
    forget_navigation(user_id)


def delete_account_data(user_id: str) -> None:
    """Everything a user owns outside Django's database: media (records and objects), avatars, the profile.

    Runs before the user row goes, so a failure leaves the account in place and deleting again finishes the job.
    """
    for item in MediaItem.by_owner.query(user_id):
        delete_item(item)
    storage.delete_prefix(settings.UPLOADS_BUCKET, f"avatars/{user_id}/")
    storage.delete_prefix(settings.RENDITIONS_BUCKET, f"avatars/{user_id}/")
    Profile(user_id).delete()
    quota.forget(user_id)
    forget_navigation(user_id)


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
