"""The lives of a media item, a share link and an owner's usage counter: every state, every move, its condition.

This module owns every DynamoDB write that changes those records. Each function below performs one transition of
the tables in `MACHINES` and carries exactly the condition its row states, so that of two racing callers (a
browser's complete and an S3 event, two deliveries of one event, a delete during processing) exactly one wins and
the other does what the row's last column says. No write here can recreate a deleted record: every update is
conditional on a state, and a state is only ever held by an item that exists.

Counting an item's bytes and moving its state happen in one `TransactWriteItems`, never as two writes with a
window between them, so a retried request or a write failing after another succeeded cannot charge twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from pynamodb.exceptions import DeleteError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition

from mediahub.dynamo import condition_failed, transaction
from mediahub.lifecycle import GONE, REMEMBERED, UNCHANGED, Machine, Transition
from uploads.models import DELETION_DUE, MediaItem, ShareLink, Status, StorageUsage, utcnow

log = logging.getLogger(__name__)

MEDIA = Machine(
    record="Media item (`MediaItem`, table `media`)",
    states={
        Status.PENDING: "Presigned (or, for a file in parts, its S3 multipart upload started); the bytes may or may "
        "not have arrived. Expires (TTL) after a day, two for a file in parts.",
        Status.UPLOADED: "Arrived: size and type checked, version pinned, bytes counted. Waiting for processing.",
        Status.READY: "Processed: renditions and metadata stored.",
        Status.REJECTED: "Refused with a reason; its original is gone (or quarantined) and its bytes given back.",
        Status.FAILED: "Processing kept failing; bytes stay counted; an operator may re-queue it.",
        Status.DELETING: "Being deleted: objects go first, the record last; bytes given back on entry.",
        Status.TRASHED: "In the trash (the owner's delete): hidden from the gallery, share links (410) and checksum "
        "lookups; `trashed_from` is the state a restore returns to; bytes stay counted; purged at `delete_at`, "
        "`TRASH_DAYS` after trashing (or the owner's own earlier date).",
    },
    transitions=(
        Transition(
            "create",
            (),
            Status.PENDING,
            ("owner",),
            "`id` does not exist (a file in parts: written after S3 started its multipart upload, with its id)",
            "a new id is drawn (uuid4 clash)",
        ),
        Transition(
            "arrive",
            (Status.PENDING,),
            Status.UPLOADED,
            ("complete", "event", "task"),
            "`status = pending`; in the same transaction usage `ADD size` if `bytes <= quota - size` or no row",
            "sees it done: answers with the item as it is now",
        ),
        Transition(
            "refuse",
            (Status.PENDING,),
            Status.REJECTED,
            ("complete", "event", "task"),
            "`status = pending` (the file never arrived, has another size or type, or passes the quota)",
            "sees it done; deletes nothing (the winner's original is not touched)",
        ),
        Transition(
            "attempt",
            (Status.UPLOADED, Status.READY),
            UNCHANGED,
            ("task", "event"),
            "`status = <state read>` and `version = <pinned>`; `ADD attempts 1`",
            "stops: the item was deleted, finished or changed meanwhile",
        ),
        Transition(
            "finish",
            (Status.UPLOADED, Status.READY),
            Status.READY,
            ("task", "event"),
            "`status = <state the run started from>` and `version = <pinned>`",
            "deletes the renditions it wrote, unless the winner is a ready twin with the same version",
        ),
        Transition(
            "reject",
            (Status.UPLOADED, Status.READY),
            Status.REJECTED,
            ("task", "event"),
            "`status = <state the run started from>` and `counted = true`; usage `ADD -size` if the row exists",
            "deletes nothing",
        ),
        Transition(
            "process_in_trash",
            (Status.TRASHED,),
            UNCHANGED,
            ("task", "event"),
            "`status = trashed` and `trashed_from = <state the run started from>` (and, to finish, `version = "
            "<pinned>`): a `finish`, `reject` or `fail` whose own write lost to `trash` sets `trashed_from` (ready, "
            "rejected, failed) instead of `status`, with everything else it writes (renditions; `reject` gives the "
            "bytes back)",
            "as `finish`, `reject` or `fail`: the item was restored, purged or changed meanwhile",
        ),
        Transition(
            "fail",
            (Status.UPLOADED,),
            Status.FAILED,
            ("task", "event"),
            "`status = uploaded` (after `PROCESSING_MAX_ATTEMPTS`, or when retries run out)",
            "nothing: the item got somewhere meanwhile",
        ),
        Transition(
            "requeue",
            (Status.FAILED, Status.READY, Status.UPLOADED),
            Status.UPLOADED,
            ("staff", "operator"),
            "`status = <state read>`; `attempts = 0` (ready stays ready, re-rendered by a forced run)",
            "nothing: it was deleted or changed meanwhile",
        ),
        Transition(
            "abandon",
            (Status.PENDING,),
            GONE,
            ("sweep",),
            "record deleted if `status = pending` and created before the cutoff (its multipart upload aborted and "
            "its objects deleted first)",
            "nothing: it arrived meanwhile (a late complete finds no file and is refused)",
        ),
        Transition(
            "cancel",
            (Status.PENDING,),
            GONE,
            ("owner",),
            "record deleted if `status = pending` and `upload_id = <the item's>` (after AbortMultipartUpload; its "
            "objects after the record)",
            "409: the upload was completed (or refused) meanwhile; deleting the item is the way to remove it",
        ),
        Transition(
            "trash",
            (Status.UPLOADED, Status.READY, Status.REJECTED, Status.FAILED),
            Status.TRASHED,
            ("owner",),
            "`status = <state read>` and `owner_id = <owner>`; sets `trashed_from`, `trashed_at`, `trash_owner` "
            "and `delete_at` (the earlier of `TRASH_DAYS` from now and the owner's own, kept in `kept_delete_at`)",
            'reads again and tries once more (processing moved it meanwhile); already trashed: 409 "already in the '
            'trash"; gone or deleting: 404',
        ),
        Transition(
            "restore",
            (Status.TRASHED,),
            REMEMBERED,
            ("owner",),
            "`status = trashed` and `trashed_from = <state read>`; back to `trashed_from` (ready, uploaded, "
            "rejected, failed), the trash attributes removed and `delete_at` the owner's own again (or none)",
            "reads again and tries once more (processing moved `trashed_from`); purged meanwhile (gone or deleting): "
            '404; not in the trash: 409 "not in the trash"',
        ),
        Transition(
            "start_delete",
            (
                Status.PENDING,
                Status.UPLOADED,
                Status.READY,
                Status.REJECTED,
                Status.FAILED,
                Status.DELETING,
                Status.TRASHED,
            ),
            Status.DELETING,
            ("owner", "staff", "expiry", "trash purge", "account deletion"),
            "`status = <state read>`; if counted, usage `ADD -size` in the same transaction",
            "reads again and tries once more (a processing run moved it meanwhile); the expiry and trash purge only "
            "if it is still due (a restore won)",
        ),
        Transition(
            "finish_delete",
            (Status.DELETING,),
            GONE,
            ("owner", "staff", "expiry", "trash purge", "account deletion"),
            "record deleted if `status = deleting` (after every object version is gone)",
            "nothing: another delete finished it",
        ),
        Transition(
            "edit",
            (Status.PENDING, Status.UPLOADED, Status.READY, Status.REJECTED, Status.FAILED, Status.TRASHED),
            UNCHANGED,
            ("owner",),
            "`owner_id = <owner>` and `status <> deleting`",
            "404: the item is gone",
        ),
        Transition(
            "favourite",
            (Status.PENDING, Status.UPLOADED, Status.READY, Status.REJECTED, Status.FAILED, Status.TRASHED),
            UNCHANGED,
            ("owner",),
            "`owner_id = <owner>` and `status <> deleting`; sets (or removes) `favourite_owner`, the by-favourite "
            "index's key",
            "404: the item is gone",
        ),
        Transition(
            "date",
            (Status.PENDING, Status.UPLOADED, Status.READY, Status.REJECTED, Status.FAILED, Status.TRASHED),
            UNCHANGED,
            ("operator",),
            "`id` exists, `shot_at` does not and `status <> deleting` (`manage.py search-backfill`, for items made "
            "before `shot_at`: EXIF taken_at, else created_at; and the camera from EXIF)",
            "nothing: processing dated it meanwhile, or it is being deleted",
        ),
        Transition(
            "count_download",
            (Status.UPLOADED, Status.READY),
            UNCHANGED,
            ("owner", "share link"),
            "`status in (uploaded, ready)` and `version = <pinned>`; `ADD downloads 1`",
            "404 or 409: the item is gone or not downloadable",
        ),
    ),
    notes=(
        "A state is held only by an existing record, so every conditional update above also refuses to recreate "
        "a deleted item (no ghost record holding only `{id, downloads: 1}`).",
        "`abandon` and `finish_delete` end the record: objects are deleted first, so a failure leaves the record "
        "and the next run (sweep, delete again) finishes the job.",
        "Attempts count per try of one pinned object version: `requeue` (admin button, `manage.py reprocess`) sets "
        "them to 0, so a failed item can be processed again.",
        "The stuck sweep writes nothing: it hands `uploaded` items older than `PROCESSING_STUCK_MINUTES` to "
        "processing again, whose `attempt` counts them, so a file that kills its worker still ends `failed`.",
        "Nothing is left behind, on this schedule: an abandoned upload's objects (every version) and record go at the "
        "hourly sweep once it is 6 hours old (a file in parts: a day, its multipart upload aborted first, as "
        "S3's lifecycle rule would), and S3's lifecycle rule deletes objects still tagged `pending` after 2 "
        "days (for records TTL removed first); a deleted item's original (every version), quarantined copy and "
        "renditions go at deletion, before its record; renditions written by a run that lost its final write are "
        "deleted by that run; a refused original at refusal (quarantined copies after 30 days, by lifecycle); "
        "overwritten or deleted versions after 30 days (lifecycle, noncurrent versions); parts of interrupted "
        "multipart uploads after 1 day (lifecycle).",
        "A file above `MULTIPART_THRESHOLD` is uploaded in parts: *complete* lists the parts S3 holds, joins them "
        "only if every part but the last has the item's part size and they add up to the declared size (else "
        "`refuse`, the multipart upload aborted), then makes the same `arrive` as any upload. Parts are never "
        "counted: the bytes are charged once, by `arrive`, like a POST upload's.",
        "An object version other than the pinned one (a re-POST of the same presigned fields after complete) is "
        "never processed or served; the S3 event for it deletes that version.",
        "The owner's delete is `trash` (a pending upload, having nothing to restore, is deleted at once). `Empty "
        "trash`, the deletion sweep (`delete_at` due on the by-deletion index) and account deletion end trashed "
        "items with `start_delete` and `finish_delete`, like any deletion; a restore that wins makes their "
        "`start_delete` lose, and they skip the item. A restore to `uploaded` hands the item to processing again.",
    ),
)

SHARE_LINK = Machine(
    record="Share link (`ShareLink`, table `share-links`)",
    states={
        "active": "Usable: not revoked, not expired, under its download limit.",
        "revoked": "The owner revoked it.",
        "expired": "Past `expires_at` (derived from the clock, never written).",
        "exhausted": "`downloads = max_downloads` (derived, never written).",
    },
    transitions=(
        Transition(
            "share",
            (),
            "active",
            ("owner",),
            "`digest` does not exist; the item is ready and the owner's; records `original` (the owner's choice) "
            "and what the link serves (`serves`, `copy_key`): the original, or without location a copy or the "
            "large rendition, both in the renditions bucket under the item's prefix",
        ),
        Transition(
            "download",
            ("active",),
            UNCHANGED,
            ("anyone with the link",),
            "`digest` exists, not revoked, `expires_at > now`, `downloads < max_downloads`; `ADD downloads 1`",
            "410 with the reason read back",
        ),
        Transition(
            "revoke", ("active", "expired", "exhausted"), "revoked", ("owner",), "`digest` exists", "404: it is gone"
        ),
    ),
    notes=(
        "Links are deleted with their item (`finish_delete`) and forgotten by TTL 30 days after expiry.",
        "A link's copy without location is written before the link, under the item's renditions prefix, so "
        "deleting the item removes it; if a delete ran meanwhile, `share` deletes the copy it just wrote and "
        "answers 404. The original is never modified.",
    ),
)

USAGE = Machine(
    record="Usage counter (`StorageUsage`, table `usage`)",
    states={"absent": "No counted item yet.", "counting": "`bytes` = the sum of the owner's counted items."},
    transitions=(
        Transition(
            "charge",
            ("absent", "counting"),
            "counting",
            ("complete", "event", "task"),
            "no row, or `bytes <= quota - size`; only inside the item's `arrive` transaction",
            "the upload is refused (`refuse`) with the figures",
        ),
        Transition(
            "give_back",
            ("counting",),
            UNCHANGED,
            ("task", "event", "owner", "staff", "expiry", "trash purge"),
            "the row exists; only inside the item's `reject` (in the trash too) or `start_delete` transaction",
            "the whole transaction is retried or fails: never half",
        ),
        Transition(
            "reconcile",
            ("absent", "counting"),
            "counting",
            ("operator", "schedule"),
            "`bytes = <value read before summing>` (or no row): a concurrent charge makes the fix wait a run",
            "reported as busy; the next run fixes it",
        ),
        Transition("forget", ("counting",), GONE, ("account deletion",), "none: the account's items are gone"),
    ),
    notes=(
        "Quarantined originals and avatars are not counted: a quarantined original belongs to a rejected item "
        "(bytes given back) and a lifecycle rule deletes it after 30 days; avatars are bounded by "
        "`AVATAR_MAX_SIZE` and only the live one and one pending are kept.",
    ),
)

MACHINES = (MEDIA, SHARE_LINK, USAGE)


class Lost(Exception):
    """A conditional write whose condition did not hold: another caller moved the record first."""


# --- Writes ---------------------------------------------------------------------------------------------------


def _update(item: MediaItem, actions: list, condition: Condition) -> None:
    try:
        item.update(actions=[*actions, MediaItem.updated_at.set(utcnow())], condition=condition)
    except UpdateError as exc:
        if condition_failed(exc):
            raise Lost(item.id) from None
        raise


def _in_state(*states: str) -> Condition:
    return MediaItem.status.is_in(*states) if len(states) > 1 else MediaItem.status == states[0]


def _pinned(item: MediaItem) -> Condition:
    # Items made before versions were pinned carry none; they match only themselves.
    if item.version_id is None:
        return MediaItem.version_id.does_not_exist()
    return MediaItem.version_id == item.version_id


def create(item: MediaItem) -> None:
    item.save(condition=MediaItem.id.does_not_exist())


def _arrival_actions(item: MediaItem, now: datetime) -> list:
    return [
        MediaItem.status.set(Status.UPLOADED),
        MediaItem.uploaded_at.set(now),
        MediaItem.detected_type.set(item.detected_type),
        MediaItem.etag.set(item.etag),
        MediaItem.version_id.set(item.version_id) if item.version_id else MediaItem.version_id.remove(),
        MediaItem.counted.set(True),
        MediaItem.attempts.set(0),
        MediaItem.expires_at.remove(),
        MediaItem.updated_at.set(now),
    ]


class QuotaFull(Exception):
    """`arrive` found no room: the item is still pending and the caller refuses it."""


def arrive(item: MediaItem) -> None:
    """pending -> uploaded and the owner's usage charged, in one transaction.

    `item` carries what the arrival check learned (detected_type, etag, version_id). Raises Lost when another
    caller moved the item first, QuotaFull when the bytes do not fit.
    """
    room = settings.USER_STORAGE_QUOTA - item.size
    usage_fits = StorageUsage.owner_id.does_not_exist() | (StorageUsage.bytes <= room)
    try:
        with transaction() as tx:
            tx.update(item, actions=_arrival_actions(item, utcnow()), condition=MediaItem.status == Status.PENDING)
            tx.update(StorageUsage(item.owner_id), actions=_charge(item.size), condition=usage_fits)
    except TransactWriteError as exc:
        item_reason, usage_reason = _reasons(exc, 2)
        if item_reason:
            raise Lost(item.id) from None
        if usage_reason:
            raise QuotaFull(item.id) from None
        raise
    item.status, item.counted, item.attempts = Status.UPLOADED, True, 0


def _reasons(exc: TransactWriteError, count: int) -> list[bool]:
    """For each member of a cancelled transaction, whether its own condition failed."""
    reasons = list(exc.cancellation_reasons or []) if exc.cause_response_code == "TransactionCanceledException" else []
    if not reasons:
        return [False] * count
    return [bool(r and r.code == "ConditionalCheckFailed") for r in reasons] + [False] * (count - len(reasons))


def refuse(item: MediaItem, reason: str) -> None:
    """pending -> rejected, before anything was counted."""
    _update(
        item,
        [MediaItem.status.set(Status.REJECTED), MediaItem.reason.set(reason), MediaItem.expires_at.remove()],
        MediaItem.status == Status.PENDING,
    )
    item.status, item.reason = Status.REJECTED, reason


def attempt(item: MediaItem) -> int:
    """Count one processing attempt on the pinned version, first, so a file that kills the worker cannot loop."""
    try:
        item.update(actions=[MediaItem.attempts.add(1)], condition=(MediaItem.status == item.status) & _pinned(item))
    except UpdateError as exc:
        if condition_failed(exc):
            raise Lost(item.id) from None
        raise
    return int(item.attempts)


def _trashed_from(state: str) -> Condition:
    return (MediaItem.status == Status.TRASHED) & (MediaItem.trashed_from == state)


def finish(item: MediaItem, started_from: str, actions: list) -> None:
    """uploaded (or ready, when forced) -> ready with everything the run learned.

    Trashed while it was processed (`process_in_trash`): it stays trashed, ready to come back with its renditions."""
    done = [MediaItem.processed_at.set(utcnow()), MediaItem.attempts.set(0), MediaItem.reason.remove()]
    done += [MediaItem.expires_at.remove(), *actions]
    try:
        _update(item, [MediaItem.status.set(Status.READY), *done], (MediaItem.status == started_from) & _pinned(item))
        item.status = Status.READY
    except Lost:
        _update(item, [MediaItem.trashed_from.set(Status.READY), *done], _trashed_from(started_from) & _pinned(item))
        item.status, item.trashed_from = Status.TRASHED, Status.READY


def _charge(size: int) -> list:
    return [StorageUsage.bytes.add(size), StorageUsage.changed_at.set(utcnow())]


def _give_back(owner_id: str, size: int) -> tuple[StorageUsage, list, Condition]:
    return StorageUsage(owner_id), _charge(-size), StorageUsage.owner_id.exists()


def reject(item: MediaItem, started_from: str, reason: str) -> None:
    """A processing run refuses the file: rejected, and its bytes given back, together."""
    actions = [MediaItem.reason.set(reason), MediaItem.counted.remove()]
    counted = MediaItem.counted == True  # noqa: E712
    try:
        _transact(item, [MediaItem.status.set(Status.REJECTED), *actions], (MediaItem.status == started_from) & counted)
        item.status = Status.REJECTED
    except Lost:  # trashed meanwhile (`process_in_trash`): restored, it comes back rejected
        _transact(item, [MediaItem.trashed_from.set(Status.REJECTED), *actions], _trashed_from(started_from) & counted)
        item.status, item.trashed_from = Status.TRASHED, Status.REJECTED
    item.reason, item.counted = reason, None


def _transact(item: MediaItem, actions: list, condition: Condition, *, give_back: bool = True) -> None:
    """The item's move and, with `give_back`, its bytes returned to the owner's usage: both or neither."""
    try:
        with transaction() as tx:
            tx.update(item, actions=[*actions, MediaItem.updated_at.set(utcnow())], condition=condition)
            if give_back:
                usage, usage_actions, usage_condition = _give_back(item.owner_id, item.size)
                tx.update(usage, actions=usage_actions, condition=usage_condition)
    except TransactWriteError as exc:
        item_failed, usage_failed = _reasons(exc, 2)
        if item_failed:
            raise Lost(item.id) from None
        if not usage_failed:
            raise
        # No usage row to give back to (forgotten by hand, say): move the item anyway; reconcile reports the drift.
        log.warning("no usage row for owner %s while giving back item %s", item.owner_id, item.id)
        _update(item, actions, condition)


def fail(media_id: str, reason: str) -> bool:
    """uploaded -> failed after the last attempt; False when the item got somewhere meanwhile (or is gone)."""
    item = MediaItem(media_id)
    for actions, condition in (
        ([MediaItem.status.set(Status.FAILED)], MediaItem.status == Status.UPLOADED),
        ([MediaItem.trashed_from.set(Status.FAILED)], _trashed_from(Status.UPLOADED)),  # `process_in_trash`
    ):
        try:
            _update(item, [*actions, MediaItem.reason.set(reason)], condition)
            return True
        except Lost:
            continue
    return False


def requeue(item: MediaItem) -> None:
    """An operator's re-queue: attempts start again; a failed item is uploaded again, a ready one stays ready."""
    target = Status.READY if item.status == Status.READY else Status.UPLOADED
    _update(
        item,
        [MediaItem.status.set(target), MediaItem.attempts.set(0), MediaItem.reason.remove()],
        MediaItem.status == item.status,
    )
    item.status, item.attempts = target, 0


def abandon(item: MediaItem) -> bool:
    """Forget a pending item the sweep found too old (its objects are already gone); False if it arrived meanwhile."""
    try:
        item.delete(condition=MediaItem.status == Status.PENDING)
    except DeleteError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def cancel(item: MediaItem) -> None:
    """The owner gives up a pending upload in parts (its multipart upload already aborted): the record goes."""
    try:
        item.delete(condition=(MediaItem.status == Status.PENDING) & (MediaItem.upload_id == item.upload_id))
    except DeleteError as exc:
        if condition_failed(exc):
            raise Lost(item.id) from None
        raise


def start_delete(item: MediaItem) -> None:
    """Any state -> deleting, giving the bytes back in the same transaction if they were counted.

    Processing runs lose their final write from here on, and clean up what they wrote.
    """
    if item.status == Status.DELETING:
        return
    counted = bool(item.counted)
    actions = [MediaItem.status.set(Status.DELETING)]
    condition = MediaItem.status == item.status
    if counted:
        actions.append(MediaItem.counted.remove())
        condition &= MediaItem.counted == True  # noqa: E712
    else:
        condition &= MediaItem.counted.does_not_exist()
    _transact(item, actions, condition, give_back=counted)
    item.status, item.counted = Status.DELETING, None


def trash(item: MediaItem) -> None:
    """The owner's delete: into the trash, remembering the state a restore returns to; purged `TRASH_DAYS` on
    (or at the owner's own earlier `delete_at`) by the deletion sweep, through the by-deletion index."""
    now = utcnow()
    own = item.delete_at
    purge_at = min(own, now + timedelta(days=settings.TRASH_DAYS)) if own else now + timedelta(days=settings.TRASH_DAYS)
    actions = [
        MediaItem.status.set(Status.TRASHED),
        MediaItem.trashed_from.set(item.status),
        MediaItem.trashed_at.set(now),
        MediaItem.trash_owner.set(item.owner_id),
        MediaItem.delete_at.set(purge_at),
        MediaItem.deletion_due.set(DELETION_DUE),
        MediaItem.kept_delete_at.set(own) if own else MediaItem.kept_delete_at.remove(),
    ]
    _update(item, actions, (MediaItem.status == item.status) & (MediaItem.owner_id == item.owner_id))
    item.trashed_from, item.status, item.trashed_at, item.trash_owner = item.status, Status.TRASHED, now, item.owner_id
    item.delete_at, item.deletion_due, item.kept_delete_at = purge_at, DELETION_DUE, own


def restore(item: MediaItem) -> None:
    """Out of the trash, back to the state it left (or the one processing finished it in meanwhile)."""
    target, own = item.trashed_from, item.kept_delete_at
    actions = [
        MediaItem.status.set(target),
        MediaItem.trashed_from.remove(),
        MediaItem.trashed_at.remove(),
        MediaItem.trash_owner.remove(),
        MediaItem.kept_delete_at.remove(),
    ]
    if own:
        actions.append(MediaItem.delete_at.set(own))
    else:
        actions += [MediaItem.delete_at.remove(), MediaItem.deletion_due.remove()]
    _update(item, actions, _trashed_from(target))
    item.status, item.trashed_from, item.trashed_at, item.trash_owner = target, None, None, None
    item.kept_delete_at = None
    item.delete_at, item.deletion_due = own, DELETION_DUE if own else None


def finish_delete(item: MediaItem) -> None:
    try:
        item.delete(condition=MediaItem.status == Status.DELETING)
    except DeleteError as exc:
        if not condition_failed(exc):
            raise


def edit(item: MediaItem, *, owner_id: str, name: str, caption: str) -> None:
    _update(
        item,
        [MediaItem.name.set(name), MediaItem.caption.set(caption)],
        (MediaItem.owner_id == owner_id) & (MediaItem.status != Status.DELETING),
    )
    item.name, item.caption = name, caption


def favourite(item: MediaItem, *, owner_id: str, on: bool) -> None:
    action = MediaItem.favourite_owner.set(owner_id) if on else MediaItem.favourite_owner.remove()
    _update(item, [action], (MediaItem.owner_id == owner_id) & (MediaItem.status != Status.DELETING))
    item.favourite_owner = owner_id if on else None


def date(item: MediaItem, *, shot_at: datetime, camera: str | None) -> bool:
    """Give an item made before `shot_at` existed its date taken (and camera); False if it already has one."""
    actions = [MediaItem.shot_at.set(shot_at), MediaItem.camera.set(camera)]
    try:
        condition = MediaItem.id.exists() & MediaItem.shot_at.does_not_exist() & (MediaItem.status != Status.DELETING)
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    item.shot_at, item.camera = shot_at, camera
    return True


def count_download(item: MediaItem) -> None:
    try:
        item.update(
            actions=[MediaItem.downloads.add(1)], condition=_in_state(Status.UPLOADED, Status.READY) & _pinned(item)
        )
    except UpdateError as exc:
        if condition_failed(exc):
            raise Lost(item.id) from None
        raise


# --- Share links ----------------------------------------------------------------------------------------------


def share(link: ShareLink) -> None:
    link.save(condition=ShareLink.digest.does_not_exist())


def count_share_download(link: ShareLink, now: datetime) -> None:
    condition = ShareLink.digest.exists() & ShareLink.revoked_at.does_not_exist() & (ShareLink.expires_at > now)
    if link.max_downloads is not None:
        condition &= ShareLink.downloads < link.max_downloads
    try:
        link.update(actions=[ShareLink.downloads.add(1)], condition=condition)
    except UpdateError as exc:
        if condition_failed(exc):
            raise Lost(link.digest) from None
        raise


def revoke(link: ShareLink) -> None:
    try:
        link.update(actions=[ShareLink.revoked_at.set(utcnow())], condition=ShareLink.digest.exists())
    except UpdateError as exc:
        if condition_failed(exc):
            raise Lost(link.digest) from None
        raise


# --- Usage ----------------------------------------------------------------------------------------------------


def reconcile(owner_id: str, *, observed: int | None, actual: int) -> bool:
    """Set the owner's usage to `actual` if it still holds `observed` (None: no row); False if it moved."""
    condition = StorageUsage.owner_id.does_not_exist() if observed is None else (StorageUsage.bytes == observed)
    try:
        StorageUsage(owner_id).update(
            actions=[StorageUsage.bytes.set(actual), StorageUsage.changed_at.set(utcnow())], condition=condition
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def forget_usage(owner_id: str) -> None:
    StorageUsage(owner_id).delete()
