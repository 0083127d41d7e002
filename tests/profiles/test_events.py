from datetime import timedelta

import pytest

from profiles import events, services
from tests.profiles.test_services import assert_nothing_left, uploaded_avatar

pytestmark = pytest.mark.django_db

SCHEDULED = {"detail-type": "Scheduled Event"}


def test_the_scheduled_functions_accept_their_event():
    assert events.sweep_avatars(SCHEDULED, None) == 0
    assert events.resume_account_deletions(SCHEDULED, None) == 0


def test_the_asynchronous_invocation_deletes_the_account(alice, monkeypatch, queued):
    monkeypatch.setattr(services, "DELETION_SETTLE", timedelta(0))
    uploaded_avatar(str(alice.pk))
    services.account_delete_request(alice)
    assert events.delete_account(alice.pk) == "deleted"
    assert events.delete_account(alice.pk) == "gone"  # a repeated invocation finds nothing to do
    assert_nothing_left(str(alice.pk))
