import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.contrib.auth.models import User
from django.test import override_settings

from mediahub import dynamo
from mediahub.aws import client as aws_client
from mediahub.errors import Conflict
from profiles import lifecycle, services, tokens
from profiles.models import AccountDeletion, ApiToken, Profile
from tests.conftest import create_and_upload, jpeg_bytes, post_json, upload_to_s3
from tests.profiles.test_api import change_avatar, keys
from uploads import imaging, processing, quota, sharing, storage
from uploads.models import MediaItem, Status, utcnow

pytestmark = pytest.mark.django_db

UID = "41"


def uploaded_avatar(user_id: str = UID, data: bytes | None = None) -> str:
    ticket = services.avatar_presign(user_id, content_type="image/jpeg")
    assert upload_to_s3(ticket, data or jpeg_bytes(300, 300)).status_code in (200, 204)
    return ticket["key"]


def objects_of(key: str) -> list[str]:
    """An avatar upload's original and renditions, wherever they are."""
    stem = key.rsplit(".", 1)[0]
    return keys(settings.UPLOADS_BUCKET, stem) + keys(settings.RENDITIONS_BUCKET, f"{stem}/")


def all_objects_of(key: str) -> list[str]:
    stem = key.rsplit(".", 1)[0]
    return [key] + [f"{stem}/{size}.{ext}" for size in ("256", "64") for ext in ("jpg", "webp")]


def count_decodes(monkeypatch, delay: float = 0.0) -> list[int]:
    """Count imaging.render calls (every avatar decode goes through it); `delay` widens the race window."""
    real, calls, lock = imaging.render, [0], threading.Lock()

    def counting(*args, **kwargs):
        with lock:
            calls[0] += 1
        threading.Event().wait(delay)
        return real(*args, **kwargs)

    monkeypatch.setattr(imaging, "render", counting)
    return calls


def during_decode(monkeypatch, action) -> None:
    """Run `action` once, while the first run is between decoding and its write (the race window)."""
    real, done = processing.fetch_and_render, []

    def racing(*args, **kwargs):
        fetched = real(*args, **kwargs)
        if not done:
            done.append(True)
            action()
        return fetched

    monkeypatch.setattr(processing, "fetch_and_render", racing)


# --- Avatars: the live one is never lost ------------------------------------------------------------------


def test_a_superseded_upload_never_deletes_the_live_avatar(monkeypatch):
    live = uploaded_avatar()
    services.avatar_complete(UID, key=live)
    old = uploaded_avatar(data=jpeg_bytes(300, 300, "red"))
    during_decode(monkeypatch, lambda: services.avatar_presign(UID, content_type="image/png"))

    with pytest.raises(Conflict, match="no longer the one in progress"):
        services.avatar_complete(UID, key=old)
    profile = Profile.get(UID)
    assert profile.avatar_key == live
    assert objects_of(live) == all_objects_of(live)  # the live avatar's objects are all there
    assert objects_of(old) == []  # the loser deleted what it wrote, and only that


def test_only_the_winner_deletes_the_previous_avatar():
    first = uploaded_avatar()
    services.avatar_complete(UID, key=first)
    second = uploaded_avatar(data=jpeg_bytes(300, 300, "red"))
    assert services.avatar_complete(UID, key=second).avatar_key == second
    assert objects_of(first) == []
    assert objects_of(second) == all_objects_of(second)


def test_a_run_whose_stale_claim_was_retaken_leaves_the_winners_objects(monkeypatch):
    key = uploaded_avatar()

    def slow_run_overtaken():
        # This run took longer than CLAIM_TIMEOUT: another complete retakes the claim and finishes first.
        old = utcnow() - lifecycle.CLAIM_TIMEOUT - timedelta(seconds=1)
        Profile(UID).update(actions=[Profile.avatar_claimed_at.set(old)])
        assert services.avatar_complete(UID, key=key).avatar_key == key

    during_decode(monkeypatch, slow_run_overtaken)
    assert services.process_avatar(key)[0] == services.SUPERSEDED
    assert Profile.get(UID).avatar_key == key
    assert objects_of(key) == all_objects_of(key)


def test_a_refusal_that_lost_to_a_newer_upload_deletes_only_its_own_file(monkeypatch):
    bad = uploaded_avatar(data=b"<!doctype html>")
    newer = []

    def superseded_then_refused(*args, **kwargs):
        newer.append(uploaded_avatar())
        raise imaging.BadMedia("Not a picture.")

    monkeypatch.setattr(processing, "fetch_and_render", superseded_then_refused)
    assert services.process_avatar(bad)[0] == services.SUPERSEDED
    profile = Profile.get(UID)
    assert (profile.pending_avatar_key, profile.avatar_error) == (newer[0], None)
    assert objects_of(bad) == []
    assert objects_of(newer[0]) == [newer[0]]


# --- Avatars: each upload is decoded once ------------------------------------------------------------------


def test_parallel_completes_of_one_upload_decode_it_once(monkeypatch):
    decodes = count_decodes(monkeypatch, delay=0.5)
    key = uploaded_avatar()
    start = threading.Barrier(4)

    def complete(_):
        start.wait()
        return services.avatar_complete(UID, key=key).avatar_key

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(complete, range(4)))
    assert decodes == [1]
    assert answers == [key] * 4  # the three that lost the claim waited for the winner's outcome


def test_the_s3_event_and_the_complete_process_an_upload_once(monkeypatch):
    from uploads import events

    decodes = count_decodes(monkeypatch, delay=0.5)
    key = uploaded_avatar()
    record = {"s3": {"bucket": {"name": settings.UPLOADS_BUCKET}, "object": {"key": key, "eTag": "e"}}}
    with ThreadPoolExecutor(2) as pool:
        event = pool.submit(events.handle_s3_event, {"Records": [record]})
        complete = pool.submit(services.avatar_complete, UID, key=key)
        assert complete.result().avatar_key == key
        assert event.result()["outcomes"][0][1] in ("ready", services.BUSY, "duplicate")
    assert decodes == [1]


def test_a_crashed_claim_is_retaken_after_the_timeout():
    key = uploaded_avatar()
    long_ago = utcnow() - lifecycle.CLAIM_TIMEOUT - timedelta(seconds=1)
    assert lifecycle.claim(UID, key, "crashed-run", now=long_ago)
    assert services.avatar_complete(UID, key=key).avatar_key == key


def test_a_complete_behind_a_run_still_processing_says_so(monkeypatch):
    monkeypatch.setattr(services, "AVATAR_WAIT_SECONDS", 0.5)
    key = uploaded_avatar()
    assert lifecycle.claim(UID, key, "a-slow-run")
    with pytest.raises(Conflict, match="still being processed"):
        services.avatar_complete(UID, key=key)


def test_a_complete_behind_a_run_that_refused_the_file_gets_the_reason(monkeypatch):
    key = uploaded_avatar(data=b"<!doctype html>")

    def the_other_run_refuses():
        assert lifecycle.refuse(UID, key, "other", "Not a picture, says the other run.")

    monkeypatch.setattr(services, "AVATAR_POLL_SECONDS", 0.1)
    assert lifecycle.claim(UID, key, "other")
    threading.Timer(0.3, the_other_run_refuses).start()
    with pytest.raises(services.AvatarRefused, match="says the other run"):
        services.avatar_complete(UID, key=key)


def test_a_storage_fault_hands_the_upload_back_for_a_retry(monkeypatch):
    key = uploaded_avatar()
    real = storage.download_original

    def unavailable(*args, **kwargs):
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "later"}}, "GetObject")

    monkeypatch.setattr(storage, "download_original", unavailable)
    with pytest.raises(processing.TransientError):
        services.process_avatar(key)
    assert Profile.get(UID).avatar_state == lifecycle.PENDING
    monkeypatch.setattr(storage, "download_original", real)
    assert services.process_avatar(key)[0] == "ready"


def test_clearing_waits_for_an_upload_in_progress():
    live = uploaded_avatar()
    services.avatar_complete(UID, key=live)
    assert lifecycle.claim(UID, uploaded_avatar(), "a-run")
    with pytest.raises(Conflict, match="being processed"):
        services.avatar_clear(UID)
    assert objects_of(live) == all_objects_of(live)


# --- The avatar sweep ---------------------------------------------------------------------------------------


def test_the_sweep_deletes_superseded_and_orphaned_avatars_and_keeps_the_live_and_pending_ones():
    live = uploaded_avatar()
    services.avatar_complete(UID, key=live)
    abandoned = uploaded_avatar()  # uploaded, never completed, then superseded
    pending = uploaded_avatar()
    orphan = uploaded_avatar("42")
    Profile("42").delete()  # an account deleted while its upload was in flight

    assert services.sweep_avatars(older_than=timedelta(0)) == 2
    assert keys(settings.UPLOADS_BUCKET, "avatars/") == sorted([live, pending])
    assert objects_of(live) == all_objects_of(live)
    assert objects_of(abandoned) == objects_of(orphan) == []


def test_the_sweep_spares_uploads_younger_than_a_day():
    services.avatar_complete(UID, key=uploaded_avatar())
    uploaded_avatar()
    uploaded_avatar()
    assert services.sweep_avatars() == 0
    assert len(keys(settings.UPLOADS_BUCKET, "avatars/")) == 3


# --- Deleting an account ------------------------------------------------------------------------------------


def account_with_everything(client, user: User, settings) -> str:
    """Media ready (with a share link), refused at complete, refused in processing (quarantined), pending; avatars
    current, replaced and superseded; usage; an API token."""
    settings.REJECTED_ORIGINALS = "quarantine"
    client.force_login(user)
    # In lambda mode complete enqueues nothing (a session's worker may be running): the test plays the S3 event.
    with override_settings(PROCESSING_MODE="lambda"):
        _fill_account(client, user)
    return str(user.pk)


def _fill_account(client, user: User) -> None:
    uid = str(user.pk)

    def completed(data: bytes) -> MediaItem:
        body = create_and_upload(client, data)
        post_json(client, f"/api/media/{body['id']}/complete")
        item = MediaItem.get(body["id"])
        if item.status == Status.UPLOADED:
            processing.process_object(settings.UPLOADS_BUCKET, item.object_key)
        return MediaItem.get(body["id"])

    ready = completed(jpeg_bytes(400, 300))
    assert ready.status == Status.READY
    sharing.share_create(owner_id=uid, media_id=ready.id, expires_at=utcnow() + timedelta(days=1), max_downloads=2)
    assert completed(b"<!doctype html>not a picture").status == Status.REJECTED
    assert completed(jpeg_bytes(200, 200)[:400]).status == Status.REJECTED  # damaged: quarantined
    assert keys(settings.UPLOADS_BUCKET, f"quarantine/uploads/{uid}/")
    create_and_upload(client, jpeg_bytes())  # pending: uploaded, never completed
    change_avatar(client, jpeg_bytes(300, 300, "red"))
    change_avatar(client, jpeg_bytes(300, 300, "blue"))  # replaces the red one
    uploaded_avatar(uid)  # superseded by the next, never completed
    uploaded_avatar(uid)
    tokens.token_create(user, name="script", scope=ApiToken.WRITE)
    assert quota.bytes_stored(uid) == ready.size  # the usage row


def assert_nothing_left(uid: str) -> None:
    """No object version or delete marker of the account in either bucket, no row of it in any table."""
    s3 = aws_client("s3")
    for bucket in (settings.UPLOADS_BUCKET, settings.RENDITIONS_BUCKET):
        listing = s3.list_object_versions(Bucket=bucket)
        left = [v["Key"] for v in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]]
        assert not [key for key in left if uid in key.split("/")[1:3]], (bucket, left)
    for model in dynamo.registry:
        rows = [row for row in model.scan() if uid in (getattr(row, "owner_id", None), getattr(row, "user_id", None))]
        assert rows == [], model.__name__
    assert not User.objects.filter(pk=int(uid)).exists()
    assert not ApiToken.objects.filter(user_id=int(uid)).exists()
    assert not AccountDeletion.objects.filter(user_id=int(uid)).exists()


def test_the_deletion_job_leaves_nothing_of_the_account_and_nothing_of_others_goes(
    client, alice, bob, settings, queued
):
    client.force_login(bob)
    bobs = create_and_upload(client, jpeg_bytes(), name="bob's")
    uid = account_with_everything(client, alice, settings)
    before = aws_client("s3").list_object_versions(Bucket=settings.UPLOADS_BUCKET, Prefix=f"avatars/{uid}/")
    assert before.get("DeleteMarkers")  # the replaced avatar left a noncurrent version behind its delete marker

    services.account_delete_request(alice)
    assert not User.objects.get(pk=alice.pk).is_active
    assert services.account_delete_run(alice.pk) == "settling"  # the media went; the last pass waits
    assert list(MediaItem.by_owner.query(uid)) == []
    services.DELETION_SETTLE, settle = timedelta(0), services.DELETION_SETTLE
    try:
        assert services.account_delete_run(alice.pk) == "deleted"
    finally:
        services.DELETION_SETTLE = settle
    assert_nothing_left(uid)
    assert MediaItem.get(bobs["id"]).name == "bob's"


def test_a_deletion_failing_half_way_finishes_when_retried(client, alice, settings, monkeypatch, queued):
    uid = account_with_everything(client, alice, settings)
    monkeypatch.setattr(services, "DELETION_SETTLE", timedelta(0))
    services.account_delete_request(alice)
    real, calls = storage.delete_versions, []

    def failing_on_the_third(bucket, prefix, **kwargs):
        calls.append(prefix)
        if len(calls) == 3:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "later"}}, "ListObjectVersions")
        return real(bucket, prefix, **kwargs)

    monkeypatch.setattr(storage, "delete_versions", failing_on_the_third)
    with pytest.raises(ClientError):
        services.account_delete_run(alice.pk)
    # The user row is still there (the transaction rolled back), deactivated, its deletion recorded.
    assert AccountDeletion.objects.filter(user_id=alice.pk).exists()
    assert not User.objects.get(pk=alice.pk).is_active
    assert services.account_delete_run(alice.pk) == "deleted"
    assert_nothing_left(uid)


def test_a_large_account_is_deleted_in_runs_that_each_stop_within_their_budget(client, alice, monkeypatch, queued):
    client.force_login(alice)
    for _ in range(3):
        create_and_upload(client, jpeg_bytes())
    monkeypatch.setattr(services, "DELETION_SETTLE", timedelta(0))
    services.account_delete_request(alice)
    monkeypatch.setattr(services, "JOB_SECONDS", 0)  # every run deletes one item, then hands over
    outcomes = []
    while not outcomes or outcomes[-1] != "deleted":
        outcomes.append(services.account_delete_job(alice.pk))
    assert outcomes == ["more", "more", "more", "deleted"]
    assert len(queued) == 4  # the request's job, then one more after each run that ran out of time


def test_the_sweep_resumes_a_stalled_deletion(alice, queued):
    services.account_delete_request(alice)
    assert services.resume_account_deletions() == 0  # just queued: not stalled
    AccountDeletion.objects.filter(user=alice).update(touched_at=utcnow() - services.DELETION_STALL)
    assert services.resume_account_deletions() == 1
    assert queued[-1] == (services.DELETE_TASK, services.DELETE_LAMBDA_TASK, alice.pk)


def test_deleting_a_user_directly_still_leaves_nothing(client, alice, settings):
    uid = account_with_everything(client, alice, settings)
    User.objects.get(pk=alice.pk).delete()  # the admin's way: the pre_delete receiver, synchronously
    assert_nothing_left(uid)
