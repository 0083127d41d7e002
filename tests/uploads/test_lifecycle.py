"""The state tables of uploads/lifecycle.py, walked row by row against DynamoDB (moto's server over HTTP).

For every transition, the caller read the item in one of the row's source states; meanwhile the record may have
moved to any state (or been deleted). The write must succeed exactly when the record is still as the row requires,
and a refused write must leave the record as it was: no transition can move an item from a state its row does
not list, and none can recreate a deleted record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from mediahub import lifecycle as machines
from uploads import lifecycle
from uploads.models import MediaItem, ShareLink, Status, StorageUsage, utcnow

ROOT = Path(__file__).resolve().parents[2]
OWNER = "41"
SIZE = 1000
VERSION = "v-pinned"
COUNTED_STATES = {Status.UPLOADED, Status.READY, Status.FAILED, Status.TRASHED}
TRASHED_FROM = Status.UPLOADED  # a trashed record was trashed while it waited for processing: the racy case


def fields(state: str, version: str) -> dict:
    """What a record in `state` carries: counted bytes in the counted states, a pinned version after arrival."""
    return {
        "owner_id": OWNER,
        "name": "n",
        "file_name": "f.jpg",
        "object_key": "k",
        "declared_type": "image/jpeg",
        "detected_type": "image/jpeg",
        "size": SIZE,
        "status": state,
        "version_id": None if state == Status.PENDING else version,
        "counted": True if state in COUNTED_STATES else None,
        "upload_id": "the-items-multipart-upload",
        **(
            {"trashed_from": TRASHED_FROM, "trashed_at": utcnow(), "trash_owner": OWNER, "deletion_due": "due"}
            if state == Status.TRASHED
            else {}
        ),
    }


def record(state: str, *, version: str = VERSION) -> MediaItem:
    """An item stored in `state`, and an owner with room to spare."""
    item = MediaItem(uuid.uuid4().hex, **fields(state, version))
    item.save()
    StorageUsage(OWNER, bytes=10 * SIZE).save()
    return item


def as_read(item: MediaItem, state: str) -> MediaItem:
    """The caller's copy: what it read before the record moved on (a pending read carries the arrival's finds)."""
    copy = MediaItem(item.id, **fields(state, VERSION))
    if state == Status.PENDING:
        copy.version_id, copy.etag = VERSION, "e"
    return copy


PERFORM: dict[str, Callable[[MediaItem, str], object]] = {
    "arrive": lambda item, read: lifecycle.arrive(item),
    "refuse": lambda item, read: lifecycle.refuse(item, "no"),
    "attempt": lambda item, read: lifecycle.attempt(item),
    "finish": lambda item, read: lifecycle.finish(item, read, []),
    "reject": lambda item, read: lifecycle.reject(item, read, "no"),
    "fail": lambda item, read: lifecycle.fail(item.id, "no") or (_ for _ in ()).throw(lifecycle.Lost(item.id)),
    "requeue": lambda item, read: lifecycle.requeue(item),
    "abandon": lambda item, read: lifecycle.abandon(item) or (_ for _ in ()).throw(lifecycle.Lost(item.id)),
    "cancel": lambda item, read: lifecycle.cancel(item),
    "start_delete": lambda item, read: lifecycle.start_delete(item),
    "finish_delete": lambda item, read: _finish_delete(item),
    "edit": lambda item, read: lifecycle.edit(item, owner_id=OWNER, name="new", caption=""),
    "count_download": lambda item, read: lifecycle.count_download(item),
    "trash": lambda item, read: lifecycle.trash(item),
    "restore": lambda item, read: lifecycle.restore(item),
    # A processing run that started from `uploaded` finishes while the item is in the trash.
    "process_in_trash": lambda item, read: lifecycle.finish(item, TRASHED_FROM, []),
    "favourite": lambda item, read: lifecycle.favourite(item, owner_id=OWNER, on=True),
    "date": lambda item, read: (
        lifecycle.date(item, shot_at=item.created_at, camera=None) or (_ for _ in ()).throw(lifecycle.Lost(item.id))
    ),
}


def _finish_delete(item: MediaItem) -> None:
    lifecycle.finish_delete(item)
    if MediaItem.count(item.id, consistent_read=True):
        raise lifecycle.Lost(item.id)


def expected_to_succeed(transition: machines.Transition, read: str, actual: str) -> bool:
    """What the row's condition says for a caller that read `read` while the record is in `actual`."""
    if transition.name in ("edit", "favourite", "date"):
        return actual != Status.DELETING
    if transition.name == "count_download":
        return actual in transition.source
    if transition.name == "process_in_trash":  # finish: in the trash, or (not trashed after all) as usual
        return actual in (Status.TRASHED, TRASHED_FROM)
    if transition.name in ("finish", "reject", "fail") and actual == Status.TRASHED:  # process_in_trash
        return read == TRASHED_FROM
    return actual == read


def snapshot(item_id: str) -> dict | None:
    try:
        stored = MediaItem.get(item_id, consistent_read=True)
    except MediaItem.DoesNotExist:
        return None
    return {k: v for k, v in stored.attribute_values.items() if k != "updated_at"}


CASES = [
    (t.name, read, actual)
    for t in lifecycle.MEDIA.transitions
    if t.source
    for read in t.source
    for actual in Status.ALL
    if not (t.name == "start_delete" and read == Status.DELETING)  # nothing to write: already deleting
]


@pytest.mark.parametrize(("name", "read", "actual"), CASES)
def test_each_transition_holds_only_from_the_states_its_row_allows(name, read, actual):
    transition = lifecycle.MEDIA.get(name)
    stored = record(actual)
    before = snapshot(stored.id)
    try:
        PERFORM[name](as_read(stored, read), read)
        succeeded = True
    except lifecycle.Lost:
        succeeded = False
    assert succeeded == expected_to_succeed(transition, read, actual), (name, read, actual)
    if not succeeded:
        assert snapshot(stored.id) == before  # a refused write changed nothing


@pytest.mark.parametrize("name", sorted(n for n in PERFORM if n not in ("abandon", "finish_delete")))
def test_no_transition_recreates_a_deleted_item(name):
    transition = lifecycle.MEDIA.get(name)
    stored = record(transition.source[0])
    stored.delete()
    with pytest.raises(lifecycle.Lost):
        PERFORM[name](as_read(stored, transition.source[0]), transition.source[0])
    assert snapshot(stored.id) is None


@pytest.mark.parametrize("name", ["attempt", "finish", "count_download"])
def test_writes_on_the_pinned_version_refuse_another_version(name):
    stored = record(Status.UPLOADED if name != "count_download" else Status.READY, version="v-swapped-in")
    read = stored.status
    with pytest.raises(lifecycle.Lost):
        PERFORM[name](as_read(stored, read), read)


def test_create_refuses_an_existing_id():
    stored = record(Status.READY)
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        lifecycle.create(as_read(stored, Status.PENDING))
    assert MediaItem.get(stored.id).status == Status.READY


def test_arrive_charges_and_give_backs_return_the_bytes_in_the_same_write():
    item = record(Status.PENDING)
    StorageUsage(OWNER).delete()
    lifecycle.arrive(as_read(item, Status.PENDING))
    assert StorageUsage.get(OWNER).bytes == SIZE
    lifecycle.reject(as_read(item, Status.UPLOADED), Status.UPLOADED, "no")
    assert StorageUsage.get(OWNER).bytes == 0
    assert MediaItem.get(item.id).counted is None


def test_arrive_past_the_quota_is_quota_full_and_leaves_the_item_pending(settings):
    settings.USER_STORAGE_QUOTA = SIZE * 10
    item = record(Status.PENDING)  # usage already at 10 * SIZE
    with pytest.raises(lifecycle.QuotaFull):
        lifecycle.arrive(as_read(item, Status.PENDING))
    assert MediaItem.get(item.id).status == Status.PENDING
    assert StorageUsage.get(OWNER).bytes == SIZE * 10


def test_start_delete_gives_back_only_counted_bytes():
    counted, refused = record(Status.READY), record(Status.REJECTED)
    lifecycle.start_delete(as_read(refused, Status.REJECTED))
    assert StorageUsage.get(OWNER).bytes == 10 * SIZE
    lifecycle.start_delete(as_read(counted, Status.READY))
    assert StorageUsage.get(OWNER).bytes == 9 * SIZE


def test_a_give_back_without_a_usage_row_still_moves_the_item_and_makes_no_ghost_row():
    item = record(Status.READY)
    StorageUsage(OWNER).delete()
    lifecycle.start_delete(as_read(item, Status.READY))
    assert MediaItem.get(item.id).status == Status.DELETING
    assert StorageUsage.count(OWNER) == 0


def test_share_link_counters_never_create_a_ghost_link():
    now = utcnow()
    link = ShareLink("d" * 64, media_id="m", owner_id=OWNER, expires_at=now, forget_at=now)
    with pytest.raises(lifecycle.Lost):
        lifecycle.count_share_download(link, now)
    with pytest.raises(lifecycle.Lost):
        lifecycle.revoke(link)
    assert ShareLink.count("d" * 64) == 0


def test_reconcile_sets_the_count_only_if_it_did_not_move():
    StorageUsage(OWNER, bytes=5).save()
    assert not lifecycle.reconcile(OWNER, observed=4, actual=0)
    assert lifecycle.reconcile(OWNER, observed=5, actual=0)
    assert StorageUsage.get(OWNER).bytes == 0


def test_every_machine_names_only_its_own_states():
    for machine in machines.machines():
        for transition in machine.transitions:
            assert machine.allows(transition.name, transition.source[0] if transition.source else None)


def test_the_state_machine_document_is_what_the_code_declares():
    assert (ROOT / machines.DOCUMENT).read_text() == machines.document(), "run: manage.py statemachines"
