"""Both ways a build runs: a real Celery worker process (local), and the Lambda adapter that an asynchronous
invocation of the function runs (production), through the same dispatch as processing (uploads/dispatch.py)."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from exports import events, services, tasks
from exports.models import State, ZipJob
from mediahub.celery import app
from tests.conftest import post_json
from uploads import dispatch

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_zip_started_through_the_api_is_built_by_a_real_worker(alice, ready_item, celery_worker):
    client = Client()
    client.force_login(alice)
    items = [ready_item(alice, b"w" * 3000, "a.jpg"), ready_item(alice, b"v" * 2000, "b.jpg")]
    job_id = post_json(client, "/api/exports", {"ids": [i.id for i in items]}).json()["id"]
    deadline = time.monotonic() + 30
    while (body := client.get(f"/api/exports/{job_id}").json())["state"] in ("queued", "building"):
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    assert (body["state"], body["itemsDone"], body["bytesDone"]) == ("ready", 2, 5000)


def test_the_celery_tasks_are_registered_under_the_names_dispatch_and_beat_send(settings):
    assert tasks.build.name == services.BUILD_TASK in app.tasks
    assert settings.CELERY_BEAT_SCHEDULE["sweep-zip-jobs"]["task"] == tasks.sweep.name


def test_on_lambda_the_build_runs_in_an_asynchronous_invocation_of_the_function(
    alice, ready_item, settings, monkeypatch
):
    settings.PROCESSING_MODE = "lambda"
    sent = []
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "mediahub-production")

    class Lambda:
        def invoke(self, **kwargs):
            sent.append(kwargs)

    monkeypatch.setattr(dispatch, "client", lambda service: Lambda())
    job = services.start_export(owner_id=str(alice.pk), ids=[ready_item(alice, b"l" * 10).id]).job
    (call,) = sent
    message = json.loads(call["Payload"])
    assert (call["FunctionName"], call["InvocationType"]) == ("mediahub-production", "Event")
    assert (message["task_path"], message["args"]) == ("exports.events.build", [job.id])

    # What zappa.asynchronous.route_lambda_task then runs in the invoked function:
    assert events.build(*message["args"]) == "ready"
    assert events.build(*message["args"]) == "duplicate"  # Lambda's retry of the same invocation
    assert ZipJob.get(job.id).state == State.READY


def test_outside_lambda_the_lambda_mode_builds_at_once(alice, ready_item, settings):
    settings.PROCESSING_MODE = "lambda"  # invoke_self runs the task here and now, as Zappa's @task does locally
    job = services.start_export(owner_id=str(alice.pk), ids=[ready_item(alice, b"n").id]).job
    assert ZipJob.get(job.id).state == State.READY


def test_a_job_that_cannot_be_queued_fails_at_once_with_a_reason(alice, ready_item, monkeypatch):
    def broken(*args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(services.dispatch, "run_job", broken)
    client = Client()
    client.force_login(alice)
    answer = post_json(client, "/api/exports", {"ids": [ready_item(alice, b"d").id]})
    assert answer.status_code == 503
    (job,) = ZipJob.by_owner.query(str(alice.pk))
    assert (job.state, job.reason) == (State.FAILED, "The ZIP could not be queued. Please try again.")
