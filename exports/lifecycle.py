"""The life of a ZIP job: every state, every move, its condition (the lifecycle-table style of uploads/lifecycle.py).

This module owns every DynamoDB write that changes a `ZipJob`. A build holds the job by a `runner` id it drew when it
started: every write of a build is conditional on `state = building` and `runner = <its own>`, so of two deliveries
of one task (Celery acks late, Lambda retries an asynchronous invocation) exactly one builds; the other stops at its
first write and deletes what it made.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition

from exports.models import State, ZipJob
from mediahub.dynamo import condition_failed
from mediahub.lifecycle import GONE, UNCHANGED, Machine, Transition
from uploads.models import utcnow

JOB = Machine(
    record="ZIP job (`ZipJob`, table `zip-jobs`)",
    states={
        State.QUEUED: "Made by the owner's request (the selection checked: theirs, ready, within the limits); the "
        "build is queued on a worker or an asynchronous Lambda invocation.",
        State.BUILDING: "A run holds it (`runner`) and streams the originals into a ZIP in S3, writing its progress "
        "(and `heartbeat_at`) every couple of seconds.",
        State.READY: "The ZIP is in the renditions bucket under `exports/<owner>/<job>/`; the page offers a "
        "60-second link to it until `expires_at`.",
        State.FAILED: "Ended with a reason for a person; no ZIP is kept.",
        State.EXPIRED: "Past `expires_at`: no link is offered; S3's lifecycle rule deletes the ZIP.",
    },
    transitions=(
        Transition("create", (), State.QUEUED, ("owner",), "`id` does not exist", "a new id is drawn (uuid4 clash)"),
        Transition(
            "start",
            (State.QUEUED,),
            State.BUILDING,
            ("task", "event"),
            "`state = queued`; sets `runner = <a new id>`, `heartbeat_at = now`",
            "stops: another delivery of the task started it (a duplicate builds nothing)",
        ),
        Transition(
            "take_over",
            (State.BUILDING,),
            State.BUILDING,
            ("task", "event"),
            "`state = building` and `runner = <the one read>` and `heartbeat_at < now - ZIP_LEASE_SECONDS` (the "
            "holder died: a worker lost, a Lambda killed); sets a new `runner`",
            "stops: another run took it over first",
        ),
        Transition(
            "progress",
            (State.BUILDING,),
            UNCHANGED,
            ("task", "event"),
            "`state = building` and `runner = <its own>`; sets `bytes_done`, `items_done`, `heartbeat_at`",
            "aborts its multipart upload and stops: a run that took over (or the sweep) owns the job",
        ),
        Transition(
            "finish",
            (State.BUILDING,),
            State.READY,
            ("task", "event"),
            "`state = building` and `runner = <its own>`; sets `object_key`, `zip_size`, `skipped`, `expires_at`",
            "deletes the ZIP it completed (its key holds its own runner id, so it is never the winner's)",
        ),
        Transition(
            "fail",
            (State.BUILDING,),
            State.FAILED,
            ("task", "event"),
            "`state = building` and `runner = <its own>`; sets `reason` (storage failed, over the time limit, "
            "nothing left to zip)",
            "nothing: the job is another run's",
        ),
        Transition(
            "give_up",
            (State.QUEUED, State.BUILDING),
            State.FAILED,
            ("sweep", "owner"),
            "`state = <state read>` and (`heartbeat_at` or, queued, `created_at`) `< now - ZIP_LEASE_SECONDS`: "
            "its task was lost or its run died and no redelivery took it over; or the owner's request could not "
            "queue it",
            "nothing: a run got to it meanwhile",
        ),
        Transition(
            "expire",
            (State.READY,),
            State.EXPIRED,
            ("sweep", "owner"),
            "`state = ready` and `expires_at <= now` (the sweep, or the owner's page reading it past expiry)",
            "nothing: already expired",
        ),
        Transition(
            "forget",
            State.ALL,
            GONE,
            ("TTL", "account deletion"),
            "none: DynamoDB's TTL on `forget_at` (a week), or the owner's account is being deleted",
        ),
    ),
    notes=(
        "Every update is conditional on a state, which only an existing record holds, so no write recreates a "
        "job TTL or account deletion removed.",
        "ZIP objects live under `exports/` in the renditions bucket, which a lifecycle rule expires after "
        "`ZIP_KEEP_DAYS` (1 day); `expires_at` is set a little earlier, so a link is never offered for an object "
        "that is gone. A run that loses leaves at most an incomplete multipart upload, aborted by the bucket's "
        "1-day rule, or deletes its completed ZIP itself.",
    ),
)

MACHINES = (JOB,)

# How long DynamoDB keeps a job after it was made (queued) or its link expired (ready), for the downloads page.
FORGET_AFTER = timedelta(days=7)


class Lost(Exception):
    """A conditional write whose condition did not hold: another run (or the sweep) moved the job first."""


def _update(job: ZipJob, actions: list, condition: Condition) -> None:
    try:
        job.update(actions=[*actions, ZipJob.updated_at.set(utcnow())], condition=condition)
    except UpdateError as exc:
        if condition_failed(exc):
            raise Lost(job.id) from None
        raise


def _held_by(runner: str) -> Condition:
    return (ZipJob.state == State.BUILDING) & (ZipJob.runner == runner)


def create(job: ZipJob) -> None:
    job.save(condition=ZipJob.id.does_not_exist())


def _hold(runner: str, now: datetime) -> list:
    return [
        ZipJob.state.set(State.BUILDING),
        ZipJob.runner.set(runner),
        ZipJob.heartbeat_at.set(now),
        ZipJob.bytes_done.set(0),
        ZipJob.items_done.set(0),
    ]


def start(job: ZipJob, runner: str) -> None:
    now = utcnow()
    _update(job, _hold(runner, now), ZipJob.state == State.QUEUED)
    job.state, job.runner, job.heartbeat_at = State.BUILDING, runner, now


def take_over(job: ZipJob, runner: str, *, stale_before: datetime) -> None:
    now = utcnow()
    condition = (ZipJob.state == State.BUILDING) & (ZipJob.heartbeat_at < stale_before)
    condition &= ZipJob.runner == job.runner if job.runner else ZipJob.runner.does_not_exist()
    _update(job, _hold(runner, now), condition)
    job.runner, job.heartbeat_at = runner, now


def progress(job: ZipJob, *, bytes_done: int, items_done: int) -> None:
    now = utcnow()
    actions = [ZipJob.bytes_done.set(bytes_done), ZipJob.items_done.set(items_done), ZipJob.heartbeat_at.set(now)]
    _update(job, actions, _held_by(job.runner))
    job.bytes_done, job.items_done, job.heartbeat_at = bytes_done, items_done, now


def finish(
    job: ZipJob,
    *,
    object_key: str,
    zip_size: int,
    items_done: int,
    bytes_done: int,
    skipped: list,
    expires_at: datetime,
) -> None:
    now = utcnow()
    actions = [
        ZipJob.state.set(State.READY),
        ZipJob.object_key.set(object_key),
        ZipJob.zip_size.set(zip_size),
        ZipJob.bytes_done.set(bytes_done),
        ZipJob.items_done.set(items_done),
        ZipJob.skipped.set(skipped),
        ZipJob.ready_at.set(now),
        ZipJob.expires_at.set(expires_at),
        ZipJob.forget_at.set(expires_at + FORGET_AFTER),
    ]
    _update(job, actions, _held_by(job.runner))
    job.state, job.object_key, job.zip_size, job.skipped, job.expires_at = (
        State.READY,
        object_key,
        zip_size,
        skipped,
        expires_at,
    )


def fail(job: ZipJob, reason: str, *, skipped: list | None = None) -> None:
    actions = [ZipJob.state.set(State.FAILED), ZipJob.reason.set(reason)]
    if skipped is not None:
        actions.append(ZipJob.skipped.set(skipped))
    _update(job, actions, _held_by(job.runner))
    job.state, job.reason = State.FAILED, reason


def give_up(job: ZipJob, reason: str, *, stale_before: datetime) -> bool:
    """queued or building -> failed when nothing has moved it for the lease; False if a run got to it meanwhile."""
    if job.state == State.QUEUED:
        condition = (ZipJob.state == State.QUEUED) & (ZipJob.created_at < stale_before)
    else:
        condition = (ZipJob.state == State.BUILDING) & (ZipJob.heartbeat_at < stale_before)
    try:
        _update(job, [ZipJob.state.set(State.FAILED), ZipJob.reason.set(reason)], condition)
    except Lost:
        return False
    job.state, job.reason = State.FAILED, reason
    return True


def expire(job: ZipJob, now: datetime) -> bool:
    try:
        _update(job, [ZipJob.state.set(State.EXPIRED)], (ZipJob.state == State.READY) & (ZipJob.expires_at <= now))
    except Lost:
        return False
    job.state = State.EXPIRED
    return True


def forget(job: ZipJob) -> None:
    job.delete()
