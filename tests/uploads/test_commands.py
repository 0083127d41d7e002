from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.uploads.test_processing import uploaded_item
from uploads import dispatch
from uploads.models import MediaItem, Status
from uploads.processing import media_id_from_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    ids = []
    monkeypatch.setattr(dispatch, "enqueue", lambda key, **kw: ids.append((media_id_from_key(key), kw)))
    return ids


def ready_item(owner_id: str = "7") -> MediaItem:
    item = uploaded_item(b"x")
    item.update(actions=[MediaItem.status.set(Status.READY), MediaItem.owner_id.set(owner_id)])
    return item


def run(*args) -> str:
    out = StringIO()
    call_command("reprocess", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_reprocess_requeues_ready_items_with_force_and_summarises(queued):
    items = [ready_item() for _ in range(3)]
    uploaded_item(b"still pending")
    out = run()
    assert sorted(queued) == sorted((item.id, {"force": True}) for item in items)
    assert "Re-queued 3 item(s)" in out
    assert "--skip-processed-after" in out


def test_reprocess_filters_by_owner_and_status(queued, alice):
    mine = ready_item(str(alice.pk))
    ready_item("999")
    run("--owner", "alice")
    assert queued == [(mine.id, {"force": True})]


def test_reprocess_resumes_by_skipping_items_processed_since(queued):
    from uploads.models import utcnow

    done, todo = ready_item(), ready_item()
    done.update(actions=[MediaItem.processed_at.set(utcnow())])
    out = run("--skip-processed-after", "2000-01-01")
    assert [i for i, _ in queued] == [todo.id]
    assert "skipped 1" in out


def test_reprocess_explains_bad_arguments():
    with pytest.raises(CommandError, match="No user named"):
        run("--owner", "nobody")
    with pytest.raises(CommandError, match="not a date"):
        run("--older-than", "yesterday-ish")
