"""Every row of the ZIP job's table, including the losing races, and the sweep that ends what no run holds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exports import lifecycle, services
from exports.models import State, ZipJob
from mediahub.lifecycle import document
from uploads.models import utcnow

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(alice, ready_item, queued) -> ZipJob:
    return services.start_export(owner_id=str(alice.pk), ids=[ready_item(alice, b"j").id]).job


def test_the_machine_is_in_the_state_machines_document():
    assert "## ZIP job (`ZipJob`, table `zip-jobs`)" in document()
    assert all(f"| {t.name} |" in document() for t in lifecycle.JOB.transitions)


def test_start_is_won_once(job):
    lifecycle.start(ZipJob.get(job.id), "first")
    with pytest.raises(lifecycle.Lost):
        lifecycle.start(job, "second")  # read while queued: its condition no longer holds
    assert ZipJob.get(job.id).runner == "first"


def test_only_the_holder_writes_progress_finishes_or_fails(job):
    holder, other = ZipJob.get(job.id), ZipJob.get(job.id)
    lifecycle.start(holder, "holder")
    other.runner = "impostor"
    for write in (
        lambda: lifecycle.progress(other, bytes_done=1, items_done=1),
        lambda: lifecycle.fail(other, "no"),
        lambda: lifecycle.finish(
            other, object_key="k", zip_size=1, items_done=1, bytes_done=1, skipped=[], expires_at=utcnow()
        ),
    ):
        with pytest.raises(lifecycle.Lost):
            write()
    lifecycle.progress(holder, bytes_done=1, items_done=0)
    assert ZipJob.get(job.id).state == State.BUILDING


def test_a_take_over_needs_the_lease_to_be_over(job):
    held = ZipJob.get(job.id)
    lifecycle.start(held, "alive")
    with pytest.raises(lifecycle.Lost):
        lifecycle.take_over(ZipJob.get(job.id), "newcomer", stale_before=utcnow() - timedelta(seconds=120))
    lifecycle.take_over(ZipJob.get(job.id), "newcomer", stale_before=utcnow() + timedelta(seconds=1))
    assert ZipJob.get(job.id).runner == "newcomer"


def test_no_write_recreates_a_forgotten_job(job):
    lifecycle.forget(ZipJob.get(job.id))
    with pytest.raises(lifecycle.Lost):
        lifecycle.start(job, "late")
    assert not lifecycle.expire(job, utcnow())
    assert not lifecycle.give_up(job, "late", stale_before=utcnow() + timedelta(days=1))
    assert ZipJob.count(job.id) == 0


def test_the_sweep_fails_what_no_run_holds_and_expires_what_is_past_its_time(
    alice, ready_item, queued, settings, monkeypatch
):
    settings.ZIP_LEASE_SECONDS = 0
    settings.ZIP_KEEP_HOURS = 0
    settings.ZIP_MAX_ACTIVE = 10
    lost, dead, alive, done = (
        services.start_export(owner_id=str(alice.pk), ids=[ready_item(alice, b"s").id]).job for _ in range(4)
    )
    lifecycle.start(dead, "dead")
    lifecycle.start(alive, "alive")
    lifecycle.start(done, "done")
    lifecycle.finish(done, object_key="k", zip_size=1, items_done=1, bytes_done=1, skipped=[], expires_at=utcnow())

    held = ZipJob.get(alive.id)
    original = lifecycle.give_up

    def alive_writes_first(job, reason, *, stale_before):  # a heartbeat lands between the Query and the write
        if job.id == alive.id:
            lifecycle.progress(held, bytes_done=1, items_done=0)
            stale_before = utcnow() - timedelta(seconds=60)
        return original(job, reason, stale_before=stale_before)

    monkeypatch.setattr(lifecycle, "give_up", alive_writes_first)
    assert services.sweep() == 3
    states = {j.id: ZipJob.get(j.id).state for j in (lost, dead, alive, done)}
    assert states == {lost.id: "failed", dead.id: "failed", alive.id: "building", done.id: "expired"}
    assert ZipJob.get(dead.id).reason == "The build stopped before it finished. Please try again."


def test_an_account_deletion_forgets_its_zip_jobs(alice, job):
    services.forget_owner(str(alice.pk))
    assert list(ZipJob.by_owner.query(str(alice.pk))) == []
