"""Items made before search existed: dated and indexed per user, by Query, never a Scan; safe to run twice."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management import call_command

from search.query import Search, search
from tests.search.helpers import dynamo_calls
from tests.search.test_query import fake_item
from uploads.models import MediaItem


def test_backfill_dates_and_indexes_old_items_with_queries_only(alice, bob, local_aws):
    owner = str(alice.pk)
    old = fake_item(owner, 1, name="Ancient harbour", shot_at=datetime(2020, 1, 1, tzinfo=UTC))
    MediaItem.get(old.id).update(actions=[MediaItem.shot_at.remove(), MediaItem.camera.remove()])
    MediaItem.get(old.id).update(
        actions=[MediaItem.exif.set({"make": "Nikon", "model": "Z 6", "taken_at": "2019-05-04T10:00:00"})]
    )
    from search.models import SearchTerm

    with SearchTerm.batch_write() as batch:  # as if indexed never
        for row in SearchTerm.query(owner):
            batch.delete(row)
    assert search(Search(owner_id=owner, words=("harbour",))).items == []
    start = len(local_aws.recorder.calls)
    call_command("search-backfill", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert "Scan" not in dynamo_calls(local_aws, start)
    item = MediaItem.get(old.id)
    assert item.shot_at == datetime(2019, 5, 4, 10, tzinfo=UTC) and item.camera == "Nikon Z 6"
    assert [i.id for i in search(Search(owner_id=owner, words=("harbour",))).items] == [old.id]
    call_command("search-backfill", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert MediaItem.get(old.id).shot_at == item.shot_at
