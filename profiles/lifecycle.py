"""The avatar upload's and the account's state machines: each transition's write, with exactly its condition.

An avatar upload lives on its Profile (DynamoDB): one slot, `pending_avatar_key`, in state idle, pending or
processing (`avatar_state`; a missing value is idle). Of the runs that may process an upload (the S3 event, the
browser's complete, parallel completes), the one whose `claim` write wins decodes it; whichever run's `apply` write
wins replaces the live avatar. Upload keys are random and never reused, so a key that is neither the live avatar
nor the pending one can never become either again, and its objects may go.

An account's deletion lives in Django's database (AccountDeletion, with the user row it belongs to).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition

from mediahub.dynamo import condition_failed
from mediahub.lifecycle import Machine, Transition
from profiles.models import AccountDeletion, Profile
from uploads.models import utcnow

IDLE, PENDING, PROCESSING = "idle", "pending", "processing"
# Longer than any run may last (a Lambda invocation stops at 60 s, a web request at API Gateway's 29 s): a claim
# older than this belongs to a run that crashed, and another may take it.
CLAIM_TIMEOUT = timedelta(seconds=90)

AVATAR = Machine(
    record="avatar upload (Profile.avatar_state, pending_avatar_key)",
    states={
        IDLE: "no avatar upload in progress (also when `avatar_state` is missing); the live avatar, if any, shows",
        PENDING: "an upload was presigned to `pending_avatar_key`; nobody is processing it",
        PROCESSING: "one run (`avatar_claim`, since `avatar_claimed_at`) is checking and rendering that upload",
    },
    transitions=(
        Transition(
            "presign",
            (IDLE, PENDING, PROCESSING),
            PENDING,
            ("owner",),
            "the profile exists",
            "the profile was deleted meanwhile (account deletion): refused, nothing is written",
        ),
        Transition(
            "claim",
            (PENDING, PROCESSING),
            PROCESSING,
            ("complete", "event"),
            "`pending_avatar_key` = the key and (state = pending, or state = processing and `avatar_claimed_at` "
            "older than CLAIM_TIMEOUT)",
            "decodes nothing: a complete waits for the winner's outcome, the event is done",
        ),
        Transition(
            "release",
            (PROCESSING,),
            PENDING,
            ("complete", "event"),
            "`pending_avatar_key` = the key and `avatar_claim` = this run",
            "nothing: the claim was retaken or the upload superseded",
        ),
        Transition(
            "apply",
            (PROCESSING,),
            IDLE,
            ("complete", "event"),
            "`pending_avatar_key` = the key and `avatar_claim` = this run",
            "deletes its own renditions and original, unless the key is live or pending again (a retaken claim)",
        ),
        Transition(
            "refuse",
            (PROCESSING,),
            IDLE,
            ("complete", "event"),
            "`pending_avatar_key` = the key and `avatar_claim` = this run",
            "deletes its original only if the key is neither live nor pending; keeps the reason to itself",
        ),
        Transition(
            "clear",
            (IDLE, PENDING),
            IDLE,
            ("staff",),
            "the profile exists, `avatar_key` = the avatar read before, and state is not processing",
            "refused: the page says to try again once the upload in progress is done",
        ),
    ),
    notes=(
        "Only the run whose `apply` wins deletes the previous avatar's objects; from its claim to its apply the "
        "slot stayed (processing, its key, its claim), so the avatar it read at the claim is the one it replaced.",
        "A storage fault while processing releases the claim, so the S3 event's retry can claim it again.",
        "Uploads superseded or never completed are deleted by the hourly avatar sweep once a day old.",
    ),
)

ACTIVE, DELETING, DELETED = "active", "deleting", "deleted"

ACCOUNT = Machine(
    record="account (Django: User.is_active, AccountDeletion)",
    states={
        ACTIVE: "the user row is active and has no AccountDeletion row",
        DELETING: "deactivated (signed out everywhere, tokens refused); a job deletes its data",
        DELETED: "no user row, and nothing of the account in either bucket or any table",
    },
    transitions=(
        Transition(
            "request-deletion",
            (ACTIVE,),
            DELETING,
            ("owner",),
            "in one transaction: the user row, locked, is active; it is deactivated and its AccountDeletion made",
            "the deletion is already under way: its progress shows",
        ),
        Transition(
            "finish-deletion",
            (DELETING,),
            DELETED,
            ("task", "sweep"),
            "in one transaction: the AccountDeletion row, locked, exists; the user row is deleted (the pre_delete "
            "receiver's last pass finds nothing left), which deletes it too",
            "nothing: another job finished it",
        ),
        Transition(
            "staff-delete",
            (ACTIVE, DELETING),
            DELETED,
            ("staff",),
            "the user row exists; its pre_delete receiver deletes all the account's data first, in the request",
            "a storage fault leaves the row, and deleting again finishes the job",
        ),
    ),
    notes=(
        "The job finishes only when no media item is left and the settling time since the request has passed "
        "(a presigned upload or a processing run already under way may still write until then); it then purges "
        "every object version under the account's prefixes once more.",
    ),
)

MACHINES = (AVATAR, ACCOUNT)


# --- Avatar writes ------------------------------------------------------------------------------------------


def presign(user_id: str, key: str) -> bool:
    """presign: a new upload supersedes whatever was pending or processing."""
    actions = [
        Profile.pending_avatar_key.set(key),
        Profile.avatar_state.set(PENDING),
        Profile.avatar_claim.remove(),
        Profile.avatar_claimed_at.remove(),
        Profile.avatar_error.remove(),
        Profile.updated_at.set(utcnow()),
    ]
    return _write(user_id, actions, Profile.user_id.exists()) is not None


def claim(user_id: str, key: str, claimer: str, *, now: datetime | None = None) -> Profile | None:
    """claim: the profile as it is after the claim, or None if another run holds it or the key is not pending."""
    now = now or utcnow()
    stale = (Profile.avatar_state == PROCESSING) & (Profile.avatar_claimed_at < now - CLAIM_TIMEOUT)
    condition = (Profile.pending_avatar_key == key) & ((Profile.avatar_state == PENDING) | stale)
    actions = [
        Profile.avatar_state.set(PROCESSING),
        Profile.avatar_claim.set(claimer),
        Profile.avatar_claimed_at.set(now),
    ]
    return _write(user_id, actions, condition)


def release(user_id: str, key: str, claimer: str) -> bool:
    """release: after a storage fault, hand the upload back so a retry can claim it at once."""
    actions = [Profile.avatar_state.set(PENDING), Profile.avatar_claim.remove(), Profile.avatar_claimed_at.remove()]
    return _write(user_id, actions, _claimed(key, claimer)) is not None


def apply(user_id: str, key: str, claimer: str, renditions: dict) -> bool:
    """apply: the processed upload becomes the live avatar."""
    actions = [Profile.avatar_key.set(key), Profile.avatar_renditions.set(renditions), Profile.avatar_error.remove()]
    return _write(user_id, actions + _done(), _claimed(key, claimer)) is not None


def refuse(user_id: str, key: str, claimer: str, reason: str) -> bool:
    """refuse: the upload is not a usable picture; the live avatar stays and the profile says why."""
    return _write(user_id, [Profile.avatar_error.set(reason), *_done()], _claimed(key, claimer)) is not None


def clear(user_id: str, avatar_key: str | None) -> bool:
    """clear: remove the live avatar (and abandon a pending upload), never under a run that is processing."""
    live = Profile.avatar_key == avatar_key if avatar_key else Profile.avatar_key.does_not_exist()
    not_processing = Profile.avatar_state.does_not_exist() | Profile.avatar_state.is_in(IDLE, PENDING)
    condition = Profile.user_id.exists() & live & not_processing
    actions = [Profile.avatar_key.remove(), Profile.avatar_renditions.remove(), *_done()]
    return _write(user_id, actions, condition) is not None


def _claimed(key: str, claimer: str) -> Condition:
    return (Profile.pending_avatar_key == key) & (Profile.avatar_claim == claimer)


def _done() -> list:
    return [
        Profile.pending_avatar_key.remove(),
        Profile.avatar_state.set(IDLE),
        Profile.avatar_claim.remove(),
        Profile.avatar_claimed_at.remove(),
        Profile.updated_at.set(utcnow()),
    ]


def _write(user_id: str, actions: list, condition: Condition) -> Profile | None:
    """One conditional update; the profile as written, or None when the condition did not hold."""
    profile = Profile(user_id)
    try:
        profile.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return None
    return profile


# --- Account writes -----------------------------------------------------------------------------------------


def request_deletion(user_id: int, *, total: int) -> bool:
    """request-deletion: deactivate the account and record the deletion, or nothing if it is not active."""
    with transaction.atomic():
        if not User.objects.select_for_update().filter(pk=user_id, is_active=True).exists():
            return False
        User.objects.filter(pk=user_id).update(is_active=False)
        AccountDeletion.objects.create(user_id=user_id, total=total, touched_at=utcnow())
    return True


def finish_deletion(user_id: int) -> bool:
    """finish-deletion: delete the user row (and with it the AccountDeletion), if its deletion is still recorded."""
    with transaction.atomic():
        deletion = AccountDeletion.objects.select_for_update().filter(user_id=user_id).first()
        if deletion is None:
            return False
        deletion.user.delete()
    return True
