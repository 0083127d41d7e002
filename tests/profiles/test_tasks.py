from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from django.conf import settings

from mediahub.celery import app as celery_app
from profiles import services, tasks
from tests.profiles.test_services import account_with_everything, assert_nothing_left
from uploads import storage

pytestmark = pytest.mark.django_db


def test_the_profile_tasks_in_the_beat_schedule_are_registered_and_run():
    names = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].startswith("profiles.")]
    assert sorted(names) == ["profiles.resume_account_deletions", "profiles.sweep_avatars"]
    celery_app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    for name in names:
        assert celery_app.tasks[name].apply().get() == 0


def test_the_celery_task_retries_storage_faults_until_the_account_is_gone(client, alice, settings, monkeypatch, queued):
    uid = account_with_everything(client, alice, settings)
    monkeypatch.setattr(services, "DELETION_SETTLE", timedelta(0))
    services.account_delete_request(alice)
    real, calls = storage.delete_item_objects, []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) <= 2:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "later"}}, "DeleteObjects")
        return real(**kwargs)

    monkeypatch.setattr(storage, "delete_item_objects", flaky)
    assert tasks.delete_account.apply(args=[alice.pk]).get() == "deleted"
    assert_nothing_left(uid)
